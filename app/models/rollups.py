"""Per-day sums of the tickets, what the reports and dashboards read instead of a year of
tickets (P1–P3 at scale). Kept by app/services/rollups.py in the transaction of every change."""
from flask_appbuilder import Model
from sqlalchemy import BigInteger, Column, Date, Index, Integer, String


class TicketDayFigures(Model):
    """The sums of one organisation's tickets of one UTC day (or month), per dimension and key.

    dimension "all" (key none): the tickets *created* that day, what a report's summary and
    its per-client table add up; "requester", "product", "type", "priority", "channel",
    "queue", "agent": the same tickets per key (a ticket with two agents counts for each,
    none for "not assigned"), "status" (key: the status category the ticket has now);
    "resolved": the tickets whose (last) resolution fell that day,
    only `tickets` filled. Merged duplicates count nowhere. `late` counts the tickets that had
    missed a deadline when the bucket was last counted, running ones included: the SLA watch
    has a bucket counted again when one of its running tickets' deadlines passes."""

    __tablename__ = "ticket_day_figures"
    __table_args__ = (Index("ix_ticket_day_figures_span_day", "span", "day", "organisation_id", "dimension"),)

    id = Column(Integer, primary_key=True)
    span = Column(String(5), nullable=False)  # "day", or "month" (day: the month's first)
    day = Column(Date, nullable=False)
    organisation_id = Column(Integer, nullable=False)
    dimension = Column(String(12), nullable=False)
    item_id = Column(Integer, nullable=True)  # the key, or
    item = Column(String(10), nullable=True)  # the channel
    tickets = Column(Integer, nullable=False, default=0)
    answered = Column(Integer, nullable=False, default=0)
    first_response_minutes = Column(BigInteger, nullable=False, default=0)  # sum
    resolved = Column(Integer, nullable=False, default=0)
    resolution_minutes = Column(BigInteger, nullable=False, default=0)  # sum
    late = Column(Integer, nullable=False, default=0)
    ratings = Column(Integer, nullable=False, default=0)
    score = Column(Integer, nullable=False, default=0)  # sum
    satisfied = Column(Integer, nullable=False, default=0)
