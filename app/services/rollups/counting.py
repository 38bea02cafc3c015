"""Counting the buckets again (upkeep at the commit, rebuild of everything)."""
import zlib
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import Date, Integer, String, and_, case, cast, delete, func, insert, literal, null, or_, select, text, type_coerce, update

from app.models import SatisfactionRating, Ticket, TicketDayFigures
from app.models.tickets import ticket_assignee
from app.services.rollups.common import (
    DAY,
    MEASURES,
    MONTH,
    SATISFIED_FROM,
    accumulate,
    add,
    day_start,
    facts,
    late_expression,
    month_of,
    utc_day,
    zero,
)

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


def contributions(connection, ticket_ids, now, lock=False, running_late=None):
    """What each ticket adds to the sums as the database holds it now: {ticket_id: {(organisation_id,
    day, dimension, item_id, item): values}} (a merged or missing ticket adds nothing). `lock`
    (PostgreSQL) holds the tickets' rows until the commit, so that no other transaction changes
    them between this reading and ours. The (organisation_id, day) buckets of the tickets still
    running and late now are added to the set `running_late`, if given."""
    out = {}
    ids = sorted(ticket_ids)
    for offset in range(0, len(ids), 500):
        statement = facts(now, Ticket.id.in_(ids[offset:offset + 500])).order_by(Ticket.id)
        if lock and connection.dialect.name == "postgresql":
            statement = statement.with_for_update(of=Ticket.__table__)
        rows = connection.execute(statement).all()
        by_ticket = defaultdict(list)
        for row in rows:
            by_ticket[row[0]].append(row)
        for ticket_id, ticket_rows in by_ticket.items():
            sums = defaultdict(zero)
            accumulate(ticket_rows, sums, lambda row: (row[1], utc_day(row[9])))
            first = ticket_rows[0]
            if running_late is not None and first[13] and first[14]:
                running_late.add((first[1], utc_day(first[9])))
            if first[10] is not None:
                sums[(first[1], utc_day(first[10]), "resolved", None, None)][0] += 1
            out[ticket_id] = dict(sums)
    return out


def apply_difference(connection, difference):
    """Add `difference` ({(organisation_id, day, dimension, item_id, item): values}) to the day
    rows and to their month rows: the rows concerned are read once (under the lock of their
    organisation and month), then replaced by their new values in one DELETE and one INSERT;
    a row whose sums all fall to zero is not written again."""
    changes = defaultdict(zero)
    for (organisation_id, day, *key), values in difference.items():
        if any(values):
            add(changes[(DAY, day, organisation_id, *key)], values)
            add(changes[(MONTH, month_of(day), organisation_id, *key)], values)
    changes = {k: v for k, v in changes.items() if any(v)}
    if not changes:
        return
    for organisation_id, month in sorted({(k[2], k[1]) for k in changes if k[0] == MONTH}):
        _lock(connection, organisation_id, month)
    table = TicketDayFigures.__table__
    c = table.c
    buckets = sorted({(k[0], k[1], k[2]) for k in changes})
    existing, ids = {}, []
    for offset in range(0, len(buckets), 200):
        chosen = or_(*[and_(c.span == span, c.day == day, c.organisation_id == organisation_id) for span, day, organisation_id in buckets[offset:offset + 200]])
        for row in connection.execute(select(c.id, c.span, c.day, c.organisation_id, c.dimension, c.item_id, c.item, *[c[m] for m in MEASURES]).where(chosen)):
            key = tuple(row[1:7])
            if key in changes:
                add(existing.setdefault(key, zero()), list(row[7:]))
                ids.append(row[0])
    if ids:
        connection.execute(delete(table).where(c.id.in_(ids)))
    rows = []
    for key, values in changes.items():
        total = existing.get(key, zero())
        add(total, values)
        if any(total):
            rows.append({"span": key[0], "day": key[1], "organisation_id": key[2], "dimension": key[3], "item_id": key[4], "item": key[5],
                         **dict(zip(MEASURES, total))})
    if rows:
        connection.execute(insert(table), rows)


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


