"""Flows per day (dashboard history, backlog) and the counts of the boxes."""
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import StatusCategory, Ticket, TicketDayFigures
from app.security import scopes
from app.services import figure_cache, rollups
from app.services.figures.common import Period, _in, _tickets, local_today
from app.services.figures.summary import _in_range

# --- flows per day (dashboard history, backlog) ---------------------------------------------


def _day(column):
    return func.date(column)


def _as_date(value):
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


@figure_cache.per_scope
def daily_flow(user, period, open_now=None):
    """Per day of the period (UTC days): tickets created, tickets resolved, and the backlog
    (tickets not resolved) at the end of the day. A reopened ticket counts as not resolved
    from its creation until its last resolution.

    The backlog is counted back from today's open tickets: at any moment t, open(t) = open
    now − created after t + resolved after t, so no query ever reads the tickets older than
    the period."""
    dated = _tickets(user, walking_dates=True)

    def per_day(column, dimension):
        counts = defaultdict(int)
        first, last = rollups.whole_days(period.start, period.end)
        if first <= last:
            c = TicketDayFigures.__table__.c
            for day, n in db.session.execute(
                select(c.day, func.sum(c.tickets))
                .where(scopes.tickets_filter(user, c.organisation_id), c.span == rollups.DAY, c.day >= first, c.day <= last, c.dimension == dimension)
                .group_by(c.day)
            ):
                counts[_as_date(day)] += int(n)
            edges = [(period.start, rollups.day_start(first)), (rollups.day_start(last + timedelta(days=1)), period.end)]
        else:
            edges = [(period.start, period.end)]
        for start, end in edges:
            if start < end:
                for d, n in dated.filter(_in_range(column, start, end)).with_entities(_day(column), func.count(Ticket.id)).group_by(_day(column)):
                    counts[_as_date(d)] += n
        return counts

    def after(column):
        return dated.filter(column >= period.end).with_entities(func.count(Ticket.id)).scalar()

    created, resolved = per_day(Ticket.created_on, "all"), per_day(Ticket.resolved_on, "resolved")
    if open_now is None:
        open_now = _open_now(user)
    backlog = open_now - after(Ticket.created_on) + after(Ticket.resolved_on)  # at the end of the last day
    days, day = [], period.last_day
    while day >= period.first_day:
        days.append({"day": day.isoformat(), "created": created.get(day, 0), "resolved": resolved.get(day, 0), "backlog": backlog})
        backlog += resolved.get(day, 0) - created.get(day, 0)  # the end of the day before
        day -= timedelta(days=1)
    days.reverse()
    return days


def _open_now(user):
    """The tickets not resolved now: all those created minus those resolved, from the month
    rows of the per-day figures (a running ticket never has a resolution date, a resolved or
    closed one always has one), not by reading a fifth of the desk."""
    c = TicketDayFigures.__table__.c
    totals = dict(db.session.execute(
        select(c.dimension, func.sum(c.tickets))
        .where(scopes.tickets_filter(user, c.organisation_id), c.span == rollups.MONTH, c.dimension.in_(["all", "resolved"]))
        .group_by(c.dimension)
    ).all())
    return int(totals.get("all") or 0) - int(totals.get("resolved") or 0)


# --- the dashboard (P2, P3) -----------------------------------------------------------------


@figure_cache.per_scope
def status_counts(user):
    """The tickets `user` may see per status category now, summed from the per-day figures'
    month rows ("status": each ticket counted under its status of today, in its creation
    month), not by reading the whole desk."""
    c = TicketDayFigures.__table__.c
    counts = dict.fromkeys(StatusCategory.ORDER, 0)
    for category, n in db.session.execute(
        select(c.item, func.sum(c.tickets))
        .where(scopes.tickets_filter(user, c.organisation_id), c.span == rollups.MONTH, c.dimension == "status")
        .group_by(c.item)
    ):
        counts[category] = int(n)
    return counts


def status_counts_direct(user):
    """`status_counts` read from the tickets themselves."""
    rows = _tickets(user).with_entities(Ticket.status_category, func.count(Ticket.id)).group_by(Ticket.status_category).all()
    counts = dict.fromkeys(StatusCategory.ORDER, 0)
    counts.update(dict(rows))
    return counts


@figure_cache.per_scope
def new_and_resolved(user, zone):
    """Created, and resolved or closed, today and this week (from Monday) in the user's time zone."""
    today = local_today(zone)
    day = Period(today, today, zone)
    week = Period(today - timedelta(days=today.weekday()), today, zone)
    base = _tickets(user, walking_dates=True)

    def count(column, period):
        return base.filter(_in(column, period)).with_entities(func.count(Ticket.id)).scalar()

    return {
        "created_today": count(Ticket.created_on, day),
        "created_week": count(Ticket.created_on, week),
        "resolved_today": count(Ticket.resolved_on, day),
        "resolved_week": count(Ticket.resolved_on, week),
        "today": day.first_day.isoformat(),
        "week_start": week.first_day.isoformat(),
    }
