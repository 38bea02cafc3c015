"""Per-day and per-month sums of the tickets (table ticket_day_figures), kept in the
transaction of every change, so that a report over a year reads a few thousand sums instead
of a year of tickets (P1–P3 at scale).

Upkeep: whatever changes a ticket (a service, an import, an admin screen) goes through the
ORM; at each flush the (organisation, UTC day) buckets the changed tickets (or ratings) belong
to (their creation day, and the day of their resolution, before and after the change) are
noted, and
just before the commit each noted bucket is counted again from its tickets: the day's rows are
replaced, and the difference is added to the month's rows. A bulk UPDATE or DELETE of tickets
(which the ORM cannot follow row by row) has everything counted again at the commit. On
PostgreSQL, a transaction-scoped advisory lock per (organisation, month) makes two commits of
the same organisation's month take turns, so neither counts without the other's tickets.

Each bucket is counted with `facts()`, the same statement the reports use for what they read
directly (the hours at the edges of a period, and the late tickets still running), so both
agree by construction; tests/test_rollups.py compares them with the direct queries over random
changes. `rebuild()` counts everything again (`flask novadesk rebuild-figures`, the migration).
"""
import zlib
from collections import defaultdict
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import and_, case, delete, event, func, insert, inspect, or_, select, text, update
from sqlalchemy.orm import Session

from app.models import SatisfactionRating, StatusCategory, Ticket, TicketDayFigures
from app.models.tickets import ticket_assignee

SATISFIED_FROM = 4
DIMENSIONS = ("requester", "product", "type", "priority", "channel", "queue", "agent")
MEASURES = ("tickets", "answered", "first_response_minutes", "resolved", "resolution_minutes", "late", "ratings", "score", "satisfied")
DAY, MONTH = "day", "month"
_PENDING = "novadesk_rollup_buckets"
_EVERYTHING = "novadesk_rollup_everything"
_TOUCHED = "novadesk_rollup_touched"
_CHANGED = "novadesk_rollup_changed"


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
            case((late_expression(now), 1), else_=0), SatisfactionRating.score,
        )
        .outerjoin(ticket_assignee, ticket_assignee.c.ticket_id == Ticket.id)
        .outerjoin(SatisfactionRating, SatisfactionRating.ticket_id == Ticket.id)
        .where(Ticket.merged_into_id.is_(None), *conditions)
    )


def measures(row, late_running=False):
    """The nine sums one fact row adds (late: only when not running, unless asked)."""
    frm, res, running, late, score = row[11], row[12], row[13], row[14], row[15]
    return [
        1, int(frm is not None), frm or 0, int(res is not None), res or 0,
        int(bool(late) and (late_running or not running)), int(score is not None), score or 0, int(score is not None and score >= SATISFIED_FROM),
    ]