# --- everything counted by the database ------------------------------------------------------

_COLUMNS = ["span", "day", "organisation_id", "dimension", "item_id", "item", *MEASURES]


def _utc_day(column, dialect):
    if dialect == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)  # SQLite keeps UTC without an offset


def _month_start(day, dialect):
    if dialect == "postgresql":
        return cast(func.date_trunc("month", day), Date)
    return func.strftime("%Y-%m-01", day)


def rebuild_in_sql(connection, now=None, running_late=True):
    """What `rebuild` counts, counted by the database itself: one INSERT … SELECT … GROUP BY
    per dimension, then the months summed from the days (seconds for a million tickets, where
    `rebuild` reads every ticket into Python). tests/test_rollups.py proves both give the same
    rows; `flask novadesk rebuild-figures`, bench/generate_tickets.py and a bulk UPDATE of
    tickets use this one. (`running_late=False`: the running tickets' lateness left out, as
    the figures held it before revision b8e2d4f6a1c3, for its downgrade.)"""
    from sqlalchemy import and_, not_

    from app.services import clock
    from app.services.rollups.common import running_expression

    now = now or clock.now()
    dialect = connection.dialect.name
    table = TicketDayFigures.__table__
    c = table.c
    connection.execute(delete(table))
    day = _utc_day(Ticket.created_on, dialect)
    score, late = SatisfactionRating.score, late_expression(now)
    sums = [
        func.count(), func.count(Ticket.first_response_minutes), func.coalesce(func.sum(Ticket.first_response_minutes), 0),
        func.count(Ticket.resolution_minutes), func.coalesce(func.sum(Ticket.resolution_minutes), 0),
        func.coalesce(func.sum(case((late if running_late else and_(late, not_(running_expression())), 1), else_=0)), 0), func.count(score),
        func.coalesce(func.sum(score), 0), func.coalesce(func.sum(case((score >= SATISFIED_FROM, 1), else_=0)), 0),
    ]
    no_id, no_item = type_coerce(null(), Integer), type_coerce(null(), String)
    keys = [
        ("all", None, None), ("requester", Ticket.requester_id, None), ("product", Ticket.product_id, None),
        ("type", Ticket.type_id, None), ("priority", Ticket.priority_id, None), ("channel", None, Ticket.channel),
        ("queue", Ticket.queue_id, None), ("agent", ticket_assignee.c.user_id, None), ("status", None, Ticket.status_category),
    ]
    for dimension, item_id, item in keys:
        source = Ticket.__table__.outerjoin(SatisfactionRating.__table__, SatisfactionRating.ticket_id == Ticket.id)
        if dimension == "agent":
            source = source.outerjoin(ticket_assignee, ticket_assignee.c.ticket_id == Ticket.id)
        grouped = [day, Ticket.organisation_id, *[k for k in (item_id, item) if k is not None]]
        statement = (
            select(literal(DAY), day, Ticket.organisation_id, literal(dimension), no_id if item_id is None else item_id,
                   no_item if item is None else item, *sums)
            .select_from(source)
            .where(Ticket.merged_into_id.is_(None))
            .group_by(*grouped)
        )
        connection.execute(insert(table).from_select(_COLUMNS, statement))
    resolved_day = _utc_day(Ticket.resolved_on, dialect)
    connection.execute(insert(table).from_select(_COLUMNS, (
        select(literal(DAY), resolved_day, Ticket.organisation_id, literal("resolved"), no_id, no_item, func.count(),
               *[literal(0)] * (len(MEASURES) - 1))
        .where(Ticket.merged_into_id.is_(None), Ticket.resolved_on.isnot(None))
        .group_by(resolved_day, Ticket.organisation_id)
    )))
    month = _month_start(c.day, dialect)
    connection.execute(insert(table).from_select(_COLUMNS, (
        select(literal(MONTH), month, c.organisation_id, c.dimension, c.item_id, c.item, *[func.sum(c[m]) for m in MEASURES])
        .where(c.span == DAY)
        .group_by(month, c.organisation_id, c.dimension, c.item_id, c.item)
    )))


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
