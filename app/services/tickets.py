"""The ticket desk's one door (T2–T9, T12, T15): create, reply, note, change status or
priority, assign, escalate. Each function checks the actor's rights through scopes.py,
records history and the activity log, and flushes; the caller commits."""
import re

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func

from app.extensions import db
from app.models import (
    Attachment,
    CannedResponse,
    Channel,
    NovaUser,
    Priority,
    Product,
    Queue,
    RequestType,
    StatusCategory,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketStatus,
)
from app.security import scopes
from app.security.bounds import to_id
from app.services import ServiceError, audit, clock, notifications, routing, sla, thanks, uploads, webhooks

TITLE_MAX = 200
BODY_MAX = 20000


class TicketNotFound(ServiceError):
    not_found = True

    def __init__(self):
        super().__init__(_("Ce ticket n'existe pas ou ne vous est pas accessible."))


# --- who may do what ------------------------------------------------------------------


def can_work(user):
    """Staff and commercials work tickets: notes, priority, channel, organisation choice."""
    return scopes.audience_of(user) in (scopes.Audience.STAFF, scopes.Audience.COMMERCIAL)


def can_assign(user):
    return scopes.is_staff(user)


def can_assign_at_creation(user):
    return scopes.leads_support(user)


def access_ticket(actor, ticket_id):
    try:
        return scopes.access_ticket(db.session, actor, ticket_id)
    except scopes.NotVisible:
        raise TicketNotFound()


# --- history --------------------------------------------------------------------------


def record_event(ticket, actor, action, field=None, old=None, new=None, internal=False):
    event = TicketEvent(
        ticket_id=ticket.id,
        at=clock.now(),
        actor_id=getattr(actor, "id", None),
        action=action,
        field=field,
        old_value=None if old is None else str(old)[:300],
        new_value=None if new is None else str(new)[:300],
        internal=internal,
    )
    db.session.add(event)
    return event


def _touch(ticket, actor):
    ticket.last_activity_on = clock.now()
    ticket.last_activity_by_id = getattr(actor, "id", None)


# --- lookups with their refusals -------------------------------------------------------


def as_id(value):
    """A form's id, or a refusal a person can read (never a server error)."""
    number = to_id(value)
    if number is None:
        raise ServiceError(_("Valeur invalide : %(value)s", value=str(value)[:40]))
    return number


def _get_active(model, ident, message):
    if ident in (None, ""):
        return None
    row = db.session.get(model, as_id(ident))
    if row is None or getattr(row, "active", True) is False:
        raise ServiceError(message)
    return row


def default_status(category, last=False):
    """The first active status of a category (or the last: "Assigné" comes before "En cours",
    so an assignment takes the first and a reply the last)."""
    order = (TicketStatus.position.desc(), TicketStatus.id.desc()) if last else (TicketStatus.position, TicketStatus.id)
    status = (
        db.session.query(TicketStatus)
        .filter(TicketStatus.category == category, TicketStatus.active.is_(True))
        .order_by(*order)
        .first()
    )
    if status is None:
        raise ServiceError(_("Aucun statut actif n'est défini pour l'étape « %(category)s ».", category=category))
    return status


def default_priority():
    return db.session.query(Priority).filter_by(key="normal").first() or db.session.query(Priority).order_by(Priority.position).first()


CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # never meant as text; tabs and newlines kept


def _clean_text(value, field, maximum, required=True):
    value = CONTROL_CHARACTERS.sub("", value or "").strip()
    if required and not value:
        raise ServiceError(_("Ce champ est obligatoire : %(field)s.", field=field), {field: "required"})
    if len(value) > maximum:
        raise ServiceError(_("%(field)s : %(n)s caractères au plus.", field=field, n=maximum), {field: "too_long"})
    return value


def _store_files(files):
    """Validate every file before anything is written; one refusal refuses the submission."""
    if not files:
        return []
    root = current_app.config["UPLOAD_FOLDER"]
    limit = current_app.config["MAX_ATTACHMENT_BYTES"]
    stored = []
    try:
        for filename, stream in files:
            stored.append(uploads.store_upload(root, filename, stream, max_bytes=limit))
    except uploads.UploadRefused as refused:
        for done in stored:  # nothing of a refused submission stays on disk
            uploads.delete_stored(root, done.storage_key)
            if done.preview_key:
                uploads.delete_stored(root, done.preview_key)
        raise ServiceError(refused.message, {"attachments": refused.reason})
    return stored


