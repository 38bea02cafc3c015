"""Opening a ticket (T2, T10, T15, C3, C4, the previous help desk's import): one door,
`open_ticket(actor, source, …)`, whatever the ticket came in by. The door cleans the text by
the one rule (text.py), numbers the ticket, computes its deadlines, writes its first message
and history, routes it, and tells everyone once: activity log, acknowledgement to the
requester, `ticket.created` webhook, `ticket.changed` to the desks.

The import mode (source IMPORT, with an `ImportedHistory`) writes the ticket as it was —
its dates, status, every message with its author and date — and tells nobody: no mail, no
webhook, no desk event, no deadline, no routing (history is not new work).

The functions below it are the doors' front halves: each reads what its channel allows and
calls `open_ticket`."""
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _

from app.extensions import db
from app.models import Channel, Priority, Product, RequestType, StatusCategory, Ticket, TicketMessage, TicketStatus
from app.services import ServiceError, audit, clock, notifications, sla, webhooks
from app.services.tickets import routing
from app.services.tickets.common import (
    CREATED,
    can_assign_at_creation,
    can_work,
    default_priority,
    default_status,
    get_active,
    publish_change,
    record_event,
)
from app.services.tickets.fields import assign
from app.services.tickets.files import attach, record_refused_files, store_acceptable_files, store_files
from app.services.tickets.messages import add_to_ticket
from app.services.tickets.requesters import requester_in, visible_organisation
from app.services.tickets.text import clean_body, clean_title


class Source:
    """The door a ticket came in by; it decides the text rule and who is told."""

    WEB, API, MAIL, CHAT, IMPORT = "web", "api", "mail", "chat", "import"
    INTERACTIVE = frozenset({WEB, API})  # a person is there to correct what is refused
    ALL = frozenset({WEB, API, MAIL, CHAT, IMPORT})


@dataclass
class ImportedMessage:
    body: str
    created_on: datetime
    internal: bool = False
    author_id: int | None = None
    author_email: str | None = None
    stored: list = field(default_factory=list)  # files already checked and stored


@dataclass
class ImportedHistory:
    """What the previous help desk knew of a ticket; the first message opens it."""

    reference: str
    status: TicketStatus
    created_on: datetime
    last_activity_on: datetime
    messages: list  # [ImportedMessage], in order
    resolved_on: datetime | None = None
    closed_on: datetime | None = None
    first_responded_on: datetime | None = None


def ticket_number(ticket):
    return f"{current_app.config['TICKET_PREFIX']}-{ticket.id:06d}"


def open_ticket(
    actor,
    source,
    *,
    organisation,
    title,
    body=None,
    requester=None,
    requester_email=None,
    request_type=None,
    product=None,
    priority=None,
    channel=Channel.WEB,
    stored=(),
    refused_files=(),
    source_mail=None,
    internal_note=None,
    assignment=None,
    acknowledge=True,
    in_reply_to=None,
    details=None,
    history=None,
):
    """Open a ticket for `organisation` (already checked by the caller's door). `stored` are
    files already checked and stored; `refused_files` descriptions of those that were not;
    `assignment` (assignee ids, queue id) is an assignment by hand at creation, else the
    ticket is routed. With source IMPORT, `history` (an ImportedHistory) is required and the
    other telling arguments are ignored."""
    if source not in Source.ALL:
        raise ValueError(f"unknown ticket source {source!r}")
    if (source == Source.IMPORT) != (history is not None):
        raise ValueError("an ImportedHistory goes with the IMPORT source, and only with it")
    interactive = source in Source.INTERACTIVE
    title = clean_title(title, interactive=interactive)
    if history is not None:
        fields = {
            "organisation": organisation, "title": title, "requester": requester, "requester_email": requester_email,
            "request_type": request_type, "product": product, "priority": priority, "channel": channel,
        }
        return open_imported_tickets(actor, [(fields, history)])[0]
    body = clean_body(body, interactive=interactive)
    now = clock.now()
    actor_id = getattr(actor, "id", None)
    status = default_status(StatusCategory.NEW)
    ticket = Ticket(
        title=title, organisation=organisation, requester=requester, requester_email=requester_email, type=request_type,
        product=product, priority=priority or default_priority(), status=status, status_category=status.category,
        channel=channel, created_by_id=actor_id, created_on=now, last_activity_on=now, last_activity_by_id=actor_id,
        assignees=[],  # known empty: routing sets it without loading it first
    )
    db.session.add(ticket)
    db.session.flush()
    ticket.number = ticket_number(ticket)
    sla.compute_deadlines(ticket)
    message = TicketMessage(
        ticket_id=ticket.id, author_id=actor_id, author_email=requester_email, source_mail_id=getattr(source_mail, "id", None),
        body=body, channel=channel, created_on=now,
    )
    db.session.add(message)
    attach(ticket, message, stored)
    record_event(ticket, actor, "created", new=ticket.number)
    record_refused_files(ticket, refused_files)
    publish_change(ticket, CREATED, actor)
    note = clean_body(internal_note, interactive=interactive, required=False) if internal_note else ""
    if note:
        add_to_ticket(actor, ticket, note, True, [])
    if assignment is not None:
        assign(actor, ticket, *assignment)
    else:
        routing.route_new_ticket(ticket)
    audit.record(db.session, "ticket.created", actor=actor, target=ticket, details=details or {"channel": channel})
    if acknowledge:
        notifications.ticket_created(ticket, actor, in_reply_to=in_reply_to, body=body)
    webhooks.ticket_created(ticket)
    return ticket


