"""The figures of the dashboards and reports (P1–P4), read-only, always through the scopes.

Every query starts from `_tickets(user)`: the tickets `scopes.tickets_filter` lets the user
see, merged duplicates left out (their messages live on in the ticket they were merged into,
which is counted once). A period's figures are those of the tickets *created* in it (a
cohort): how many, how fast the first answer and the resolution came (business minutes, kept
on the ticket when it happened, so the averages are plain SQL), how many missed a deadline,
and how their requesters rated them. Flows (new, resolved per day, backlog) count events in
the period whatever the ticket's age.

Chat and knowledge-base figures (conversations, waiting time, deflection) arrive with those
modules; nothing here pretends to have them.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select

from app.extensions import db
from app.models import (
    NovaUser,
    Organisation,
    Priority,
    Product,
    Queue,
    RequestType,
    SatisfactionRating,
    SlaAlert,
    StatusCategory,
    Ticket,
    TicketDayFigures,
    TicketEvent,
)
from app.models.tickets import ticket_assignee
from app.models.types import no_index
from app.security import scopes
from app.services import clock, figure_cache, rollups

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


def summary_direct(user, period):
    """`summary` read from the tickets themselves: what the per-day figures must agree with."""
    row = _cohort(user, period).with_entities(*_aggregates(clock.now())).one()
    return _figures(row)


def breakdown_direct(user, period, dimension):
    """`breakdown` read from the tickets themselves."""
    query, key, labels = _dimension(_cohort(user, period), dimension)
    rows = query.with_entities(key, *labels, *_aggregates(clock.now())).group_by(key, *labels).all()
    out = []
    for row in rows:
        n = 1 + len(labels)
        label = _person_label(*row[1:n]) if len(labels) == 2 else row[1]
        out.append(_figures(row[n:], key=row[0], label="" if label is None else str(label)))
    out.sort(key=lambda f: (-f.tickets, f.label))
    return out


@figure_cache.per_scope
def summary(user, period):
    """The figures of the tickets created in the period."""
    return _summed(_sums(user, {1: period}, []), 1, "all", None)


# --- breakdowns (P1) --------------------------------------------------------------------------


def _person_label(first, last):
    return f"{first or ''} {last or ''}".strip()


# dimension -> (joins, key column, label columns)
def _dimension(query, name):
    if name == "organisation":
        return query.join(Organisation, Organisation.id == Ticket.organisation_id), Organisation.id, [Organisation.name]
    if name == "requester":
        return query.outerjoin(NovaUser, NovaUser.id == Ticket.requester_id), NovaUser.id, [NovaUser.first_name, NovaUser.last_name]
    if name == "product":
        return query.outerjoin(Product, Product.id == Ticket.product_id), Product.id, [Product.name]
    if name == "type":
        return query.outerjoin(RequestType, RequestType.id == Ticket.type_id), RequestType.id, [RequestType.name]
    if name == "priority":
        return query.join(Priority, Priority.id == Ticket.priority_id), Priority.id, [Priority.name]
    if name == "channel":
        return query, Ticket.channel, [Ticket.channel]
    if name == "queue":
        return query.outerjoin(Queue, Queue.id == Ticket.queue_id), Queue.id, [Queue.name]
    if name == "level":
        return query.outerjoin(Queue, Queue.id == Ticket.queue_id), Queue.support_level, [Queue.support_level]
    if name == "agent":
        query = query.outerjoin(ticket_assignee, ticket_assignee.c.ticket_id == Ticket.id).outerjoin(NovaUser, NovaUser.id == ticket_assignee.c.user_id)
        return query, NovaUser.id, [NovaUser.first_name, NovaUser.last_name]
    raise ValueError(f"unknown dimension {name!r}")


DIMENSIONS = ["organisation", "requester", "product", "type", "priority", "channel", "queue", "level", "agent"]
STAFF_ONLY_DIMENSIONS = {"queue", "level", "agent"}  # how the vendor organises its support


def dimensions_for(user):
    if scopes.sees_team_figures(user):
        return list(DIMENSIONS)
    return [d for d in DIMENSIONS if d not in STAFF_ONLY_DIMENSIONS]


def breakdown(user, period, dimension):
    """The period's figures per client, requester, product, type, priority, channel, queue,
    support level or agent (a ticket with two agents counts for each); busiest first."""
    if dimension not in dimensions_for(user):
        raise ValueError(f"dimension {dimension!r} not available")
    return _breakdown(_sums(user, {1: period}, [dimension]), 1, dimension)


# --- summing the per-day figures ---------------------------------------------------------------


def _sums(user, periods, dimensions):
    """{(period label, dimension, key): the nine sums of rollups.MEASURES} for the tickets
    created in each period: the whole UTC days (and months) from ticket_day_figures, the
    hours at the edges of the period from the tickets, and the tickets whose deadlines still
    run read from the tickets for whether they are late now."""
    now = clock.now()
    c = TicketDayFigures.__table__.c
    wanted = {"all"} | {d for d in dimensions if d not in ("organisation", "level")} | ({"queue"} if "level" in dimensions else set())
    raw = defaultdict(rollups.zero)
    for label, period in periods.items():
        first, last = rollups.whole_days(period.start, period.end)
        cover = rollups.span_conditions(first, last)
        if cover is not None:
            statement = (
                select(c.organisation_id, c.dimension, c.item_id, c.item, *[func.sum(c[m]) for m in rollups.MEASURES])
                .where(scopes.tickets_filter(user, c.organisation_id), cover, c.dimension.in_(sorted(wanted)))
                .group_by(c.organisation_id, c.dimension, c.item_id, c.item)
            )
            for row in db.session.execute(statement):
                rollups.add(raw[(label, row[0], row[1], row[2], row[3])], [int(v or 0) for v in row[4:]])
            inside = (rollups.day_start(first), rollups.day_start(last + timedelta(days=1)))
            edges = [(period.start, inside[0]), (inside[1], period.end)]
            running = db.session.execute(rollups.facts(now, scopes.tickets_filter(user), _in_range(Ticket.created_on, *inside), rollups.running_expression()))
            rollups.accumulate(running, raw, lambda row, label=label: (label, row[1]), late_running=True, only_late=True)
        else:
            edges = [(period.start, period.end)]
        for start, end in edges:
            if start < end:
                rows = db.session.execute(rollups.facts(now, scopes.tickets_filter(user), _in_range(Ticket.created_on, start, end)))
                rollups.accumulate(rows, raw, lambda row, label=label: (label, row[1]), late_running=True)
    levels = dict(db.session.query(Queue.id, Queue.support_level)) if "level" in dimensions else {}
    out = defaultdict(rollups.zero)
    for (label, organisation_id, dimension, item_id, item), values in raw.items():
        if dimension == "all":
            rollups.add(out[(label, "all", None)], values)
            rollups.add(out[(label, "organisation", organisation_id)], values)
        elif dimension == "channel":
            rollups.add(out[(label, "channel", item)], values)
        else:
            rollups.add(out[(label, dimension, item_id)], values)
            if dimension == "queue" and "level" in dimensions:
                rollups.add(out[(label, "level", levels.get(item_id))], values)
    return out


def _in_range(column, start, end):
    return and_(column >= start, column < end)


def _summed(sums, label, dimension, key, name=""):
    values = sums.get((label, dimension, key))
    if values is None:
        return Figures(key=key, label=name)
    tickets, answered, frm, resolved, res, late, ratings, score, satisfied = values
    return Figures(
        key=key, label=name, tickets=tickets, answered=answered, first_response_minutes=frm / answered if answered else None,
        resolved=resolved, resolution_minutes=res / resolved if resolved else None, breached=late, ratings=ratings,
        mean_score=score / ratings if ratings else None, satisfied=satisfied,
    )


def _breakdown(sums, label, dimension):
    keys = [k for (period, d, k), values in sums.items() if period == label and d == dimension and values[0]]
    names = _labels(dimension, set(keys))
    out = [
        _summed(sums, label, dimension, key, str(key) if dimension in ("channel", "level") and key is not None else names.get(key, ""))
        for key in keys
    ]
    out.sort(key=lambda f: (-f.tickets, f.label))
    return out


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

    The backlog is counted back from today's open tickets (an index-only count): at any
    moment t, open(t) = open now − created after t + resolved after t, so no query ever
    reads the tickets older than the period."""
    base = _tickets(user)
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
        open_now = base.filter(Ticket.status_category.in_(StatusCategory.ACTIVE)).with_entities(func.count(Ticket.id)).scalar()
    backlog = open_now - after(Ticket.created_on) + after(Ticket.resolved_on)  # at the end of the last day
    days, day = [], period.last_day
    while day >= period.first_day:
        days.append({"day": day.isoformat(), "created": created.get(day, 0), "resolved": resolved.get(day, 0), "backlog": backlog})
        backlog += resolved.get(day, 0) - created.get(day, 0)  # the end of the day before
        day -= timedelta(days=1)
    days.reverse()
    return days


