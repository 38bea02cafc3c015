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

Whether a ticket still running is late depends on the clock: a bucket holds the lateness seen
when it was last counted, and the SLA watch, which wakes at every deadline, has the ticket's
bucket counted again when one passes (`deadline_passed`). So a report reads no ticket outside
the hours at the edges of its period. (A worker stopped for longer than
SLA_ALERT_LOOKBACK_HOURS misses the deadlines of that gap: `flask novadesk rebuild-figures`.)

Each bucket is counted with `facts()`, the same statement the reports use for what they read
directly (the hours at the edges of a period), so both agree by construction; tests/test_rollups.py compares them with the direct queries over random
changes. `rebuild()` counts everything again row by row in Python (the reference);
`rebuild_in_sql()` has the database count the same rows set-based (`flask novadesk
rebuild-figures`, the migrations, bench/generate_tickets.py, a bulk UPDATE).
"""
from app.services.rollups.common import (
    _CHANGED,
    _EVERYTHING,
    _PENDING,
    _TOUCHED,
    DAY,
    DIMENSIONS,
    MEASURES,
    MONTH,
    SATISFIED_FROM,
    accumulate,
    add,
    day_start,
    facts,
    late_expression,
    measures,
    month_of,
    running_expression,
    span_conditions,
    spans,
    ticket_keys,
    utc_day,
    whole_days,
    zero,
)
from app.services.rollups.counting import _count_bucket, _insert, _lock, _rows_of, _write_many, rebuild, rebuild_in_sql, recount
from app.services.rollups.upkeep import (
    _after_bulk,
    _after_commit,
    _after_flush,
    _before_commit,
    _before_flush,
    _forget,
    _installed,
    _note_buckets,
    _ticket_id,
    _touched,
    deadline_passed,
    install,
)

__all__ = [
    "DAY",
    "DIMENSIONS",
    "MEASURES",
    "MONTH",
    "SATISFIED_FROM",
    "_CHANGED",
    "_EVERYTHING",
    "_PENDING",
    "_TOUCHED",
    "_after_bulk",
    "_after_commit",
    "_after_flush",
    "_before_commit",
    "_before_flush",
    "_count_bucket",
    "_forget",
    "_insert",
    "_installed",
    "_lock",
    "_note_buckets",
    "_rows_of",
    "_ticket_id",
    "_touched",
    "_write_many",
    "accumulate",
    "add",
    "day_start",
    "deadline_passed",
    "facts",
    "install",
    "late_expression",
    "measures",
    "month_of",
    "rebuild",
    "rebuild_in_sql",
    "recount",
    "running_expression",
    "span_conditions",
    "spans",
    "ticket_keys",
    "utc_day",
    "whole_days",
    "zero",
]
