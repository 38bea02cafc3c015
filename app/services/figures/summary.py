"""A period's figures, in all and broken down by a dimension (directly from the tickets, or from the per-day sums)."""
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import and_, func, select

from app.extensions import db
from app.models import NovaUser, Organisation, Priority, Product, Queue, RequestType, Ticket, TicketDayFigures
from app.models.tickets import ticket_assignee
from app.security import scopes
from app.services import clock, figure_cache, rollups
from app.services.figures.common import Figures, _aggregates, _cohort, _figures


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
    created in each period: the whole UTC days (and months) from ticket_day_figures (the
    running tickets' lateness included: the SLA watch counts a bucket again when one of its
    deadlines passes), the hours at the edges of the period from the tickets."""
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
        else:
            edges = [(period.start, period.end)]
        for start, end in edges:
            if start < end:
                rows = db.session.execute(rollups.facts(now, scopes.tickets_filter(user), _in_range(Ticket.created_on, start, end)))
                rollups.accumulate(rows, raw, lambda row, label=label: (label, row[1]))
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


def _labels(dimension, keys):
    keys = [k for k in keys if k is not None]
    if not keys or dimension in ("channel", "level"):
        return {}
    if dimension in ("requester", "agent"):
        return {i: _person_label(first, last) for i, first, last in db.session.query(NovaUser.id, NovaUser.first_name, NovaUser.last_name).filter(NovaUser.id.in_(keys))}
    model = {"organisation": Organisation, "product": Product, "type": RequestType, "priority": Priority, "queue": Queue}[dimension]
    return dict(db.session.query(model.id, model.name).filter(model.id.in_(keys)))
