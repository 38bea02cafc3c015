"""Tickets and their configuration: types, priorities (with SLA targets), statuses, queues,
canned responses, the business-hours calendar; messages, attachments, links and history."""
from flask_appbuilder import Model
from sqlalchemy import JSON, Boolean, Column, Date, ForeignKey, Index, Integer, String, Table, Text, event, inspect
from sqlalchemy.orm import Session, relationship

from app.models.types import UTCDateTime, utcnow


class StatusCategory:
    """The fixed categories the logic relies on; admins map their statuses onto them (T5)."""

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"  # waiting for the client: the SLA clock is paused
    RESOLVED = "resolved"
    CLOSED = "closed"
    ORDER = [NEW, OPEN, PENDING, RESOLVED, CLOSED]
    ACTIVE = (NEW, OPEN, PENDING)
    DONE = (RESOLVED, CLOSED)


class Channel:
    WEB = "web"
    EMAIL = "email"
    CHAT = "chat"
    PHONE = "phone"
    API = "api"
    ALL = [WEB, EMAIL, CHAT, PHONE, API]


class Routing:
    MANUAL = "manual"
    ROUND_ROBIN = "round_robin"
    LEAST_LOADED = "least_loaded"
    ALL = [MANUAL, ROUND_ROBIN, LEAST_LOADED]


class RequestType(Model):
    __tablename__ = "request_type"
    id = Column(Integer, primary_key=True)
    name = Column(String(120), nullable=False, unique=True)
    description = Column(Text)
    position = Column(Integer, nullable=False, default=0)
    active = Column(Boolean, nullable=False, default=True)

    def __repr__(self):
        return self.name


class Priority(Model):
    """A priority and its SLA targets, in business minutes (T4)."""

    __tablename__ = "priority"
    id = Column(Integer, primary_key=True)
    key = Column(String(20), nullable=False, unique=True)  # urgent, high, normal, low
    name = Column(String(60), nullable=False, unique=True)
    position = Column(Integer, nullable=False, default=0)  # 0 = most urgent
    first_response_minutes = Column(Integer, nullable=False)
    resolution_minutes = Column(Integer, nullable=False)

    def __repr__(self):
        return self.name


class TicketStatus(Model):
    __tablename__ = "ticket_status"
    id = Column(Integer, primary_key=True)
    name = Column(String(60), nullable=False, unique=True)
    category = Column(String(20), nullable=False)
    position = Column(Integer, nullable=False, default=0)
    active = Column(Boolean, nullable=False, default=True)

    def __repr__(self):
        return self.name


class BusinessCalendar(Model):
    """Opening hours and holidays that SLA deadlines are counted in."""

    __tablename__ = "business_calendar"
    id = Column(Integer, primary_key=True)
    name = Column(String(100), nullable=False, unique=True)
    timezone = Column(String(64), nullable=False, default="Europe/Paris")
    # {"0": [["08:00", "12:00"], ["13:00", "17:00"]], …}: weekday (0 = Monday) to open intervals
    week = Column(JSON, nullable=False)
    holidays = relationship("Holiday", back_populates="calendar", cascade="all, delete-orphan", order_by="Holiday.day")

    def __repr__(self):
        return self.name


class Holiday(Model):
    __tablename__ = "holiday"
    id = Column(Integer, primary_key=True)
    calendar_id = Column(Integer, ForeignKey("business_calendar.id", ondelete="CASCADE"), nullable=False)
    calendar = relationship("BusinessCalendar", back_populates="holidays")
    day = Column(Date, nullable=False)
    name = Column(String(100), nullable=False)

    def __repr__(self):
        return f"{self.day:%d/%m/%Y} {self.name}"


