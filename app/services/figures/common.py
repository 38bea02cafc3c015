"""What every figure of the dashboards and reports starts from: periods, the tickets a user may see, a period's cohort and its aggregates."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func

from app.extensions import db
from app.models import SatisfactionRating, Ticket
from app.security import scopes
from app.services import clock, rollups

SATISFIED_FROM = 4  # a rating of 4 or 5 counts as satisfied


def warning_minutes():
    """How close to a deadline "about to be late" starts: as for the SLA watch's warnings."""
    from flask import current_app

    return current_app.config.get("SLA_WARNING_MINUTES", 60)


# --- periods --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC, from local calendar days [first_day, last_day]."""

    first_day: date
    last_day: date
    zone: str = "Europe/Paris"

    @property
    def start(self):
        return _local_midnight(self.first_day, self.zone)

    @property
    def end(self):
        return _local_midnight(self.last_day + timedelta(days=1), self.zone)

    @property
    def days(self):
        return (self.last_day - self.first_day).days + 1

    def previous(self):
        """The period of the same length just before this one."""
        return Period(self.first_day - timedelta(days=self.days), self.first_day - timedelta(days=1), self.zone)


def _local_midnight(day, zone):
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)


def local_today(zone):
    return clock.now().astimezone(ZoneInfo(zone)).date()


def last_days(days, zone):
    today = local_today(zone)
    return Period(today - timedelta(days=days - 1), today, zone)


# --- the scoped base ------------------------------------------------------------------------


def _tickets(user, walking_dates=False):
    visible = scopes.tickets_filter_walking_dates(user) if walking_dates else scopes.tickets_filter(user)
    return db.session.query(Ticket).filter(visible, Ticket.merged_into_id.is_(None))


# A "latest N" list (recent events, ratings, alerts) walks a date index and keeps the visible
# rows: for a scope holding a fair share of the desk it stops after a few hundred rows, for a
# handful of tickets it would read the whole index to find none. PostgreSQL chooses from its
# statistics; SQLite has none and, told nothing, leads with the organisations and sorts all their
# rows (a commercial's 12,000 events for 15 shown: 27 ms against 0.2 ms). The tickets near a
# deadline are left out: their own filters (running, unanswered) keep so few of a scope's rows
# that a client's walk read most of the deadline index (50 ms, against a few for the sort).
WALK_DATES_FROM_SHARE = 0.02


def _walks_dates(user):
    """Whether the user's scope holds a fair share of the desk, on SQLite; asked once per
    session (a request), since a dashboard has several such lists."""
    if scopes.is_staff(user) or db.session.get_bind().dialect.name != "sqlite":
        return False
    known = db.session.info.setdefault("walks_dates", {})
    key = scopes.figures_scope_key(user)
    if key not in known:
        visible = db.session.query(func.count(Ticket.id)).filter(scopes.tickets_filter(user)).scalar()
        everything = db.session.query(func.max(Ticket.id)).scalar() or 0  # the table's size, read off its key
        known[key] = visible > WALK_DATES_FROM_SHARE * everything
    return known[key]


def latest_first(user):
    """The visibility filter for a "latest N" list, told how to walk (above)."""
    return scopes.tickets_filter_walking_dates(user) if _walks_dates(user) else scopes.tickets_filter(user)


def _in(column, period):
    return and_(column >= period.start, column < period.end)


# --- one row of figures -------------------------------------------------------------------


@dataclass
class Figures:
    """What a group of tickets adds up to."""

    key: object = None
    label: str = ""
    tickets: int = 0
    answered: int = 0
    first_response_minutes: float | None = None  # mean, business minutes
    resolved: int = 0
    resolution_minutes: float | None = None  # mean, business minutes, waiting for the client excluded
    breached: int = 0
    ratings: int = 0
    mean_score: float | None = None
    satisfied: int = 0

    @property
    def sla_rate(self):
        """Share of the tickets that missed no deadline (so far), in %."""
        return None if not self.tickets else round(100 * (self.tickets - self.breached) / self.tickets, 1)

    @property
    def satisfaction_rate(self):
        """Share of ratings of 4 or 5, in %."""
        return None if not self.ratings else round(100 * self.satisfied / self.ratings, 1)

    def as_dict(self):
        return {
            "key": self.key, "label": self.label, "tickets": self.tickets, "answered": self.answered,
            "first_response_minutes": _round(self.first_response_minutes), "resolved": self.resolved,
            "resolution_minutes": _round(self.resolution_minutes), "breached": self.breached,
            "sla_rate": self.sla_rate, "ratings": self.ratings, "mean_score": _round(self.mean_score, 2),
            "satisfied": self.satisfied, "satisfaction_rate": self.satisfaction_rate,
        }


def _round(value, digits=1):
    return None if value is None else round(float(value), digits)


def _aggregates(now):
    late = rollups.late_expression(now)
    return [
        func.count(Ticket.id),
        func.count(Ticket.first_response_minutes),
        func.avg(Ticket.first_response_minutes),
        func.count(Ticket.resolution_minutes),
        func.avg(Ticket.resolution_minutes),
        func.coalesce(func.sum(case((late, 1), else_=0)), 0),
        func.count(SatisfactionRating.id),
        func.avg(SatisfactionRating.score),
        func.coalesce(func.sum(case((SatisfactionRating.score >= SATISFIED_FROM, 1), else_=0)), 0),
    ]


def _figures(row, key=None, label=""):
    return Figures(
        key=key, label=label, tickets=row[0] or 0, answered=row[1] or 0, first_response_minutes=row[2],
        resolved=row[3] or 0, resolution_minutes=row[4], breached=int(row[5] or 0), ratings=row[6] or 0,
        mean_score=row[7], satisfied=int(row[8] or 0),
    )


def _cohort(user, period):
    return _tickets(user).outerjoin(SatisfactionRating, SatisfactionRating.ticket_id == Ticket.id).filter(_in(Ticket.created_on, period))
