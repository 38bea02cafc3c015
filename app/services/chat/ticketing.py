"""A conversation becomes a ticket (C3, C4): a new ticket from its transcript, the transcript
added to an existing one, or (nobody to answer) the visitor's message left as a ticket."""
from flask_babel import gettext as _

from app.extensions import db
from app.formatting import local_datetime
from app.models import ChatFile, ChatMessage, ConversationStatus, Ticket
from app.security import scopes
from app.services import ServiceError, clock, tickets
from app.services.chat.announce import tell_conversation
from app.services.chat.common import SYSTEM, VISITOR, ChatRefused, ConversationNotFound, clean_body
from app.services.chat.messages import messages_after, open_conversation, system_message


def transcript(conversation):
    """The conversation as text, for a ticket's history."""
    lines = [_("Conversation du %(when)s avec %(visitor)s", when=local_datetime(conversation.started_on), visitor=conversation.visitor_label), ""]
    for message in messages_after(conversation, 0, limit=10000):
        who = message.author_name or (_("Système") if message.author_kind == SYSTEM else "—")
        text = message.body
        if message.file is not None:
            text = (text + " " if text else "") + _("[fichier : %(name)s]", name=message.file.filename)
        lines.append(f"[{local_datetime(message.created_on)}] {who} : {text}")
    return "\n".join(lines)[: tickets.BODY_MAX]


def _chat_files(conversation):
    return db.session.query(ChatFile).filter_by(conversation_id=conversation.id).order_by(ChatFile.id).all()


def _title_from(conversation):
    first = db.session.query(ChatMessage).filter_by(conversation_id=conversation.id, author_kind=VISITOR).order_by(ChatMessage.seq).first()
    text = " ".join((first.body if first else "").split())
    return (text[:120] + "…") if len(text) > 120 else (text or _("Conversation en direct"))


def to_ticket(actor, conversation, title=None):
    """C3: a ticket for the conversation's organisation and visitor, its transcript (and
    files) as the first message; the conversation keeps the link."""
    if not scopes.answers_chats(actor) and not scopes.sees_internal_notes(actor):
        raise ConversationNotFound()
    if conversation.ticket_id:
        raise ServiceError(_("Cette conversation est déjà liée au ticket %(number)s.", number=conversation.ticket.number))
    ticket = tickets.create_ticket_from_chat(
        actor,
        conversation.organisation,
        conversation.visitor,
        conversation.visitor_email,
        (title or "").strip()[: tickets.TITLE_MAX] or _title_from(conversation),
        transcript(conversation),
        _chat_files(conversation),
        acknowledge=True,
    )
    return ticket, _linked(conversation, ticket, _("Ticket %(number)s créé à partir de cette conversation.", number=ticket.number))


def attach_to_ticket(actor, conversation, reference):
    """C3: the transcript added to an existing ticket of the same organisation."""
    if not scopes.answers_chats(actor) and not scopes.sees_internal_notes(actor):
        raise ConversationNotFound()
    reference = str(reference or "").strip()
    query = db.session.query(Ticket).filter(scopes.tickets_filter(actor), Ticket.organisation_id == conversation.organisation_id)
    by_number = Ticket.number == reference.upper()
    by_id = reference.isascii() and reference.isdigit() and len(reference) < 12
    ticket = query.filter(by_number | (Ticket.id == int(reference)) if by_id else by_number).first() if reference else None
    if ticket is None:
        raise ServiceError(_("Aucun ticket de ce client ne porte ce numéro."))
    tickets.add_transcript(actor, ticket, transcript(conversation), _chat_files(conversation))
    return ticket, _linked(conversation, ticket, _("Conversation ajoutée au ticket %(number)s.", number=ticket.number))


def _linked(conversation, ticket, text):
    """The conversation keeps the link; both sides are told (the note, the new state)."""
    conversation.ticket = ticket
    message = system_message(conversation, text)
    tell_conversation(conversation)
    return message


def leave_message(channel, visitor, body, name=None, email=None, language="fr"):
    """C4: nobody can answer; the visitor's message becomes a ticket (channel chat) whose
    answers go to their e-mail. The conversation is kept, marked offline, with the link (no
    console lists it: there is nobody to take it)."""
    conversation, _token, _message = open_conversation(channel, visitor, body, language, name=name, email=email)
    if not conversation.visitor_email and conversation.visitor_id is None:
        raise ChatRefused(_("Indiquez votre adresse e-mail pour recevoir la réponse."), {"email": "required"})
    conversation.status, conversation.closed_on = ConversationStatus.OFFLINE, clock.now()
    # The acknowledgement goes only to an address the partner vouched for: an anonymous
    # visitor could otherwise make NovaDesk mail any address with their text.
    ticket = tickets.create_ticket_from_chat(
        None, conversation.organisation, conversation.visitor, conversation.visitor_email, _title_from(conversation), clean_body(body), [],
        acknowledge=visitor.identified,
    )
    conversation.ticket = ticket
    return conversation, ticket
