"""A ticket's fields (T4, T5, T12): priority, queue, assignees, status — one door,
`update_fields`, that checks every change before making any; the per-field names stay for
the callers that change one thing."""
from flask_babel import gettext as _

from app.extensions import db
from app.models import Priority, Queue
from app.services import ServiceError, audit, notifications, sla, webhooks
from app.services.tickets.common import (
    FIELDS,
    TicketNotFound,
    as_id,
    can_assign,
    can_work,
    get_active,
    publish_change,
    record_event,
    staff_members,
    touch,
)
from app.services.tickets.status import check_status, do_change_status, leave_new_when_assigned

# --- checks: nothing is written ---------------------------------------------------------


def _check_priority(actor, priority_id):
    if not can_work(actor):
        raise TicketNotFound()
    return get_active(Priority, priority_id, _("Priorité inconnue."))


def _check_assignees(actor, assignee_ids):
    if not can_assign(actor):
        raise TicketNotFound()
    wanted = {as_id(i) for i in assignee_ids or () if str(i).strip()}
    allowed = {member.id: member for member in staff_members()}
    if not wanted <= set(allowed):
        raise ServiceError(_("Seuls des membres actifs du support peuvent recevoir un ticket."))
    return [allowed[i] for i in sorted(wanted)]


def _check_queue(actor, queue_id):
    if not can_assign(actor):
        raise TicketNotFound()
    return get_active(Queue, queue_id, _("File inconnue."))


# --- changes: each records its history, webhook and desk event ---------------------------


def _set_priority(actor, ticket, priority):
    if priority is None or priority.id == ticket.priority_id:
        return False
    old = ticket.priority.name
    ticket.priority = priority
    ticket.priority_id = priority.id
    sla.compute_deadlines(ticket)
    record_event(ticket, actor, "priority", "priority", old, priority.name)
    webhooks.ticket_updated(ticket, "priority", old, priority.name)
    touch(ticket, actor)
    publish_change(ticket, FIELDS, actor)
    return True


def _move_to_queue(actor, ticket, queue):
    if queue is None or queue.id == ticket.queue_id:
        return False
    record_event(ticket, actor, "queue", "queue", ticket.queue.name if ticket.queue else None, queue.name, internal=True)
    ticket.queue = queue
    ticket.queue_id = queue.id
    publish_change(ticket, FIELDS, actor)
    return True


def _set_assignees(actor, ticket, members):
    before = sorted(member.full_name for member in ticket.assignees)
    before_ids = {member.id for member in ticket.assignees}
    ticket.assignees = members
    after = sorted(member.full_name for member in ticket.assignees)
    newcomers = [member for member in ticket.assignees if member.id not in before_ids]
    changed = before != after
    if changed:
        notifications.assigned(ticket, newcomers, actor)
        record_event(ticket, actor, "assigned", "assignees", ", ".join(before), ", ".join(after))
        audit.record(db.session, "ticket.assigned", actor=actor, target=ticket, details={"assignees": after})
        webhooks.ticket_updated(ticket, "assignees", before, after)
        publish_change(ticket, FIELDS, actor)
    leave_new_when_assigned(actor, ticket)
    if changed:  # a queue move alone is internal: partners see no new activity
        touch(ticket, actor)
    return changed


# --- the doors ------------------------------------------------------------------------------


def update_fields(actor, ticket, *, status_id=None, priority_id=None, queue_id=None, assignee_ids=None):
    """Change any of a ticket's status, priority, queue and assignees at once; None leaves a
    field as it is (an empty `assignee_ids` list unassigns everyone; asking for the status the
    ticket already has changes nothing and is not a refusal). Every change is checked
    before any is made: a refusal (ServiceError, in French) changes nothing. Returns the names
    of the fields that changed, among "priority", "queue", "assignees", "status"."""
    status = priority = queue = members = None
    if priority_id is not None:  # a field given is a field the actor must be allowed to change
        priority = _check_priority(actor, priority_id)
    if queue_id is not None:
        queue = _check_queue(actor, queue_id)
    if assignee_ids is not None:
        members = _check_assignees(actor, assignee_ids)
    if status_id is not None and (status_id == "" or as_id(status_id) != ticket.status_id):
        status = check_status(actor, ticket, status_id)
    changed = []
    status_before = ticket.status_id
    if priority is not None and _set_priority(actor, ticket, priority):
        changed.append("priority")
    if queue is not None and _move_to_queue(actor, ticket, queue):
        changed.append("queue")
    if members is not None and _set_assignees(actor, ticket, members):
        changed.append("assignees")
    if status is not None and status.id != ticket.status_id:
        do_change_status(actor, ticket, status)
    if ticket.status_id != status_before:  # asked for, or « Nouveau » left on an assignment
        changed.append("status")
    return changed


def change_priority(actor, ticket, priority_id):
    _set_priority(actor, ticket, _check_priority(actor, priority_id))


def take(actor, ticket):
    """« Me l'attribuer »: the actor joins the ticket's assignees; nobody else leaves."""
    current = [member.id for member in ticket.assignees]
    assign(actor, ticket, current + ([actor.id] if actor.id not in current else []))


def assign(actor, ticket, assignee_ids, queue_id=None):
    """Put the ticket in a queue and/or in the hands of one or more agents (by hand)."""
    members = _check_assignees(actor, assignee_ids)
    queue = _check_queue(actor, queue_id) if queue_id not in (None, "") else None
    _move_to_queue(actor, ticket, queue)
    _set_assignees(actor, ticket, members)


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
    ticket.priority_id = higher.id
    sla.compute_deadlines(ticket)
    record_event(ticket, None, "priority", "priority", old, higher.name)
    webhooks.ticket_updated(ticket, "priority", old, higher.name)
    publish_change(ticket, FIELDS)
    return True


def hand_over(ticket, agent):
    """Give the ticket to one active support member (SLA escalation rule)."""
    if agent is None or agent not in staff_members() or ticket.assignees == [agent]:
        return False
    before = ", ".join(sorted(member.full_name for member in ticket.assignees))
    ticket.assignees = [agent]
    record_event(ticket, None, "assigned", "assignees", before, agent.full_name)
    webhooks.ticket_updated(ticket, "assignees", before.split(", ") if before else [], [agent.full_name])
    leave_new_when_assigned(None, ticket)  # as by hand and by routing: someone is now in charge
    publish_change(ticket, FIELDS)
    return True
