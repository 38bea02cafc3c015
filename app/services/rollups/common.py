"""What one ticket adds to the sums, the spans of a period and the statements that read them."""
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import and_, case, or_, select

from app.models import SatisfactionRating, StatusCategory, Ticket, TicketDayFigures
from app.models.tickets import ticket_assignee

SATISFIED_FROM = 4
DIMENSIONS = ("requester", "product", "type", "priority", "channel", "queue", "agent", "status")
MEASURES = ("tickets", "answered", "first_response_minutes", "resolved", "resolution_minutes", "late", "ratings", "score", "satisfied")
DAY, MONTH = "day", "month"
_BEFORE = "novadesk_rollup_before"
_EVERYTHING = "novadesk_rollup_everything"
_CHANGED = "novadesk_rollup_changed"
_RECOUNT = "novadesk_rollup_recount"  # (organisation_id, day) buckets counted again from scratch


# --- what one ticket adds --------------------------------------------------------------------


def running_expression():
    """A ticket whose deadlines still run: whether it is late depends on the clock."""
    return and_(Ticket.sla_paused_since.is_(None), Ticket.status_category.in_(StatusCategory.ACTIVE))


def facts(now, *conditions):
    """One row per (ticket, assignee) of the tickets matching `conditions`, merged duplicates
    left out: its keys, its figures, whether it runs and whether it is late at `now`."""

    return (
        select(
            Ticket.id, Ticket.organisation_id, Ticket.requester_id, Ticket.product_id, Ticket.type_id, Ticket.priority_id,
            Ticket.channel, Ticket.queue_id, ticket_assignee.c.user_id, Ticket.created_on, Ticket.resolved_on,
            Ticket.first_response_minutes, Ticket.resolution_minutes, case((running_expression(), 1), else_=0),
            case((late_expression(now), 1), else_=0), SatisfactionRating.score, Ticket.status_category,
        )
        .outerjoin(ticket_assignee, ticket_assignee.c.ticket_id == Ticket.id)
        .outerjoin(SatisfactionRating, SatisfactionRating.ticket_id == Ticket.id)
        .where(Ticket.merged_into_id.is_(None), *conditions)
    )


def measures(row):
    """The nine sums one fact row adds (late: a deadline missed at the moment counted, the
    running tickets' included; the SLA watch counts a bucket again when one passes)."""
    frm, res, late, score = row[11], row[12], row[14], row[15]
    return [
        1, int(frm is not None), frm or 0, int(res is not None), res or 0,
        int(bool(late)), int(score is not None), score or 0, int(score is not None and score >= SATISFIED_FROM),
    ]


def ticket_keys(row):
    return [
        ("all", None, None), ("requester", row[2], None), ("product", row[3], None), ("type", row[4], None),
        ("priority", row[5], None), ("channel", None, row[6]), ("queue", row[7], None), ("status", None, row[16]),
    ]


def add(total, values):
    for i, value in enumerate(values):
        total[i] += value


def zero():
    return [0] * len(MEASURES)


def utc_day(moment):
    return moment.astimezone(timezone.utc).date()


def day_start(day):
    return datetime.combine(day, time(0), tzinfo=timezone.utc)


def month_of(day):
    return day.replace(day=1)


def accumulate(rows, sums, bucket_of):
    """Add fact rows into sums[(bucket..., dimension, item_id, item)]: each ticket once per
    dimension, once per assignee for "agent" (none: the key none)."""
    seen = set()
    for row in rows:
        values = measures(row)
        bucket = bucket_of(row)
        if row[0] not in seen:
            seen.add(row[0])
            for key in ticket_keys(row):
                add(sums[(*bucket, *key)], values)
        add(sums[(*bucket, "agent", row[8], None)], values)


# --- reading -----------------------------------------------------------------------------------


def whole_days(start, end):
    """The UTC days lying wholly in [start, end): (first, last), maybe first > last."""
    start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
    first = start.date() if start.time() == time(0) else start.date() + timedelta(days=1)
    last = end.date() - timedelta(days=1)
    return first, last


def spans(first, last):
    """[first, last] cut into whole months and the days around them: (months, days) as
    lists of (first_day, last_day) ranges of month starts / days."""
    if first > last:
        return [], []
    month_first = first if first.day == 1 else (month_of(first) + timedelta(days=32)).replace(day=1)
    after_last = last + timedelta(days=1)
    month_end = month_of(after_last)  # the first day after the whole months
    if month_first >= month_end:
        return [], [(first, last)]
    days = []
    if first < month_first:
        days.append((first, month_first - timedelta(days=1)))
    if month_end <= last:
        days.append((month_end, last))
    return [(month_first, month_of(month_end - timedelta(days=1)))], days


def span_conditions(first, last):
    """Rows of ticket_day_figures covering the UTC days [first, last] exactly."""
    c = TicketDayFigures.__table__.c
    months, days = spans(first, last)
    parts = [and_(c.span == MONTH, c.day >= a, c.day <= b) for a, b in months]
    parts += [and_(c.span == DAY, c.day >= a, c.day <= b) for a, b in days]
    return or_(*parts) if parts else None


def late_expression(now):
    """A deadline missed: answered or resolved after it, or still waiting past it (a ticket
    waiting for the client is not late while it waits, as in sla.is_late)."""
    running = and_(Ticket.sla_paused_since.is_(None), Ticket.status_category.in_(StatusCategory.ACTIVE))
    first_late = and_(
        Ticket.first_response_due.isnot(None),
        or_(
            and_(Ticket.first_responded_on.isnot(None), Ticket.first_responded_on > Ticket.first_response_due),
            and_(Ticket.first_responded_on.is_(None), Ticket.resolved_on.isnot(None), Ticket.resolved_on > Ticket.first_response_due),
            and_(Ticket.first_responded_on.is_(None), running, Ticket.first_response_due < now),
        ),
    )
    resolution_late = and_(
        Ticket.resolution_due.isnot(None),
        or_(
            and_(Ticket.resolved_on.isnot(None), Ticket.resolved_on > Ticket.resolution_due),
            and_(Ticket.resolved_on.is_(None), running, Ticket.resolution_due < now),
        ),
    )
    return or_(first_late, resolution_late)