queue_member = Table(
    "queue_member",
    Model.metadata,
    Column("queue_id", Integer, ForeignKey("queue.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True),
)


class Queue(Model):
    """A team at a support level, with its way of routing new tickets (T12)."""

    __tablename__ = "queue"
    id = Column(Integer, primary_key=True)
    name = Column(String(100), nullable=False, unique=True)
    support_level = Column(Integer, nullable=False, default=1)
    routing = Column(String(20), nullable=False, default=Routing.MANUAL)
    active = Column(Boolean, nullable=False, default=True)
    members = relationship("NovaUser", secondary=queue_member, backref="queues")
    last_assigned_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)  # round-robin cursor

    def __repr__(self):
        return self.name


class CannedResponse(Model):
    """A predefined answer; {client}, {ticket}, {agent}… are filled in when inserted (T8)."""

    __tablename__ = "canned_response"
    id = Column(Integer, primary_key=True)
    title = Column(String(150), nullable=False, unique=True)
    body = Column(Text, nullable=False)
    active = Column(Boolean, nullable=False, default=True)

    def __repr__(self):
        return self.title


ticket_assignee = Table(
    "ticket_assignee",
    Model.metadata,
    Column("ticket_id", Integer, ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Ticket(Model):
    __tablename__ = "ticket"
    __table_args__ = (
        Index("ix_ticket_activity", "last_activity_on"),
        Index("ix_ticket_category_activity", "status_category", "last_activity_on"),
        Index("ix_ticket_org_activity", "organisation_id", "last_activity_on"),
        # Covers the list's counts per category (merged duplicates excluded) without the table.
        Index("ix_ticket_category_merged", "status_category", "merged_into_id"),
        # The same counts for a partner's organisation and for the common filters.
        Index("ix_ticket_org_category", "organisation_id", "status_category", "merged_into_id"),
        Index("ix_ticket_priority_category", "priority_id", "status_category", "merged_into_id"),
        # The workspace's triage orders, walked per status category (ticket_queries._page_ids):
        # « Non attribués » by priority then age, « En retard » by the nearest deadline.
        Index("ix_ticket_triage", "status_category", "merged_into_id", "priority_id", "created_on"),
        Index("ix_ticket_category_due", "status_category", "merged_into_id", "resolution_due"),
        # « Non attribués » walks only unassigned tickets: nearly every running one has someone.
        Index("ix_ticket_unassigned", "status_category", "assigned", "merged_into_id", "priority_id", "created_on"),
        # The dashboards' "late or about to be late": walked from the nearest deadline.
        Index("ix_ticket_first_response_due", "first_response_due"),
        # Created and resolved per day, counted from the index alone (dashboards, reports).
        Index("ix_ticket_created_merged_org", "created_on", "merged_into_id", "organisation_id"),
        Index("ix_ticket_resolved_merged_org", "resolved_on", "merged_into_id", "organisation_id"),
    )

    id = Column(Integer, primary_key=True)
    number = Column(String(20), unique=True)  # e.g. NL-000123, set once the id is known
    # The number it had in the previous help desk, for tickets imported from there.
    external_reference = Column(String(100), unique=True, nullable=True)
    # When the retention period anonymised its people's details (A4); statistics stay.
    anonymised_on = Column(UTCDateTime, nullable=True)
    title = Column(String(200), nullable=False)
    organisation_id = Column(Integer, ForeignKey("organisation.id"), nullable=False)
    organisation = relationship("Organisation")
    requester_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    requester = relationship("NovaUser", foreign_keys=[requester_id])
    # The address a ticket came from by e-mail when no account matched it (yet).
    requester_email = Column(String(320), nullable=True, index=True)
    # Opened by a mail whose sender our mail server did not vouch for (no DMARC/DKIM pass).
    sender_unverified = Column(Boolean, nullable=False, default=False, server_default="0")
    type_id = Column(Integer, ForeignKey("request_type.id"), nullable=True)
    type = relationship("RequestType")
    product_id = Column(Integer, ForeignKey("product.id"), nullable=True)
    product = relationship("Product")
    priority_id = Column(Integer, ForeignKey("priority.id"), nullable=False)
    priority = relationship("Priority")
    status_id = Column(Integer, ForeignKey("ticket_status.id"), nullable=False)
    status = relationship("TicketStatus")
    status_category = Column(String(20), nullable=False)  # copy of status.category, for fast lists
    channel = Column(String(10), nullable=False, default=Channel.WEB)
    queue_id = Column(Integer, ForeignKey("queue.id"), nullable=True, index=True)
    queue = relationship("Queue")
    assignees = relationship("NovaUser", secondary=ticket_assignee, backref="assigned_tickets")
    # Whether anyone is assigned: a copy of `assignees` kept at each flush (below), so that the
    # unassigned tickets are found in an index instead of probing every running one.
    assigned = Column(Boolean, nullable=False, default=False, server_default="0")
    created_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    created_by = relationship("NovaUser", foreign_keys=[created_by_id])
    created_on = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    last_activity_on = Column(UTCDateTime, nullable=False, default=utcnow)
    last_activity_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    last_activity_by = relationship("NovaUser", foreign_keys=[last_activity_by_id])
    # SLA (T4): deadlines = creation + target + time paused, all in business minutes.
    first_response_due = Column(UTCDateTime, nullable=True)
    resolution_due = Column(UTCDateTime, nullable=True, index=True)
    first_responded_on = Column(UTCDateTime, nullable=True)
    resolved_on = Column(UTCDateTime, nullable=True)
    closed_on = Column(UTCDateTime, nullable=True)
    sla_paused_since = Column(UTCDateTime, nullable=True)
    sla_paused_minutes = Column(Integer, nullable=False, default=0)
    # Business minutes it took, kept when it happens so that reports add them up in SQL (P1):
    # creation to first public answer by the support; creation to the last resolution, less
    # the time spent waiting for the client.
    first_response_minutes = Column(Integer, nullable=True)
    resolution_minutes = Column(Integer, nullable=True)
    parent_id = Column(Integer, ForeignKey("ticket.id"), nullable=True, index=True)
    parent = relationship("Ticket", remote_side=[id], foreign_keys=[parent_id], backref="children")
    merged_into_id = Column(Integer, ForeignKey("ticket.id"), nullable=True)
    merged_into = relationship("Ticket", remote_side=[id], foreign_keys=[merged_into_id])

    def __repr__(self):
        return f"{self.number} {self.title}"


class TicketMessage(Model):
    """A public reply or an internal note (T7). Bodies are plain text, escaped when shown."""

    __tablename__ = "ticket_message"
    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("ticket.id", ondelete="CASCADE"), nullable=False, index=True)
    ticket = relationship("Ticket", backref="messages")
    author_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    author = relationship("NovaUser")
    author_email = Column(String(320), nullable=True)  # sender of a mail with no account
    sender_unverified = Column(Boolean, nullable=False, default=False, server_default="0")  # as on Ticket
    source_mail_id = Column(Integer, ForeignKey("inbound_mail.id", ondelete="SET NULL"), nullable=True)
    body = Column(Text, nullable=False)
    internal = Column(Boolean, nullable=False, default=False)
    channel = Column(String(10), nullable=False, default=Channel.WEB)
    created_on = Column(UTCDateTime, nullable=False, default=utcnow)


class Attachment(Model):
    __tablename__ = "attachment"
    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("ticket.id", ondelete="CASCADE"), nullable=False, index=True)
    message_id = Column(Integer, ForeignKey("ticket_message.id", ondelete="CASCADE"), nullable=False, index=True)
    message = relationship("TicketMessage", backref="attachments")
    ticket = relationship("Ticket", viewonly=True)  # for the API's filters
    filename = Column(String(255), nullable=False)
    content_type = Column(String(100), nullable=False)
    size = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=False)
    storage_key = Column(String(200), nullable=False)
    preview_key = Column(String(200), nullable=True)
    is_image = Column(Boolean, nullable=False, default=False)
    width = Column(Integer)
    height = Column(Integer)
    created_on = Column(UTCDateTime, nullable=False, default=utcnow)