def open_imported_tickets(actor, entries):
    """The import mode of the door for many tickets at once (one flush for the lot, as an
    import of thousands needs): `entries` are (fields, ImportedHistory) pairs, `fields` the
    keyword arguments `open_ticket` takes (organisation, title, requester, requester_email,
    request_type, product, priority, channel). Same rule, same numbering, nobody told."""
    prepared = []
    actor_id = getattr(actor, "id", None)
    for fields, history in entries:
        messages = [(m, clean_body(m.body, interactive=False)) for m in history.messages]
        if not messages:
            raise ServiceError(_("Aucun message : le ticket doit avoir au moins un texte."))
        priority = fields.get("priority") or default_priority()
        # Ids, not relationships: an import writes thousands of tickets for the same
        # organisations, people and statuses; setting a relationship would append to their
        # collections in the session.
        ticket = Ticket(
            external_reference=history.reference, title=clean_title(fields["title"], interactive=False),
            organisation_id=fields["organisation"].id, requester_id=getattr(fields.get("requester"), "id", None),
            requester_email=fields.get("requester_email"), type_id=getattr(fields.get("request_type"), "id", None),
            product_id=getattr(fields.get("product"), "id", None), priority_id=priority.id, status_id=history.status.id,
            status_category=history.status.category, channel=fields.get("channel") or Channel.WEB, created_by_id=actor_id,
            created_on=history.created_on, last_activity_on=history.last_activity_on, resolved_on=history.resolved_on,
            closed_on=history.closed_on, sla_paused_minutes=0, first_responded_on=history.first_responded_on,
            first_response_minutes=sla.business_minutes(history.created_on, history.first_responded_on),
        )
        ticket.resolution_minutes = sla.resolution_minutes(ticket)
        prepared.append((ticket, history, messages))
    db.session.add_all([ticket for ticket, _history, _messages in prepared])
    db.session.flush()
    for ticket, history, messages in prepared:
        ticket.number = ticket_number(ticket)
        for imported, body in messages:
            message = TicketMessage(
                ticket_id=ticket.id, author_id=imported.author_id, author_email=imported.author_email, body=body,
                internal=imported.internal, channel=ticket.channel, created_on=imported.created_on,
            )
            db.session.add(message)
            attach(ticket, message, imported.stored, at=imported.created_on)
        record_event(ticket, actor, "imported", new=history.reference, internal=True).at = history.created_on
    db.session.flush()
    return [ticket for ticket, _history, _messages in prepared]


# --- the doors' front halves -----------------------------------------------------------------


def create_ticket(
    actor,
    *,
    title,
    body,
    type_id=None,
    product_id=None,
    organisation_id=None,
    requester_id=None,
    priority_id=None,
    channel=Channel.WEB,
    internal_note=None,
    assignee_ids=(),
    queue_id=None,
    files=(),
):
    """The web form and the API: the fields the actor's role allows; others are ignored."""
    source = Source.API if channel == Channel.API else Source.WEB
    title = clean_title(title, interactive=True)  # refused before anything is looked up or stored
    body = clean_body(body, interactive=True)
    request_type = get_active(RequestType, type_id, _("Type de demande inconnu."))
    product = get_active(Product, product_id, _("Produit inconnu."))
    if can_work(actor):
        organisation = visible_organisation(actor, organisation_id)
        requester = requester_in(organisation, requester_id)
        priority = get_active(Priority, priority_id, _("Priorité inconnue.")) or default_priority()
        if channel not in Channel.ALL:
            raise ServiceError(_("Canal inconnu."))
    else:
        organisation = visible_organisation(actor, organisation_id or actor.organisation_id)
        # Partners file from the web form or the API; the channel says which (T15).
        channel = Channel.API if channel == Channel.API else Channel.WEB
        requester, priority, internal_note = actor, default_priority(), None
    if organisation.kind == "vendor" or not organisation.active:
        raise ServiceError(_("Choisissez l'organisation cliente de la demande."))
    assignment = (assignee_ids, queue_id) if can_assign_at_creation(actor) and (assignee_ids or queue_id) else None
    return open_ticket(
        actor, source, organisation=organisation, title=title, body=body, requester=requester, request_type=request_type,
        product=product, priority=priority, channel=channel, stored=store_files(files), internal_note=internal_note,
        assignment=assignment,
    )


def create_ticket_from_mail(sender, organisation, sender_email, title, body, files, source_mail, in_reply_to=None, acknowledge=True):
    """A ticket opened by an e-mail (T10): the sender's account when one matched, else only
    their address; the type is left for an agent to set. Files are (name, stream) pairs that
    passed no check yet: those refused are listed back and the rest kept."""
    stored, refused = store_acceptable_files(files)
    return open_ticket(
        sender, Source.MAIL, organisation=organisation, title=title, body=body, requester=sender,
        requester_email=None if sender else sender_email, channel=Channel.EMAIL, stored=stored, refused_files=refused,
        source_mail=source_mail, acknowledge=acknowledge, in_reply_to=in_reply_to,
        details={"channel": Channel.EMAIL, "from": sender_email},
    )


def create_ticket_from_chat(actor, organisation, requester, requester_email, title, body, chat_files, acknowledge=True):
    """A ticket from a live chat (C3, C4): the transcript or the message left offline as its
    first message, the conversation's files attached (same stored files, already checked)."""
    return open_ticket(
        actor, Source.CHAT, organisation=organisation, title=title, body=body, requester=requester,
        requester_email=None if requester else requester_email, channel=Channel.CHAT, stored=chat_files, acknowledge=acknowledge,
    )
