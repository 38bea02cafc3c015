"""What every ticket action shares: who may work tickets, reaching one through the scopes,
the ticket's history line, the reference lookups with their refusals, and the one
`ticket.changed` event a change is told by."""
from flask_babel import gettext as _
from sqlalchemy import func

from app.extensions import db
from app.models import NovaUser, Priority, StatusCategory, Ticket, TicketStatus
from app.security import scopes
from app.security.bounds import to_id
from app.services import ServiceError, clock, events
from app.services.ticket_history import record_event  # noqa: F401  (re-exported)


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


def staff_members():
    return scopes.staff_members(db.session)


def count_active_by_assignee(user_ids):
    rows = (
        db.session.query(NovaUser.id, func.count(Ticket.id))
        .join(Ticket, NovaUser.assigned_tickets)
        .filter(NovaUser.id.in_(user_ids), Ticket.status_category.in_(StatusCategory.ACTIVE))
        .group_by(NovaUser.id)
        .all()
    )
    return dict(rows)


# --- history and the desk's event ------------------------------------------------------


def touch(ticket, actor):
    ticket.last_activity_on = clock.now()
    ticket.last_activity_by_id = getattr(actor, "id", None)


CREATED, FIELDS, MESSAGE, NOTE, MERGED = "created", "fields", "message", "note", "merged"


def publish_change(ticket, change, actor=None):
    """Tell the desks that this ticket changed (`ticket.changed`, ids only), once per ticket and
    kind of change in the transaction. A ticket created (or merged) in this transaction is told
    once, as created (merged), whatever else that did (routing, a first note, the duplicate's
    closing): a desk reads the whole ticket again on either."""
    pending = [e.payload for e in events.pending("ticket.changed") if e.payload["ticket_id"] == ticket.id]
    if any(p["change"] in (change, CREATED, MERGED) for p in pending):  # created, merged: read whole again
        return None
    organisation_id = ticket.organisation.id if ticket.organisation is not None else ticket.organisation_id
    payload = {
        "ticket_id": ticket.id,
        "number": ticket.number,
        "organisation_id": organisation_id,
        "change": change,
        "actor_id": getattr(actor, "id", None),
        "at": clock.now().isoformat(),
    }
    return events.publish("ticket.changed", payload, to=scopes.ticket_event_rooms(organisation_id))


# --- lookups with their refusals -------------------------------------------------------


def as_id(value):
    """A form's id, or a refusal a person can read (never a server error)."""
    number = to_id(value)
    if number is None:
        raise ServiceError(_("Valeur invalide : %(value)s", value=str(value)[:40]))
    return number


def get_active(model, ident, message):
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
    with db.session.no_autoflush:  # settings: the ticket being changed does not change them (spares a flush)
        status = db.session.query(TicketStatus).filter(TicketStatus.category == category, TicketStatus.active.is_(True)).order_by(*order).first()
    if status is None:
        raise ServiceError(_("Aucun statut actif n'est défini pour l'étape « %(category)s ».", category=category))
    return status


def default_priority():
    with db.session.no_autoflush:
        return db.session.query(Priority).filter_by(key="normal").first() or db.session.query(Priority).order_by(Priority.position).first()
