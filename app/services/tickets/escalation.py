"""Escalation (T12): to the queue of the next support level, routed there."""
from flask_babel import gettext as _

from app.extensions import db
from app.models import Queue
from app.services import ServiceError, audit, webhooks
from app.services.tickets import routing
from app.services.tickets.common import FIELDS, TicketNotFound, can_assign, publish_change, record_event, touch


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
    ticket.queue_id = target.id
    ticket.assignees = []
    routing.route_to_queue(ticket, target)
    touch(ticket, actor)
    publish_change(ticket, FIELDS, actor)