def _attach(ticket, message, stored_files):
    for stored in stored_files:
        db.session.add(
            Attachment(ticket_id=ticket.id, message=message, created_on=clock.now(), **uploads.file_columns(stored))
        )


# --- create (T2) ----------------------------------------------------------------------


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
    """Create a ticket with the fields the actor's role allows; others are ignored."""
    title = _clean_text(title, _("Titre"), TITLE_MAX)
    body = _clean_text(body, _("Message"), BODY_MAX)
    request_type = _get_active(RequestType, type_id, _("Type de demande inconnu."))
    product = _get_active(Product, product_id, _("Produit inconnu."))
    working = can_work(actor)
    if working:
        organisation = _visible_organisation(actor, organisation_id)
        requester = _requester(organisation, requester_id)
        priority = _get_active(Priority, priority_id, _("Priorité inconnue.")) or default_priority()
        if channel not in Channel.ALL:
            raise ServiceError(_("Canal inconnu."))
    else:
        organisation = _visible_organisation(actor, organisation_id or actor.organisation_id)
        # Partners file from the web form or the API; the channel says which (T15).
        channel = Channel.API if channel == Channel.API else Channel.WEB
        requester, priority, internal_note = actor, default_priority(), None
    if organisation.kind == "vendor" or not organisation.active:
        raise ServiceError(_("Choisissez l'organisation cliente de la demande."))
    stored = _store_files(files)
    ticket = _open_ticket(actor, organisation, requester, title, body, request_type, product, priority, channel, stored)
    if internal_note and internal_note.strip():
        add_message(actor, ticket, internal_note, internal=True)
    if can_assign_at_creation(actor) and (assignee_ids or queue_id):
        assign(actor, ticket, assignee_ids, queue_id)
    else:
        routing.route_new_ticket(ticket)
    audit.record(db.session, "ticket.created", actor=actor, target=ticket, details={"channel": channel})
    notifications.ticket_created(ticket, actor, body=body)
    webhooks.ticket_created(ticket)
    return ticket


def create_ticket_from_mail(sender, organisation, sender_email, title, body, files, source_mail, in_reply_to=None, acknowledge=True):
    """A ticket opened by an e-mail (T10): the sender's account when one matched, else only
    their address; the type is left for an agent to set. Files are (name, stream) pairs that
    passed no check yet: those refused are listed back and the rest kept."""
    title = (title or "").replace("\x00", "").strip()[:TITLE_MAX] or _("(sans objet)")
    body = (body or "").replace("\x00", "").strip()[:BODY_MAX] or _("(message vide)")
    stored, refused = _store_acceptable_files(files)
    ticket = _open_ticket(sender, organisation, sender, title, body, None, None, default_priority(), Channel.EMAIL, stored, requester_email=None if sender else sender_email, source_mail=source_mail)
    routing.route_new_ticket(ticket)
    _record_refused_files(ticket, refused)
    audit.record(db.session, "ticket.created", actor=sender, target=ticket, details={"channel": Channel.EMAIL, "from": sender_email})
    if acknowledge:
        notifications.ticket_created(ticket, sender, in_reply_to=in_reply_to, body=body)
    webhooks.ticket_created(ticket)
    return ticket


def create_ticket_from_chat(actor, organisation, requester, requester_email, title, body, chat_files, acknowledge=True):
    """A ticket from a live chat (C3, C4): the transcript or the message left offline as its
    first message, the conversation's files attached (same stored files, already checked)."""
    ticket = _open_ticket(actor, organisation, requester, title, body, None, None, default_priority(), Channel.CHAT, chat_files, requester_email=None if requester else requester_email)
    routing.route_new_ticket(ticket)
    audit.record(db.session, "ticket.created", actor=actor, target=ticket, details={"channel": Channel.CHAT})
    if acknowledge:
        notifications.ticket_created(ticket, actor, body=body)
    return ticket


def add_transcript(actor, ticket, transcript, chat_files):
    """A chat's transcript added to an existing ticket's history (C3): visible to the client,
    who had the conversation, and sent to nobody."""
    message = _add(actor, ticket, transcript[:BODY_MAX], False, chat_files)
    message.channel = Channel.CHAT
    return message


