"""A ticket's status (T5): which moves are allowed, and what a move does (SLA clock, dates,
history, webhooks). Every status change, by hand or as a side effect, goes through
`set_status`."""
from flask_babel import gettext as _

from app.extensions import db
from app.models import StatusCategory, TicketStatus
from app.services import ServiceError, audit, clock, notifications, sla, webhooks
from app.services.tickets.common import FIELDS, as_id, can_work, default_status, publish_change, record_event, touch

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


def check_status(actor, ticket, status_id):
    """The status the actor may move this ticket to, or a refusal (nothing changed)."""
    status = db.session.get(TicketStatus, as_id(status_id)) if status_id not in (None, "") else None
    if status is None or status not in allowed_statuses(actor, ticket):
        raise ServiceError(_("Ce changement de statut n'est pas possible."))
    if ticket.merged_into_id and status.category != StatusCategory.CLOSED:
        raise ServiceError(_("Un ticket fusionné reste fermé."))
    return status


def do_change_status(actor, ticket, status):
    old_name = ticket.status.name
    set_status(actor, ticket, status)
    touch(ticket, actor)
    notifications.status_changed(ticket, old_name, actor)


def change_status(actor, ticket, status_id):
    do_change_status(actor, ticket, check_status(actor, ticket, status_id))


def leave_new_when_assigned(actor, ticket):
    """A new ticket that now has someone in charge is being worked: « Nouveau » → the first
    open status. The same for an assignment by hand and one by automatic routing."""
    if ticket.status_category == StatusCategory.NEW and ticket.assignees:
        set_status(actor, ticket, default_status(StatusCategory.OPEN))


def set_status(actor, ticket, status):
    old = ticket.status
    if old is not None and old.id == status.id:
        return
    was, now = ticket.status_category, status.category
    ticket.status = status
    ticket.status_id = status.id  # read back before any flush (update_fields compares ids)
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
    publish_change(ticket, FIELDS, actor)
