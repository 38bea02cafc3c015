"""A ticket's messages (T7, T10, C3): public replies and internal notes, from the site, the
API, an e-mail or a chat transcript. A reply moves the status as the workflow says (an agent's
first answer opens a new ticket, a client's answer resumes a waiting one)."""
from flask_babel import gettext as _

from app.extensions import db
from app.models import Channel, StatusCategory, TicketMessage
from app.services import ServiceError, clock, notifications, sla, thanks, webhooks
from app.services.tickets.common import MESSAGE, NOTE, TicketNotFound, can_work, default_status, publish_change, record_event, touch
from app.services.tickets.files import attach, record_refused_files, store_acceptable_files, store_files
from app.services.tickets.status import change_status, set_status
from app.services.tickets.text import clean_body


def add_message(actor, ticket, body, internal=False, files=()):
    """A public reply, or an internal note (staff and commercials only)."""
    if internal and not can_work(actor):
        raise TicketNotFound()  # a partner cannot even learn that notes exist
    body = clean_body(body, interactive=True)
    if ticket.merged_into_id:
        raise ServiceError(_("Ce ticket a été fusionné dans %(number)s : répondez sur celui-ci.", number=ticket.merged_into.number))
    stored = store_files(files)
    message = add_to_ticket(actor, ticket, body, internal, stored)
    if not internal:
        notifications.replied(ticket, message, actor)
    return message


def add_message_then(actor, ticket, body, *, internal=False, files=(), then=None):
    """« Envoyer et mettre en attente » / « Envoyer et résoudre »: the message, then the ticket
    moved to the default status of category `then` (if it is not there already), in one
    transaction: a refused status leaves no message either."""
    message = add_message(actor, ticket, body, internal=internal, files=files)
    if then and ticket.status_category != then:
        change_status(actor, ticket, default_status(then).id)
    return message


def add_message_from_mail(sender, sender_email, ticket, body, files, source_mail, in_reply_to=None):
    """A reply that came by e-mail, from an account or from the bare address of the requester."""
    body = clean_body(body, interactive=False)
    stored, refused = store_acceptable_files(files)
    kept = thanks.keeps_resolved(body, has_attachment=bool(files))
    if ticket.status_category == StatusCategory.CLOSED and not kept:  # the intake decided it may reopen
        set_status(sender, ticket, default_status(StatusCategory.OPEN, last=True))
    message = add_to_ticket(sender, ticket, body, False, stored, author_email=None if sender else sender_email, source_mail=source_mail, has_attachment=bool(files))
    message.channel = Channel.EMAIL
    record_refused_files(ticket, refused)
    notifications.replied(ticket, message, sender, in_reply_to=in_reply_to)
    return message


def add_transcript(actor, ticket, transcript, chat_files):
    """A chat's transcript added to an existing ticket's history (C3): visible to the client,
    who had the conversation, and sent to nobody."""
    message = add_to_ticket(actor, ticket, clean_body(transcript, interactive=False), False, chat_files)
    message.channel = Channel.CHAT
    return message


def add_to_ticket(actor, ticket, body, internal, stored, author_email=None, source_mail=None, has_attachment=None):
    message = TicketMessage(
        ticket_id=ticket.id,
        author_id=getattr(actor, "id", None),
        author_email=author_email,
        source_mail_id=getattr(source_mail, "id", None),
        body=body,
        internal=internal,
        created_on=clock.now(),
    )
    db.session.add(message)
    db.session.flush()
    attach(ticket, message, stored)
    if internal:
        record_event(ticket, actor, "note_added", internal=True)
        publish_change(ticket, NOTE, actor)
        return message
    record_event(ticket, actor, "replied")
    touch(ticket, actor)
    webhooks.ticket_replied(ticket, message)
    publish_change(ticket, MESSAGE, actor)
    if actor is not None and can_work(actor):
        if ticket.first_responded_on is None:
            ticket.first_responded_on = message.created_on
            ticket.first_response_minutes = sla.business_minutes(ticket.created_on, message.created_on)
        if ticket.status_category == StatusCategory.NEW:
            set_status(actor, ticket, default_status(StatusCategory.OPEN, last=True))
    elif ticket.status_category in (StatusCategory.RESOLVED, StatusCategory.CLOSED) and thanks.keeps_resolved(
        body, has_attachment=bool(stored) if has_attachment is None else has_attachment
    ):
        # « Merci, c'est confirmé »: the agents read it, the ticket stays as it is.
        record_event(ticket, actor, "thanks_kept_" + ("resolved" if ticket.status_category == StatusCategory.RESOLVED else "closed"))
    elif ticket.status_category in (StatusCategory.PENDING, StatusCategory.RESOLVED):
        # The client answered: work resumes (and a resolved ticket reopens).
        set_status(actor, ticket, default_status(StatusCategory.OPEN, last=True))
    return message