def _open_ticket(actor, organisation, requester, title, body, request_type, product, priority, channel, stored, requester_email=None, source_mail=None):
    now = clock.now()
    actor_id = getattr(actor, "id", None)
    status = default_status(StatusCategory.NEW)
    ticket = Ticket(
        title=title,
        organisation=organisation,
        requester=requester,
        requester_email=requester_email,
        type=request_type,
        product=product,
        priority=priority,
        status=status,
        status_category=status.category,
        channel=channel,
        created_by_id=actor_id,
        created_on=now,
        last_activity_on=now,
        last_activity_by_id=actor_id,
    )
    db.session.add(ticket)
    db.session.flush()
    ticket.number = f"{current_app.config['TICKET_PREFIX']}-{ticket.id:06d}"
    sla.compute_deadlines(ticket)
    message = TicketMessage(
        ticket_id=ticket.id,
        author_id=actor_id,
        author_email=requester_email,
        source_mail_id=getattr(source_mail, "id", None),
        body=body,
        channel=channel,
        created_on=now,
    )
    db.session.add(message)
    _attach(ticket, message, stored)
    record_event(ticket, actor, "created", new=ticket.number)
    return ticket


def _store_acceptable_files(files):
    """Mail attachments: keep each file that passes the checks, list the others (a refused file
    never loses the message; the raw mail keeps it)."""
    root = current_app.config["UPLOAD_FOLDER"]
    limit = current_app.config["MAX_ATTACHMENT_BYTES"]
    stored, refused = [], []
    for filename, stream in files or ():
        try:
            stored.append(uploads.store_upload(root, filename, stream, max_bytes=limit))
        except uploads.UploadRefused as refusal:
            refused.append(f"{filename} ({refusal.message})")
    return stored, refused


def _record_refused_files(ticket, refused):
    for description in refused:
        record_event(ticket, None, "attachment_refused", new=description, internal=True)


def _visible_organisation(actor, organisation_id):
    if organisation_id in (None, ""):
        raise ServiceError(_("Choisissez l'organisation cliente de la demande."), {"organisation": "required"})
    try:
        return scopes.access_organisation(db.session, actor, to_id(organisation_id) or 0)
    except scopes.NotVisible:
        raise ServiceError(_("Organisation inconnue."), {"organisation": "unknown"})


def _requester(organisation, requester_id):
    if requester_id in (None, ""):
        return None  # filed on behalf of the organisation (e.g. a phone call); attached later
    person = db.session.get(NovaUser, as_id(requester_id))
    if person is None or person.organisation_id != organisation.id:
        raise ServiceError(_("Le demandeur doit appartenir à l'organisation choisie."), {"requester": "mismatch"})
    return person


def identify_requester(actor, ticket, organisation_id, include_others=False):
    """Attach a ticket that came from an unknown address to its client (T10); with
    `include_others`, the same address's other unattached tickets follow. The person's account,
    when one exists in that organisation, becomes the requester."""
    if not can_work(actor):
        raise TicketNotFound()
    address = (ticket.requester_email or "").lower()
    if ticket.requester_id or not address:
        raise ServiceError(_("Ce ticket a déjà un demandeur identifié."))
    organisation = _visible_organisation(actor, organisation_id)
    if organisation.kind == "vendor" or organisation.holds_unidentified or not organisation.active:
        raise ServiceError(_("Choisissez l'organisation cliente de la demande."))
    targets = [ticket]
    if include_others:
        targets += unattached_tickets_from(actor, address, exclude=ticket)
    person = (
        db.session.query(NovaUser)
        .filter(func.lower(NovaUser.email) == address, NovaUser.organisation_id == organisation.id, NovaUser.active.is_(True))
        .first()
    )
    for target in targets:
        old = target.organisation.name
        target.organisation = organisation
        if person is not None:
            target.requester = person
            db.session.query(TicketMessage).filter(
                TicketMessage.ticket_id == target.id, func.lower(TicketMessage.author_email) == address, TicketMessage.author_id.is_(None)
            ).update({TicketMessage.author_id: person.id}, synchronize_session=False)
        record_event(target, actor, "identified", "organisation", old, organisation.name)
        webhooks.ticket_updated(target, "organisation", old, organisation.name)
        audit.record(db.session, "ticket.identified", actor=actor, target=target, details={"organisation": organisation.name, "email": address})
        _touch(target, actor)
    return targets


def unattached_tickets_from(actor, address, exclude=None):
    """The address's other tickets still held as unidentified, among those the actor sees."""
    query = (
        db.session.query(Ticket)
        .join(Ticket.organisation)
        .filter(
            func.lower(Ticket.requester_email) == address.lower(),
            Ticket.requester_id.is_(None),
            Ticket.organisation.has(holds_unidentified=True),
            scopes.tickets_filter(actor),
        )
    )
    if exclude is not None:
        query = query.filter(Ticket.id != exclude.id)
    return query.order_by(Ticket.id).all()