def ticket_keys(row):
    return [
        ("all", None, None), ("requester", row[2], None), ("product", row[3], None), ("type", row[4], None),
        ("priority", row[5], None), ("channel", None, row[6]), ("queue", row[7], None),
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


def accumulate(rows, sums, bucket_of, late_running=False, only_late=False):
    """Add fact rows into sums[(bucket..., dimension, item_id, item)]: each ticket once per
    dimension, once per assignee for "agent" (none: the key none)."""
    seen = set()
    for row in rows:
        values = measures(row, late_running)
        if only_late:
            if not values[5]:
                continue
            values = [0, 0, 0, 0, 0, 1, 0, 0, 0]
        bucket = bucket_of(row)
        if row[0] not in seen:
            seen.add(row[0])
            for key in ticket_keys(row):
                add(sums[(*bucket, *key)], values)
        add(sums[(*bucket, "agent", row[8], None)], values)


# --- upkeep ------------------------------------------------------------------------------------


def _lock(connection, organisation_id, month):
    if connection.dialect.name == "postgresql":
        key = zlib.crc32(f"rollup:{organisation_id}:{month.isoformat()}".encode())
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def _rows_of(connection, span, day, organisation_id):
    table = TicketDayFigures.__table__
    c = table.c
    out = defaultdict(zero)
    for row in connection.execute(
        select(c.dimension, c.item_id, c.item, *[c[m] for m in MEASURES]).where(c.span == span, c.day == day, c.organisation_id == organisation_id)
    ):
        add(out[(row[0], row[1], row[2])], list(row[3:]))
    return out


def _count_bucket(connection, organisation_id, day, now):
    start, end = day_start(day), day_start(day + timedelta(days=1))
    sums = defaultdict(zero)
    rows = connection.execute(facts(now, Ticket.organisation_id == organisation_id, Ticket.created_on >= start, Ticket.created_on < end)).all()
    accumulate(rows, sums, lambda row: ())
    resolved = connection.execute(
        select(func.count(Ticket.id)).where(
            Ticket.organisation_id == organisation_id, Ticket.merged_into_id.is_(None), Ticket.resolved_on >= start, Ticket.resolved_on < end,
        )
    ).scalar()
    if resolved:
        sums[("resolved", None, None)][0] = resolved
    return sums


def _insert(connection, span, day, organisation_id, sums):
    rows = [
        {"span": span, "day": day, "organisation_id": organisation_id, "dimension": k[0], "item_id": k[1], "item": k[2], **dict(zip(MEASURES, v))}
        for k, v in sums.items() if any(v)
    ]
    if rows:
        connection.execute(insert(TicketDayFigures.__table__), rows)


def recount(connection, buckets, now):
    """Count the (organisation_id, day) buckets again: their day rows replaced, the
    difference added to their month rows."""
    table = TicketDayFigures.__table__
    c = table.c
    locked = set()
    for organisation_id, day in sorted(buckets):
        month = month_of(day)
        if (organisation_id, month) not in locked:
            _lock(connection, organisation_id, month)
            locked.add((organisation_id, month))
        before = _rows_of(connection, DAY, day, organisation_id)
        after = _count_bucket(connection, organisation_id, day, now)
        if before == after:
            continue
        connection.execute(delete(table).where(c.span == DAY, c.day == day, c.organisation_id == organisation_id))
        _insert(connection, DAY, day, organisation_id, after)
        for key in sorted(set(before) | set(after), key=repr):
            difference = [a - b for a, b in zip(after.get(key, zero()), before.get(key, zero()))]
            if not any(difference):
                continue
            where = [c.span == MONTH, c.day == month, c.organisation_id == organisation_id, c.dimension == key[0],
                     c.item_id.is_(None) if key[1] is None else c.item_id == key[1], c.item.is_(None) if key[2] is None else c.item == key[2]]
            changed = connection.execute(
                update(table).where(*where).values({m: c[m] + d for m, d in zip(MEASURES, difference)})
            ).rowcount
            if not changed:
                _insert(connection, MONTH, month, organisation_id, {key: difference})


def rebuild(connection, now=None, chunk=20000):
    """Count every ticket again (the migration; `flask novadesk rebuild-figures` after rows
    were written around the ORM, as bench/generate_tickets.py does)."""
    from app.services import clock

    now = now or clock.now()
    table = TicketDayFigures.__table__
    connection.execute(delete(table))
    days, resolved = defaultdict(zero), defaultdict(int)
    last = 0
    while True:
        ids = connection.execute(select(Ticket.id).where(Ticket.id > last).order_by(Ticket.id).limit(chunk)).scalars().all()
        if not ids:
            break
        rows = connection.execute(facts(now, Ticket.id >= ids[0], Ticket.id <= ids[-1]).order_by(Ticket.id)).all()
        accumulate(rows, days, lambda row: (row[1], utc_day(row[9])))
        for row in rows:
            if row[10] is not None:
                resolved[(row[1], utc_day(row[10]), row[0])] = 1
        last = ids[-1]
    for (organisation_id, day, _ticket), _one in resolved.items():
        days[(organisation_id, day, "resolved", None, None)][0] += 1
    months = defaultdict(zero)
    for (organisation_id, day, *key), values in days.items():
        add(months[(organisation_id, month_of(day), *key)], values)
    rows = (
        (span, day, organisation_id, dimension, item_id, item, *values)
        for span, sums in ((DAY, days), (MONTH, months))
        for (organisation_id, day, dimension, item_id, item), values in sums.items()
    )
    _write_many(connection, rows)


def _write_many(connection, rows, batch=5000):
    """Rows of (span, day, organisation_id, dimension, item_id, item, *MEASURES): COPY on
    PostgreSQL (a million rows in seconds), multi-row INSERTs elsewhere."""
    names = ["span", "day", "organisation_id", "dimension", "item_id", "item", *MEASURES]
    if connection.dialect.name == "postgresql":
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in rows:
            writer.writerow(["\\N" if v is None else v for v in row])
        buffer.seek(0)
        cursor = connection.connection.driver_connection.cursor()
        cursor.copy_expert(f"COPY ticket_day_figures ({', '.join(names)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer)
        return
    chunk = []
    for row in rows:
        chunk.append(dict(zip(names, row)))
        if len(chunk) >= batch:
            connection.execute(insert(TicketDayFigures.__table__), chunk)
            chunk = []
    if chunk:
        connection.execute(insert(TicketDayFigures.__table__), chunk)


# --- following the session ----------------------------------------------------------------------


def _touched(session):
    return session.info.setdefault(_TOUCHED, set())


def _note_buckets(session, connection, ticket_ids):
    """The buckets the tickets belong to as the database holds them now."""
    if not ticket_ids:
        return
    pending = session.info.setdefault(_PENDING, set())
    ids = sorted(ticket_ids)
    for offset in range(0, len(ids), 500):
        for organisation_id, created_on, resolved_on in connection.execute(
            select(Ticket.organisation_id, Ticket.created_on, Ticket.resolved_on).where(Ticket.id.in_(ids[offset:offset + 500]))
        ):
            pending.add((organisation_id, utc_day(created_on)))
            if resolved_on is not None:
                pending.add((organisation_id, utc_day(resolved_on)))


def _ticket_id(instance):
    if isinstance(instance, Ticket):
        return inspect(instance).identity[0] if inspect(instance).identity else None
    if isinstance(instance, SatisfactionRating):
        if inspect(instance).dict.get("ticket_id") is not None:
            return inspect(instance).dict["ticket_id"]
        if inspect(instance).dict.get("ticket") is not None:
            return inspect(instance.ticket).identity[0] if inspect(instance.ticket).identity else None
        history = inspect(instance).attrs.ticket_id.history
        return next((t for t in (*history.deleted, *history.unchanged, *history.added) if t is not None), None)
    return None


def _before_flush(session, _context, _instances):
    """Before the rows change: the buckets they leave (their old day, organisation,
    resolution); the tickets touched are counted again where they land at the commit."""
    old = {_ticket_id(i) for i in list(session.dirty) + list(session.deleted)} - {None}
    if old:
        _note_buckets(session, session.connection(), old)
        _touched(session).update(old)


def _after_flush(session, _context):
    for instance in session.new:
        ticket_id = _ticket_id(instance)
        if ticket_id is not None:
            _touched(session).add(ticket_id)


def _after_bulk(orm_state):
    if (orm_state.is_update or orm_state.is_delete) and orm_state.bind_mapper is not None and orm_state.bind_mapper.class_ is Ticket:
        orm_state.session.info[_EVERYTHING] = True


def _before_commit(session):
    if session.dirty or session.new or session.deleted:
        session.flush()
    everything = session.info.pop(_EVERYTHING, False)
    touched = session.info.pop(_TOUCHED, set())
    if not (everything or touched or session.info.get(_PENDING)):
        return
    from app.services import clock

    connection = session.connection()
    session.info[_CHANGED] = True
    if everything:
        session.info.pop(_PENDING, None)
        rebuild(connection)
        return
    _note_buckets(session, connection, touched)
    recount(connection, session.info.pop(_PENDING, set()), clock.now())


def _after_commit(session):
    if session.info.pop(_CHANGED, False):
        from app.services import figure_cache

        figure_cache.changed()  # the dashboards' cached figures are old now


def _forget(session, transaction):
    if transaction.parent is None:
        for name in (_PENDING, _EVERYTHING, _TOUCHED, _CHANGED):
            session.info.pop(name, None)


_installed = False


def install():
    """Follow every session (once per process)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _after_bulk)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_transaction_end", _forget)
    _installed = True


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
