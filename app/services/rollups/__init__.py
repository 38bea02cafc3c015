"""Per-day and per-month sums of the tickets (table ticket_day_figures), kept in the
transaction of every change, so that a report over a year reads a few thousand sums instead
of a year of tickets (P1–P3 at scale).

Upkeep: whatever changes a ticket (a service, an import, an admin screen) goes through the
ORM; at the first flush that changes a ticket (or its rating) in a transaction, what it adds to
the sums as the database holds it is read (its row locked until the commit: FOR UPDATE on
PostgreSQL, the write lock taken first on SQLite); just before the commit what it adds now is
read again, and the difference is added to the day and month rows of the buckets concerned
(one read of those rows, one DELETE and one INSERT, under a transaction-scoped advisory lock
per (organisation, month) on PostgreSQL, so that two commits of the same month take turns). A
ticket first changed inside a savepoint that is rolled back is forgotten with it. A bulk
UPDATE or DELETE of tickets (which the ORM cannot follow row by row) has everything counted
again at the commit.

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
    _BEFORE,
    _CHANGED,
    _EVERYTHING,
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
from app.services.rollups.counting import (
    _count_bucket,
    _insert,
    _lock,
    _rows_of,
    _write_many,
    apply_difference,
    contributions,
    rebuild,
    rebuild_in_sql,
    recount,
)
from app.services.rollups.upkeep import (
    _after_bulk,
    _after_commit,
    _after_flush,
    _after_soft_rollback,
    _before,
    _before_commit,
    _before_flush,
    _forget,
    _installed,
    _ticket_id,
    deadline_passed,
    install,
)

__all__ = [
    "DAY",
    "DIMENSIONS",
    "MEASURES",
    "MONTH",
    "SATISFIED_FROM",
    "_BEFORE",
    "_CHANGED",
    "_EVERYTHING",
    "_after_bulk",
    "_after_commit",
    "_after_flush",
    "_after_soft_rollback",
    "_before",
    "_before_commit",
    "_before_flush",
    "_count_bucket",
    "_forget",
    "_insert",
    "_installed",
    "_lock",
    "_rows_of",
    "_ticket_id",
    "_write_many",
    "accumulate",
    "add",
    "apply_difference",
    "contributions",
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