# --- messages (T7) --------------------------------------------------------------------


def add_message(actor, ticket, body, internal=False, files=()):
    """A public reply, or an internal note (staff and commercials only)."""
    if internal and not can_work(actor):
        raise TicketNotFound()  # a partner cannot even learn that notes exist
    body = _clean_text(body, _("Message"), BODY_MAX)
    if ticket.merged_into_id:
        raise ServiceError(_("Ce ticket a été fusionné dans %(number)s : répondez sur celui-ci.", number=ticket.merged_into.number))
    stored = _store_files(files)
    message = _add(actor, ticket, body, internal, stored)
    if not internal:
        notifications.replied(ticket, message, actor)
    return message


def add_message_from_mail(sender, sender_email, ticket, body, files, source_mail, in_reply_to=None):
    """A reply that came by e-mail, from an account or from the bare address of the requester."""
    body = (body or "").replace("\x00", "").strip()[:BODY_MAX] or _("(message vide)")
    stored, refused = _store_acceptable_files(files)
    kept = thanks.keeps_resolved(body, has_attachment=bool(files))
    if ticket.status_category == StatusCategory.CLOSED and not kept:  # the intake decided it may reopen
        _set_status(sender, ticket, default_status(StatusCategory.OPEN, last=True))
    message = _add(sender, ticket, body, False, stored, author_email=None if sender else sender_email, source_mail=source_mail, has_attachment=bool(files))
    message.channel = Channel.EMAIL
    _record_refused_files(ticket, refused)
    notifications.replied(ticket, message, sender, in_reply_to=in_reply_to)
    return message


def _add(actor, ticket, body, internal, stored, author_email=None, source_mail=None, has_attachment=None):
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
    _attach(ticket, message, stored)
    if internal:
        record_event(ticket, actor, "note_added", internal=True)
        return message
    record_event(ticket, actor, "replied")
    _touch(ticket, actor)
    webhooks.ticket_replied(ticket, message)
    if actor is not None and can_work(actor):
        if ticket.first_responded_on is None:
            ticket.first_responded_on = message.created_on
            ticket.first_response_minutes = sla.business_minutes(ticket.created_on, message.created_on)
        if ticket.status_category == StatusCategory.NEW:
            _set_status(actor, ticket, default_status(StatusCategory.OPEN, last=True))
    elif ticket.status_category in (StatusCategory.RESOLVED, StatusCategory.CLOSED) and thanks.keeps_resolved(
        body, has_attachment=bool(stored) if has_attachment is None else has_attachment
    ):
        # « Merci, c'est confirmé »: the agents read it, the ticket stays as it is.
        record_event(ticket, actor, "thanks_kept_" + ("resolved" if ticket.status_category == StatusCategory.RESOLVED else "closed"))
    elif ticket.status_category in (StatusCategory.PENDING, StatusCategory.RESOLVED):
        # The client answered: work resumes (and a resolved ticket reopens).
        _set_status(actor, ticket, default_status(StatusCategory.OPEN, last=True))
    return message


_FRENCH_WORDS = frozenset("bonjour madame monsieur vous votre vos nous le la les de des du est pour et merci cordialement".split())
_ENGLISH_WORDS = frozenset("hello dear hi you your we the of is for and to thanks regards kind".split())
# What {client} becomes when nobody is named: never the organisation (« Bonjour Crédit Solidaire du Sahel, »).
NO_NAME_GREETING = {"fr": "Madame, Monsieur", "en": "Sir or Madam"}


def _text_language(text, default):
    words = re.findall(r"[a-z]+", (text or "").lower())
    french = sum(w in _FRENCH_WORDS for w in words)
    english = sum(w in _ENGLISH_WORDS for w in words)
    return "fr" if french > english else "en" if english > french else default


def client_greeting_name(ticket, text=""):
    """The requester's name, or the polite form in the language the text is written in."""
    requester = ticket.requester
    if requester is not None and requester.full_name:
        return requester.full_name
    locale = str(get_locale() or "fr")[:2]
    return NO_NAME_GREETING[_text_language(text, locale if locale in NO_NAME_GREETING else "fr")]


def fill_canned_response(canned, ticket, agent):
    """The canned text with its placeholders filled for this ticket (T8)."""
    values = {
        "client": client_greeting_name(ticket, canned.body),
        "organisation": ticket.organisation.name,
        "ticket": ticket.number,
        "title": ticket.title,
        "agent": agent.full_name,
    }
    text = canned.body
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def active_canned_responses():
    return db.session.query(CannedResponse).filter_by(active=True).order_by(CannedResponse.title).all()


