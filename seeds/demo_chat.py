"""A few live-chat conversations of the last days, made through the chat service with the
clock set back: a chat answered and rated, one that became a ticket, a message left while
nobody was available. The console's history and the dashboard's chat figures show them."""
from datetime import timedelta

from app.extensions import db
from app.models import ChatChannel, ChatConversation, NovaUser
from app.services import chat, clock, notifications
from app.views.chat import DEMO_CHANNEL_KEY

CHATS = [
    # (days ago, visitor e-mail, question, agent's replies and visitor's answers, rating, to a ticket)
    (1, "client@credit-solidaire.sn", "Bonjour, comment relancer l'export comptable du mois ?",
     ["Bonjour ! Menu Comptabilité → Exports, puis « Relancer » sur la ligne du mois.", "Merci, c'est bon.", "Avec plaisir, bonne journée."], 5, False),
    (2, "comptable@credit-solidaire.sn", "La clôture journalière s'arrête sur ERR-2041 depuis ce matin.",
     ["Je regarde. Quelle agence est concernée ?", "L'agence de Thiès.", "Je crée un ticket pour l'équipe de niveau 2, vous serez tenue informée par e-mail."], 4, True),
]


def load_demo_chat():
    channel = db.session.query(ChatChannel).filter_by(public_key=DEMO_CHANNEL_KEY).one_or_none()
    if channel is None or db.session.query(ChatConversation.id).first() is not None:
        return "Demo chats not loaded."
    agent = db.session.query(NovaUser).filter_by(email="agent1@novalead.com").one()
    now = clock.now()
    with notifications.silenced():
        for days, email, question, lines, rating, to_ticket in CHATS:
            visitor = db.session.query(NovaUser).filter_by(email=email).one()
            identity = chat.Visitor(identified=True, external_id=f"demo-{visitor.id}", name=visitor.full_name, email=email, user_id=visitor.id, organisation_id=visitor.organisation_id)
            moment = now - timedelta(days=days, hours=2)
            with clock.frozen(moment):
                conversation, _token, _message = chat.start_conversation(channel, identity, question)
            with clock.frozen(moment + timedelta(seconds=40)):
                chat.accept(agent, conversation)
            for n, line in enumerate(lines):
                with clock.frozen(moment + timedelta(minutes=1 + n)):
                    if n % 2 == 0:
                        chat.agent_message(agent.id, agent.full_name, conversation.id, line)
                    else:
                        chat.visitor_message(conversation.id, visitor.full_name, line)
            with clock.frozen(moment + timedelta(minutes=6)):
                if to_ticket:
                    chat.to_ticket(agent, conversation, "Clôture journalière bloquée (ERR-2041), agence de Thiès")
                chat.close(conversation, agent=agent)
                chat.rate(conversation, rating, "Rapide et efficace." if rating == 5 else "")
        with clock.frozen(now - timedelta(hours=20)):
            anonymous = chat.Visitor(identified=False, organisation_id=channel.organisation_id)
            chat.leave_message(channel, anonymous, "Bonsoir, je souhaite être rappelée pour une démonstration du module mobile.", name="Aminata Sy", email="aminata.sy@exemple.org")
    db.session.commit()
    return f"Demo chats: {db.session.query(ChatConversation).count()}."
