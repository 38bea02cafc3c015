"""Reads behind the reports (P1) that are not figures: the rows a report exports, only what
the person may see (scopes.tickets_filter). Plain values; the report view puts them in words."""
from sqlalchemy import select
from sqlalchemy.orm import aliased

from app.models import NovaUser, Organisation, Priority, Product, Queue, RequestType, SatisfactionRating, Ticket, TicketStatus
from app.security import scopes


def period_tickets(session, user, start, end, batch=2000):
    """The tickets created in [start, end) that `user` may see (merged ones left out), oldest
    first, read in batches of `batch`: never all in memory at once."""
    requester = aliased(NovaUser)
    statement = (
        select(
            Ticket.number, Ticket.title, Organisation.name.label("organisation"), requester.first_name.label("requester_first_name"),
            requester.last_name.label("requester_last_name"), RequestType.name.label("type"), Product.name.label("product"),
            Priority.name.label("priority"), TicketStatus.name.label("status"), Ticket.channel, Queue.name.label("queue"),
            Queue.support_level, Ticket.created_on, Ticket.first_responded_on, Ticket.first_response_minutes, Ticket.resolved_on,
            Ticket.resolution_minutes, Ticket.resolution_due, SatisfactionRating.score,
        )
        .join(Organisation, Organisation.id == Ticket.organisation_id)
        .join(Priority, Priority.id == Ticket.priority_id)
        .join(TicketStatus, TicketStatus.id == Ticket.status_id)
        .outerjoin(requester, requester.id == Ticket.requester_id)
        .outerjoin(RequestType, RequestType.id == Ticket.type_id)
        .outerjoin(Product, Product.id == Ticket.product_id)
        .outerjoin(Queue, Queue.id == Ticket.queue_id)
        .outerjoin(SatisfactionRating, SatisfactionRating.ticket_id == Ticket.id)
        .where(scopes.tickets_filter(user), Ticket.merged_into_id.is_(None), Ticket.created_on >= start, Ticket.created_on < end)
        .order_by(Ticket.created_on, Ticket.id)
        .execution_options(yield_per=batch)
    )
    return session.execute(statement)