# --- status (T5) ------------------------------------------------------------------------

# Which categories a ticket may move to from each category. "new" is only ever the start.
_TRANSITIONS = {
    StatusCategory.NEW: {StatusCategory.OPEN, StatusCategory.PENDING, StatusCategory.RESOLVED, StatusCategory.CLOSED},
    StatusCategory.OPEN: {StatusCategory.OPEN, StatusCategory.PENDING, StatusCategory.RESOLVED, StatusCategory.CLOSED},
    StatusCategory.PENDING: {StatusCategory.OPEN, StatusCategory.PENDING, StatusCategory.RESOLVED, StatusCategory.CLOSED},
    StatusCategory.RESOLVED: {StatusCategory.OPEN, StatusCategory.CLOSED},
    StatusCategory.CLOSED: {StatusCategory.OPEN},
}
# What a partner may do to a ticket of their organisation: close it, or reopen it.
_PARTNER_TARGETS = {StatusCategory.RESOLVED, StatusCategory.CLOSED, StatusCategory.OPEN}


def allowed_statuses(actor, ticket):
    targets = _TRANSITIONS[ticket.status_category]
    if not can_work(actor):
        targets = targets & _PARTNER_TARGETS
        if ticket.status_category in StatusCategory.ACTIVE:
            targets = targets - {StatusCategory.OPEN}
    statuses = db.session.query(TicketStatus).filter(TicketStatus.active.is_(True)).order_by(TicketStatus.position).all()
    return [s for s in statuses if s.category in targets and s.id != ticket.status_id]


def change_status(actor, ticket, status_id):
    status = db.session.get(TicketStatus, as_id(status_id)) if status_id not in (None, "") else None
    if status is None or status not in allowed_statuses(actor, ticket):
        raise ServiceError(_("Ce changement de statut n'est pas possible."))
    if ticket.merged_into_id and status.category != StatusCategory.CLOSED:
        raise ServiceError(_("Un ticket fusionné reste fermé."))
    old_name = ticket.status.name
    _set_status(actor, ticket, status)
    _touch(ticket, actor)
    notifications.status_changed(ticket, old_name, actor)


def _set_status(actor, ticket, status):
    old = ticket.status
    if old is not None and old.id == status.id:
        return
    was, now = ticket.status_category, status.category
    ticket.status = status
    ticket.status_category = now
    moment = clock.now()
    if was == StatusCategory.PENDING and now != StatusCategory.PENDING:
        sla.resume(ticket)
    if now == StatusCategory.PENDING:
        sla.pause(ticket)
    if now == StatusCategory.RESOLVED:
        ticket.resolved_on = moment
    if now == StatusCategory.CLOSED:
        ticket.closed_on = moment
        ticket.resolved_on = ticket.resolved_on or moment
    if now in StatusCategory.DONE and was not in StatusCategory.DONE:
        ticket.resolution_minutes = sla.resolution_minutes(ticket)
    if now in StatusCategory.ACTIVE and was in StatusCategory.DONE:
        ticket.resolved_on = ticket.closed_on = None
        ticket.resolution_minutes = None
        record_event(ticket, actor, "reopened")
        audit.record(db.session, "ticket.reopened", actor=actor, target=ticket)
    record_event(ticket, actor, "status", "status", old.name if old else None, status.name)
    if now in StatusCategory.DONE and was not in StatusCategory.DONE:
        audit.record(db.session, f"ticket.{now}", actor=actor, target=ticket)
    webhooks.ticket_updated(ticket, "status", old.name if old else None, status.name)
    if now == StatusCategory.CLOSED and was != StatusCategory.CLOSED:
        webhooks.ticket_closed(ticket)


# --- priority, assignment, escalation (T4, T12) -------------------------------------------


def change_priority(actor, ticket, priority_id):
    if not can_work(actor):
        raise TicketNotFound()
    priority = _get_active(Priority, priority_id, _("Priorité inconnue."))
    if priority is None or priority.id == ticket.priority_id:
        return
    old = ticket.priority.name
    ticket.priority = priority
    sla.compute_deadlines(ticket)
    record_event(ticket, actor, "priority", "priority", old, priority.name)
    webhooks.ticket_updated(ticket, "priority", old, priority.name)
    _touch(ticket, actor)


def staff_members():
    return scopes.staff_members(db.session)