# --- the dashboard (P2, P3) -----------------------------------------------------------------


@figure_cache.per_scope
def status_counts(user):
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
        .filter(scopes.tickets_filter(user), Ticket.merged_into_id.is_(None), SlaAlert.created_on >= since)
        .order_by(SlaAlert.created_on.desc(), SlaAlert.id.desc())
        .limit(limit)
        .all()
    )


def recent_events(user, limit=15):
    """The latest actions on the tickets the user may see (staff-only lines for the vendor only)."""
    return (
        db.session.query(TicketEvent, Ticket.number)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .filter(scopes.tickets_filter(user), scopes.events_filter(user))
        .order_by(TicketEvent.at.desc(), TicketEvent.id.desc())
        .limit(limit)
        .all()
    )


@figure_cache.per_scope
def agents(user, period):
    """Team performance: per support member, open tickets in hand now, and the period's
    figures of the tickets assigned to them (scoped: a commercial sees work on their clients)."""
    if not scopes.sees_team_figures(user):
        return []
    rows = breakdown(user, period, "agent")
    active = dict(
        _tickets(user)
        .join(ticket_assignee, ticket_assignee.c.ticket_id == Ticket.id)
        .filter(Ticket.status_category.in_(StatusCategory.ACTIVE))
        .with_entities(ticket_assignee.c.user_id, func.count(Ticket.id))
        .group_by(ticket_assignee.c.user_id)
        .all()
    )
    out = []
    seen = set()
    for figures in rows:
        if figures.key is None:
            continue  # not assigned: shown as such in reports, not as a person
        seen.add(figures.key)
        out.append({**figures.as_dict(), "active": active.get(figures.key, 0)})
    if active:
        missing = [uid for uid in active if uid not in seen]
        for person in db.session.query(NovaUser).filter(NovaUser.id.in_(missing)):
            out.append({**Figures(key=person.id, label=person.full_name).as_dict(), "active": active[person.id]})
    out.sort(key=lambda row: (-row["active"], -row["tickets"], row["label"]))
    return out


