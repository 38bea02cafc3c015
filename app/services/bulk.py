"""Bulk actions on a selection of the desk's queue: assign, take, status, priority, queue,
merge into one. Each ticket goes through the same ticket service as on its own page (the
same rights, history line, notifications, webhooks), in its own savepoint: a ticket refused is
listed with the reason and changes nothing, and never stops or half-applies another.

`apply` flushes, never commits: the endpoint commits once, and the events go out after it.
"""
from dataclasses import dataclass, field

from flask_babel import gettext as _

from app.extensions import db
from app.models import Ticket
from app.security import scopes
from app.services import ServiceError, clock, events, ticket_links, tickets

ACTIONS = ("assign", "take", "status", "priority", "queue", "merge")
MAX_TICKETS = 500


@dataclass
class Outcome:
    done: list = field(default_factory=list)  # [{"id", "number"}]
    refused: list = field(default_factory=list)  # [{"id", "number", "reason"}]

    def as_dict(self):
        return {"done": self.done, "refused": self.refused}


def _ids(values):
    if not isinstance(values, (list, tuple)) or not values:
        raise ServiceError(_("Choisissez au moins un ticket."))
    if len(values) > MAX_TICKETS:
        raise ServiceError(_("Pas plus de %(n)s tickets à la fois.", n=MAX_TICKETS))
    ids = []
    for value in values:
        number = tickets.as_id(value)
        if number not in ids:
            ids.append(number)
    return ids


def _check(action, value):
    """The action and its value, read once for the whole selection (a bad value refuses all,
    before anything is touched)."""
    if action not in ACTIONS:
        raise ServiceError(_("Action inconnue."))
    if action == "assign":
        if not isinstance(value, (list, tuple)) or not value:  # never unassign a whole selection by mistake
            raise ServiceError(_("Choisissez les personnes à qui attribuer les tickets."))
        return [tickets.as_id(v) for v in value]
    if action == "take":
        return None
    if value in (None, "", []) or isinstance(value, (list, dict, bool)):
        messages = {
            "status": _("Choisissez un statut."),
            "priority": _("Choisissez une priorité."),
            "queue": _("Choisissez une file."),
            "merge": _("Choisissez le ticket dans lequel fusionner."),
        }
        raise ServiceError(messages[action])
    return tickets.as_id(value)


def _do(actor, ticket, action, value):
    """One ticket, through its service. Returns the kind of change told to the desks."""
    if action in ("assign", "take", "queue") and not tickets.can_assign(actor):
        raise ServiceError(_("Vous ne pouvez pas attribuer de tickets."))
    # The fields go through the ticket's one door, as on its own page: a ticket that already
    # has the status (or priority, queue, people) asked for is done, with nothing changed.
    if action == "assign":
        tickets.update_fields(actor, ticket, assignee_ids=value)
    elif action == "take":
        tickets.take(actor, ticket)
    elif action == "queue":
        tickets.update_fields(actor, ticket, queue_id=value)
    elif action == "status":
        tickets.update_fields(actor, ticket, status_id=value)
    elif action == "priority":
        tickets.update_fields(actor, ticket, priority_id=value)
    elif action == "merge":
        ticket_links.merge(actor, ticket, str(value))
        return "merged"
    return "fields"


def _tell(ticket, actor, change):
    """Desks hear of the change once: the ticket services tell it themselves where they do."""
    if any(e.payload.get("ticket_id") == ticket.id for e in events.pending("ticket.changed")):
        return
    events.publish(
        "ticket.changed",
        {
            "ticket_id": ticket.id,
            "number": ticket.number,
            "organisation_id": ticket.organisation_id,
            "change": change,
            "actor_id": actor.id,
            "at": clock.now().isoformat(),
        },
        to=scopes.ticket_event_rooms(ticket.organisation_id),
    )


def apply(actor, ticket_ids, action, value=None):
    """Do `action` (with `value`) to each ticket the actor may see. Returns an Outcome: the
    tickets done, and those refused with the reason (a ticket out of the actor's scope reads
    as missing, like anywhere else)."""
    ids = _ids(ticket_ids)
    value = _check(action, value)
    outcome = Outcome()
    target_selected = action == "merge" and value in ids
    if target_selected:  # the one the others go into
        tickets.access_ticket(actor, value)
        ids.remove(value)
    for ticket_id in ids:
        ticket = db.session.query(Ticket).filter(Ticket.id == ticket_id, scopes.tickets_filter(actor)).one_or_none()
        if ticket is None:
            outcome.refused.append({"id": ticket_id, "number": None, "reason": str(tickets.TicketNotFound().message)})
            continue
        number = ticket.number
        try:
            with events.savepoint():
                change = _do(actor, ticket, action, value)
                db.session.flush()
                _tell(ticket, actor, change)
        except ServiceError as refused:
            outcome.refused.append({"id": ticket_id, "number": number, "reason": refused.message})
            continue
        outcome.done.append({"id": ticket_id, "number": number})
    if action == "merge" and outcome.done:
        target = tickets.access_ticket(actor, value)
        _tell(target, actor, "merged")
        if target_selected:
            outcome.done.insert(0, {"id": target.id, "number": target.number})
    return outcome