class TicketLink(Model):
    """A "related to" link between two tickets (T14), stored once, shown on both."""

    __tablename__ = "ticket_link"
    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("ticket.id", ondelete="CASCADE"), nullable=False, index=True)
    linked_id = Column(Integer, ForeignKey("ticket.id", ondelete="CASCADE"), nullable=False, index=True)
    linked = relationship("Ticket", foreign_keys=[linked_id])
    ticket = relationship("Ticket", foreign_keys=[ticket_id])


class TicketEvent(Model):
    """One line of a ticket's history (T6): an action or a field change, with who and when."""

    __tablename__ = "ticket_event"
    __table_args__ = (Index("ix_ticket_event_at", "at"),)  # the dashboards' latest actions
    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("ticket.id", ondelete="CASCADE"), nullable=False, index=True)
    at = Column(UTCDateTime, nullable=False, default=utcnow)
    actor_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    actor = relationship("NovaUser")
    action = Column(String(40), nullable=False)
    field = Column(String(40), nullable=True)
    old_value = Column(String(300), nullable=True)
    new_value = Column(String(300), nullable=True)
    internal = Column(Boolean, nullable=False, default=False)  # staff-only events (notes, queue moves)


@event.listens_for(Session, "before_flush")
def _keep_assigned_copy(session, _context, _instances):
    """Ticket.assigned follows the assignees, whichever service changed them."""
    for ticket in (*session.new, *session.dirty):
        if isinstance(ticket, Ticket) and inspect(ticket).attrs.assignees.history.has_changes():
            ticket.assigned = bool(ticket.assignees)
