"""Automatic routing (T12): a new ticket goes to the first-level queue; queues that route
automatically hand it to the next member in turn (round-robin) or to the member with the
fewest open tickets (least-loaded), among members who are active and available. A ticket
routed to someone leaves « Nouveau » as one assigned by hand does."""
from app.extensions import db
from app.models import Queue, Routing
from app.services import notifications
from app.services.tickets.common import FIELDS, count_active_by_assignee, publish_change, record_event
from app.services.tickets.status import leave_new_when_assigned


def first_level_queue():
    with db.session.no_autoflush:  # settings: the ticket being routed does not change them
        return db.session.query(Queue).filter(Queue.active.is_(True)).order_by(Queue.support_level, Queue.id).first()


def route_new_ticket(ticket):
    queue = first_level_queue()
    if queue is None:
        return
    ticket.queue = queue
    ticket.queue_id = queue.id
    route_to_queue(ticket, queue)


def _candidates(queue):
    with db.session.no_autoflush:  # the members' rows; the load count below does flush
        return sorted((m for m in queue.members if m.active and m.available), key=lambda m: m.id)


def pick_assignee(queue):
    """The member who should receive the next ticket of this queue, or None (manual queue,
    nobody available)."""
    members = _candidates(queue)
    if queue.routing == Routing.MANUAL or not members:
        return None
    if queue.routing == Routing.ROUND_ROBIN:
        after = [m for m in members if queue.last_assigned_id is None or m.id > queue.last_assigned_id]
        return (after or members)[0]
    load = count_active_by_assignee([m.id for m in members])
    return min(members, key=lambda m: (load.get(m.id, 0), m.id))


def route_to_queue(ticket, queue):
    chosen = pick_assignee(queue)
    if chosen is None:
        return None
    ticket.assignees = [chosen]
    queue.last_assigned_id = chosen.id
    record_event(ticket, None, "assigned", "assignees", None, chosen.full_name)
    notifications.assigned(ticket, [chosen], None)
    leave_new_when_assigned(None, ticket)
    publish_change(ticket, FIELDS)
    return chosen
