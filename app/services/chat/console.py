"""The agents' console (C2): who may read a conversation, taking, transferring and closing
one, the visitor's rating, and what the console shows beside a chat. Each change is told to
the consoles and the widget once committed (announce.py)."""
from flask_babel import gettext as _
from sqlalchemy import update

from app.extensions import db
from app.models import ChatConversation, ConversationStatus, NovaUser, Queue, StatusCategory, Ticket
from app.security import scopes
from app.services import ServiceError, clock, search, tickets
from app.services.chat.announce import tell_conversation
from app.services.chat.common import ConversationNotFound, clean_body
from app.services.chat.messages import system_message
from app.services.chat.presence import active_counts


def access_conversation(user, conversation_id):
    try:
        return scopes.access_conversation(db.session, user, int(conversation_id))
    except (scopes.NotVisible, TypeError, ValueError):
        raise ConversationNotFound()


def accept(agent, conversation):
    """The agent takes a waiting conversation, within their limit of simultaneous chats.
    Returns the system message that says so."""
    if not scopes.answers_chats(agent):
        raise ConversationNotFound()
    if conversation.status != ConversationStatus.WAITING:
        raise ServiceError(_("Cette conversation a déjà été prise en charge ou est terminée."))
    if active_counts([agent.id]).get(agent.id, 0) >= agent.chat_limit:
        raise ServiceError(_("Vous avez atteint votre limite de %(n)s conversations simultanées.", n=agent.chat_limit))
    taken = db.session.execute(
        update(ChatConversation)
        .where(ChatConversation.id == conversation.id, ChatConversation.status == ConversationStatus.WAITING)
        .values(status=ConversationStatus.ACTIVE, agent_id=agent.id, accepted_on=clock.now())
    ).rowcount
    if not taken:  # another agent was quicker, perhaps on another process
        raise ServiceError(_("Cette conversation a déjà été prise en charge ou est terminée."))
    db.session.refresh(conversation)
    message = system_message(conversation, _("%(name)s a rejoint la conversation.", name=agent.full_name))
    tell_conversation(conversation)
    return message


def transfer(actor, conversation, agent_id=None, queue_id=None):
    """Hand a conversation to another agent (who must be able to take it), or back to the
    waiting list of a queue."""
    if not scopes.answers_chats(actor):
        raise ConversationNotFound()
    if conversation.status not in ConversationStatus.OPEN:
        raise ServiceError(_("Cette conversation est terminée."))
    if conversation.agent_id not in (None, actor.id) and not scopes.watches_every_chat(actor):
        raise ServiceError(_("Seul l'agent de la conversation ou un superviseur peut la transférer."))
    if agent_id:
        target = db.session.get(NovaUser, tickets.as_id(agent_id))
        if target is None or not target.active or not scopes.answers_chats(target):
            raise ServiceError(_("Agent inconnu."))
        if active_counts([target.id]).get(target.id, 0) >= target.chat_limit:
            raise ServiceError(_("%(name)s a atteint sa limite de conversations simultanées.", name=target.full_name))
        conversation.agent_id, conversation.status = target.id, ConversationStatus.ACTIVE
        conversation.accepted_on = conversation.accepted_on or clock.now()
        text = _("Conversation transférée à %(name)s.", name=target.full_name)
    else:
        queue = db.session.get(Queue, tickets.as_id(queue_id)) if queue_id else None
        if queue_id and (queue is None or not queue.active):
            raise ServiceError(_("File inconnue."))
        conversation.agent_id, conversation.status, conversation.queue = None, ConversationStatus.WAITING, queue
        text = _("Conversation remise en attente (%(queue)s).", queue=queue.name) if queue else _("Conversation remise en attente.")
    db.session.flush()
    message = system_message(conversation, text)
    tell_conversation(conversation)
    return message


def close(conversation, agent=None):
    """Either side ends the conversation; the visitor may then rate it. Returns the system
    message that says so, or None when it had already ended."""
    if conversation.status not in ConversationStatus.OPEN:
        return None
    if agent is not None and conversation.agent_id != agent.id and not scopes.watches_every_chat(agent):
        raise ServiceError(_("Seul l'agent de la conversation ou un superviseur peut la clôturer."))
    conversation.status, conversation.closed_on = ConversationStatus.CLOSED, clock.now()
    text = _("%(name)s a clôturé la conversation.", name=agent.full_name) if agent is not None else _("Le visiteur a quitté la conversation.")
    message = system_message(conversation, text)
    tell_conversation(conversation)
    return message


def rate(conversation, score, comment=None):
    """The visitor's rating at the end (feeds the satisfaction figures)."""
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise ServiceError(_("Choisissez une note de 1 à 5."))
    if conversation.status in ConversationStatus.OPEN:
        raise ServiceError(_("Vous pourrez noter la conversation une fois terminée."))
    conversation.rating = score
    conversation.rating_comment = clean_body(comment, required=False)[:1000] or None
    conversation.rated_on = clock.now()


def live_conversations(user):
    return (
        db.session.query(ChatConversation)
        .filter(scopes.live_conversations_filter(user))
        .order_by(ChatConversation.started_on)
        .limit(500)
        .all()
    )


def context_for(user, conversation):
    """Beside the chat: the organisation, the visitor's open tickets and past conversations,
    each through the reader's scopes."""
    open_tickets = db.session.query(Ticket).filter(
        scopes.tickets_filter(user),
        Ticket.organisation_id == conversation.organisation_id,
        Ticket.status_category.in_(StatusCategory.ACTIVE),
    )
    past = db.session.query(ChatConversation).filter(
        scopes.conversations_filter(user), ChatConversation.id != conversation.id, ChatConversation.organisation_id == conversation.organisation_id
    )
    if conversation.visitor_id:
        open_tickets = open_tickets.filter(Ticket.requester_id == conversation.visitor_id)
        past = past.filter(ChatConversation.visitor_id == conversation.visitor_id)
    elif conversation.visitor_email:
        open_tickets = open_tickets.filter(Ticket.requester_email == conversation.visitor_email)
        past = past.filter(ChatConversation.visitor_email == conversation.visitor_email)
    else:
        open_tickets, past = open_tickets.filter(False), past.filter(False)
    return {
        "open_tickets": open_tickets.order_by(Ticket.created_on.desc()).limit(10).all(),
        "past_conversations": past.order_by(ChatConversation.started_on.desc()).limit(10).all(),
    }


def articles_for_reply(conversation, query, limit=8):
    """Knowledge-base articles an agent may cite in this conversation: only what the visitor
    may read (their account's audience, or the public for anyone else)."""
    query = (query or "").strip()[:200]
    if len(query) < 3:
        return []
    reader = conversation.visitor if conversation.visitor is not None and conversation.visitor.active else None
    return search.suggest(reader, query, limit=limit)
