"""The tickets to watch (needing help, urgent), recent alerts and events."""
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.extensions import db
from app.models import NovaUser, Organisation, Priority, SlaAlert, StatusCategory, Ticket, TicketEvent
from app.models.tickets import ticket_assignee
from app.models.types import no_index
from app.security import scopes
from app.services import clock, figure_cache
from app.services.figures.common import _tickets, latest_first, warning_minutes
from app.services.figures.summary import _person_label


@dataclass
class WatchedTicket:
    id: int
    number: str
    title: str
    organisation: str
    priority: str
    priority_key: str
    due: datetime
    deadline: str  # first_response | resolution
    late: bool
    assignees: list = field(default_factory=list)


@figure_cache.per_scope
def tickets_needing_help(user, limit=20):
    """Open tickets past a deadline or within warning_minutes() of one: those about to be
    late, then the most recently late (two index walks, one per deadline)."""
    now = clock.now()
    soon = now + timedelta(minutes=warning_minutes())

    def walk(due_column, deadline, *conditions):
        return [
            WatchedTicket(r[0], r[1], r[2], r[3], r[4], r[5], r[6], deadline, r[6] < now)
            for r in (
                _tickets(user)
                .join(Organisation, Organisation.id == Ticket.organisation_id)
                .join(Priority, Priority.id == Ticket.priority_id)
                .filter(no_index(Ticket.status_category).in_(StatusCategory.ACTIVE), Ticket.sla_paused_since.is_(None), due_column < soon, *conditions)
                .with_entities(Ticket.id, Ticket.number, Ticket.title, Organisation.name, Priority.name, Priority.key, due_column)
                .order_by(due_column.desc())
                .limit(limit)
            )
        ]

    unanswered = walk(Ticket.first_response_due, "first_response", Ticket.first_responded_on.is_(None))
    first = {w.id for w in unanswered}
    unresolved = [w for w in walk(Ticket.resolution_due, "resolution") if w.id not in first]
    watched = sorted(unanswered + unresolved, key=lambda w: w.due, reverse=True)[:limit]
    _add_assignees(user, watched)
    return watched


@figure_cache.per_scope
def urgent_tickets(user, limit=10):
    """Open tickets of the most urgent priority, oldest first."""
    top = db.session.query(Priority.id).order_by(Priority.position).limit(1).scalar()
    rows = (
        _tickets(user)
        .join(Organisation, Organisation.id == Ticket.organisation_id)
        .join(Priority, Priority.id == Ticket.priority_id)
        .filter(no_index(Ticket.priority_id) == top, no_index(Ticket.status_category).in_(StatusCategory.ACTIVE))  # oldest first: walk creation dates
        .with_entities(Ticket.id, Ticket.number, Ticket.title, Organisation.name, Priority.name, Priority.key, Ticket.resolution_due, Ticket.sla_paused_since)
        .order_by(Ticket.created_on)
        .limit(limit)
        .all()
    )
    now = clock.now()
    out = [WatchedTicket(r[0], r[1], r[2], r[3], r[4], r[5], r[6], "resolution", bool(r[6] and r[6] < now and r[7] is None)) for r in rows]
    _add_assignees(user, out)
    return out


def _add_assignees(user, watched):
    if not watched or not scopes.sees_team_figures(user):
        return
    by_id = {w.id: w for w in watched}
    for ticket_id, first, last in (
        db.session.query(ticket_assignee.c.ticket_id, NovaUser.first_name, NovaUser.last_name)
        .join(NovaUser, NovaUser.id == ticket_assignee.c.user_id)
        .filter(ticket_assignee.c.ticket_id.in_(by_id))
    ):
        by_id[ticket_id].assignees.append(_person_label(first, last))


def recent_alerts(user, hours=24, limit=10):
    """SLA warnings and breaches the watch raised lately, on tickets the user may see."""
    since = clock.now() - timedelta(hours=hours)
    return (
        db.session.query(SlaAlert, Ticket.number, Ticket.title)
        .join(Ticket, Ticket.id == SlaAlert.ticket_id)
        .filter(latest_first(user), Ticket.merged_into_id.is_(None), SlaAlert.created_on >= since)
        .order_by(SlaAlert.created_on.desc(), SlaAlert.id.desc())
        .limit(limit)
        .all()
    )


def recent_events(user, limit=15):
    """The latest actions on the tickets the user may see (staff-only lines for the vendor only)."""
    return (
        db.session.query(TicketEvent, Ticket.number)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .filter(latest_first(user), scopes.events_filter(user))
        .order_by(TicketEvent.at.desc(), TicketEvent.id.desc())
        .limit(limit)
        .all()
    )
