"""SLA deadlines (T4): creation + target + time paused, counted in business minutes of the
calendar; paused while the ticket waits for the client."""
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import BusinessCalendar, Holiday
from app.services import business_hours, clock

_CACHE_KEY = "sla_calendar"


def calendar():
    """The business-hours calendar deadlines are counted in (the first one defined).
    Read once per session (a request, a worker pass), and again after any change to it."""
    cached = db.session.info.get(_CACHE_KEY)
    if cached is not None:
        return cached
    with db.session.no_autoflush:  # settings: what the caller has pending does not change them
        settings = db.session.query(BusinessCalendar).order_by(BusinessCalendar.id).first()
        if settings is None:
            built = business_hours.Calendar()
        else:
            built = business_hours.Calendar.from_settings(settings.timezone, settings.week, [h.day for h in settings.holidays])
    db.session.info[_CACHE_KEY] = built
    return built


@event.listens_for(Session, "after_flush")
def _forget_changed_calendar(session, _context):
    if any(isinstance(obj, (BusinessCalendar, Holiday)) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info.pop(_CACHE_KEY, None)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session):
    session.info.pop(_CACHE_KEY, None)


def compute_deadlines(ticket, cal=None):
    cal = cal or calendar()
    paused = ticket.sla_paused_minutes or 0
    start = ticket.created_on
    ticket.first_response_due = business_hours.add_business_minutes(cal, start, ticket.priority.first_response_minutes + paused)
    ticket.resolution_due = business_hours.add_business_minutes(cal, start, ticket.priority.resolution_minutes + paused)


def pause(ticket):
    if ticket.sla_paused_since is None:
        ticket.sla_paused_since = clock.now()


def resume(ticket, cal=None):
    """Count the pause in business minutes and push the deadlines back by as much."""
    if ticket.sla_paused_since is None:
        return
    cal = cal or calendar()
    ticket.sla_paused_minutes = (ticket.sla_paused_minutes or 0) + round(
        business_hours.business_minutes_between(cal, ticket.sla_paused_since, clock.now())
    )
    ticket.sla_paused_since = None
    compute_deadlines(ticket, cal)


def is_late(ticket, at=None):
    """Past a deadline that still matters: resolution for open work, first response if none yet."""
    at = at or clock.now()
    if ticket.sla_paused_since is not None or ticket.status_category in ("resolved", "closed"):
        return False
    if ticket.first_responded_on is None and ticket.first_response_due and ticket.first_response_due < at:
        return True
    return bool(ticket.resolution_due and ticket.resolution_due < at)


def business_minutes(start, end, cal=None):
    """Whole business minutes between two moments (for the figures of reports)."""
    if start is None or end is None:
        return None
    return round(business_hours.business_minutes_between(cal or calendar(), start, end))


def resolution_minutes(ticket, cal=None):
    """Business minutes from creation to resolution, less the time waiting for the client."""
    if ticket.resolved_on is None:
        return None
    return max(0, business_minutes(ticket.created_on, ticket.resolved_on, cal) - (ticket.sla_paused_minutes or 0))
