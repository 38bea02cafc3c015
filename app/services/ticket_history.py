"""A line of a ticket's history (T6): what happened, who did it and when. Below the ticket
services so that those they call (satisfaction, notifications) can write history too."""
from app.extensions import db
from app.models import TicketEvent
from app.services import clock


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
