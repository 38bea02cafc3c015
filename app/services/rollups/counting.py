"""Counting the buckets again (upkeep at the commit, rebuild of everything)."""
import zlib
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import delete, func, insert, select, text, update

from app.models import Ticket, TicketDayFigures
from app.services.rollups.common import DAY, MEASURES, MONTH, accumulate, add, day_start, facts, month_of, utc_day, zero

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