def recent_ratings(user, limit=10):
    return (
        db.session.query(SatisfactionRating, Ticket.number, Ticket.title)
        .join(Ticket, Ticket.id == SatisfactionRating.ticket_id)
        .filter(scopes.tickets_filter(user))
        .order_by(SatisfactionRating.rated_on.desc())
        .limit(limit)
        .all()
    )


def my_work(user, period, team=None):
    """An agent's own figures beside the team's (their row of `agents`, or zeros)."""
    if not scopes.is_staff(user):
        return None
    for row in team if team is not None else agents(user, period):
        if row["key"] == user.id:
            return row
    return {**Figures(key=user.id, label=user.full_name).as_dict(), "active": 0}


# --- a whole report in a few passes (P1) ------------------------------------------------------


def _labels(dimension, keys):
    keys = [k for k in keys if k is not None]
    if not keys or dimension in ("channel", "level"):
        return {}
    if dimension in ("requester", "agent"):
        return {i: _person_label(first, last) for i, first, last in db.session.query(NovaUser.id, NovaUser.first_name, NovaUser.last_name).filter(NovaUser.id.in_(keys))}
    model = {"organisation": Organisation, "product": Product, "type": RequestType, "priority": Priority, "queue": Queue}[dimension]
    return dict(db.session.query(model.id, model.name).filter(model.id.in_(keys)))


@figure_cache.per_scope
def report(user, period):
    """The period's summary and every breakdown of `dimensions_for(user)`, each with the
    previous period's ticket counts, summed from the per-day figures (see `_sums`)."""
    dimensions = dimensions_for(user)
    sums = _sums(user, {1: period, 0: period.previous()}, dimensions)
    out = {"summary": _summed(sums, 1, "all", None), "previous": _summed(sums, 0, "all", None), "breakdowns": {}}
    for dimension in dimensions:
        before = {k: values[0] for (label, d, k), values in sums.items() if label == 0 and d == dimension and values[0]}
        out["breakdowns"][dimension] = (_breakdown(sums, 1, dimension), before)
    return out


# --- live chat (C2, P4) ---------------------------------------------------------------------


@figure_cache.per_scope
def chat_summary(user, period):
    """Conversations started in the period, through the reader's scopes: how many, answered
    live, taken as a message when nobody could answer, the mean wait before an agent joined,
    and the visitors' ratings (feeding satisfaction beside the tickets')."""
    from app.models import ChatConversation, ConversationStatus

    query = db.session.query(ChatConversation).filter(scopes.conversations_filter(user), _in(ChatConversation.started_on, period))
    rows = query.with_entities(ChatConversation.status, ChatConversation.started_on, ChatConversation.accepted_on, ChatConversation.rating).all()
    waits = [(accepted - started).total_seconds() for _status, started, accepted, _rating in rows if accepted is not None]
    ratings = [rating for *_rest, rating in rows if rating is not None]
    return {
        "conversations": len(rows),
        "answered": len(waits),
        "offline": sum(1 for status, *_rest in rows if status == ConversationStatus.OFFLINE),
        "mean_wait_seconds": round(sum(waits) / len(waits)) if waits else None,
        "ratings": len(ratings),
        "mean_score": round(sum(ratings) / len(ratings), 2) if ratings else None,
        "satisfaction_rate": round(100 * sum(1 for r in ratings if r >= SATISFIED_FROM) / len(ratings), 1) if ratings else None,
    }