def assign(actor, ticket, assignee_ids, queue_id=None):
    """Put the ticket in a queue and/or in the hands of one or more agents (by hand)."""
    if not can_assign(actor):
        raise TicketNotFound()
    wanted = {as_id(i) for i in assignee_ids or () if str(i).strip()}
    allowed = {member.id: member for member in staff_members()}
    if not wanted <= set(allowed):
        raise ServiceError(_("Seuls des membres actifs du support peuvent recevoir un ticket."))
    if queue_id not in (None, ""):
        queue = _get_active(Queue, queue_id, _("File inconnue."))
        if queue.id != ticket.queue_id:
            record_event(ticket, actor, "queue", "queue", ticket.queue.name if ticket.queue else None, queue.name, internal=True)
            ticket.queue = queue
    before = sorted(member.full_name for member in ticket.assignees)
    before_ids = {member.id for member in ticket.assignees}
    ticket.assignees = [allowed[i] for i in sorted(wanted)]
    after = sorted(member.full_name for member in ticket.assignees)
    newcomers = [member for member in ticket.assignees if member.id not in before_ids]
    if before != after:
        notifications.assigned(ticket, newcomers, actor)
        record_event(ticket, actor, "assigned", "assignees", ", ".join(before), ", ".join(after))
        audit.record(db.session, "ticket.assigned", actor=actor, target=ticket, details={"assignees": after})
        webhooks.ticket_updated(ticket, "assignees", before, after)
    if ticket.status_category == StatusCategory.NEW and ticket.assignees:
        _set_status(actor, ticket, default_status(StatusCategory.OPEN))
    if before != after:  # a queue move alone is internal: partners see no new activity
        _touch(ticket, actor)


def escalate(actor, ticket):
    """Move the ticket to the queue of the next support level and route it there."""
    if not can_assign(actor):
        raise TicketNotFound()
    move_to_next_level(actor, ticket)


def move_to_next_level(actor, ticket):
    """Escalation itself, for a person who may assign or for the SLA watch (actor None)."""
    level = ticket.queue.support_level if ticket.queue else 0
    target = (
        db.session.query(Queue)
        .filter(Queue.active.is_(True), Queue.support_level > level)
        .order_by(Queue.support_level, Queue.id)
        .first()
    )
    if target is None:
        raise ServiceError(_("Il n'y a pas de niveau de support au-dessus."))
    # Queue names are the vendor's business; partners only learn the new support level.
    record_event(ticket, actor, "escalated", "queue", ticket.queue.name if ticket.queue else None, target.name, internal=True)
    record_event(ticket, actor, "escalated_level", "support_level", level or None, target.support_level)
    audit.record(db.session, "ticket.escalated", actor=actor, target=ticket, details={"queue": target.name})
    webhooks.ticket_updated(ticket, "support_level", level or None, target.support_level)
    ticket.queue = target
    ticket.assignees = []
    routing.route_to_queue(ticket, target)
    _touch(ticket, actor)


def count_active_by_assignee(user_ids):
    rows = (
        db.session.query(NovaUser.id, func.count(Ticket.id))
        .join(Ticket, NovaUser.assigned_tickets)
        .filter(NovaUser.id.in_(user_ids), Ticket.status_category.in_(StatusCategory.ACTIVE))
        .group_by(NovaUser.id)
        .all()
    )
    return dict(rows)


# --- the SLA watch's actions (T13): the system acts, with no person behind it -----------------


def raise_priority_one_step(ticket):
    """The next more urgent priority, deadlines recomputed; False when already the most urgent."""
    higher = (
        db.session.query(Priority)
        .filter(Priority.position < ticket.priority.position)
        .order_by(Priority.position.desc())
        .first()
    )
    if higher is None:
        return False
    old = ticket.priority.name
    ticket.priority = higher
    sla.compute_deadlines(ticket)
    record_event(ticket, None, "priority", "priority", old, higher.name)
    webhooks.ticket_updated(ticket, "priority", old, higher.name)
    return True


def hand_over(ticket, agent):
    """Give the ticket to one active support member (SLA escalation rule)."""
    if agent is None or agent not in staff_members() or ticket.assignees == [agent]:
        return False
    before = ", ".join(sorted(member.full_name for member in ticket.assignees))
    ticket.assignees = [agent]
    record_event(ticket, None, "assigned", "assignees", before, agent.full_name)
    webhooks.ticket_updated(ticket, "assignees", before.split(", ") if before else [], [agent.full_name])
    return True
