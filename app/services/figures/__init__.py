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
from app.services.figures.common import (
    SATISFIED_FROM,
    Figures,
    Period,
    _aggregates,
    _cohort,
    _figures,
    _in,
    _local_midnight,
    _round,
    _tickets,
    last_days,
    local_today,
    warning_minutes,
)
from app.services.figures.daily import _as_date, _day, daily_flow, new_and_resolved, status_counts, status_counts_direct
from app.services.figures.report import agents, chat_summary, in_hand, in_hand_direct, my_work, recent_ratings, report
from app.services.figures.summary import (
    DIMENSIONS,
    STAFF_ONLY_DIMENSIONS,
    _breakdown,
    _dimension,
    _in_range,
    _labels,
    _person_label,
    _summed,
    _sums,
    breakdown,
    breakdown_direct,
    dimensions_for,
    summary,
    summary_direct,
)
from app.services.figures.watch import WatchedTicket, _add_assignees, recent_alerts, recent_events, tickets_needing_help, urgent_tickets

__all__ = [
    "DIMENSIONS",
    "Figures",
    "Period",
    "SATISFIED_FROM",
    "STAFF_ONLY_DIMENSIONS",
    "WatchedTicket",
    "_add_assignees",
    "_aggregates",
    "_as_date",
    "_breakdown",
    "_cohort",
    "_day",
    "_dimension",
    "_figures",
    "_in",
    "_in_range",
    "_labels",
    "_local_midnight",
    "_person_label",
    "_round",
    "_summed",
    "_sums",
    "_tickets",
    "agents",
    "breakdown",
    "breakdown_direct",
    "chat_summary",
    "daily_flow",
    "dimensions_for",
    "in_hand",
    "in_hand_direct",
    "last_days",
    "local_today",
    "my_work",
    "new_and_resolved",
    "recent_alerts",
    "recent_events",
    "recent_ratings",
    "report",
    "status_counts",
    "status_counts_direct",
    "summary",
    "summary_direct",
    "tickets_needing_help",
    "urgent_tickets",
    "warning_minutes",
]
