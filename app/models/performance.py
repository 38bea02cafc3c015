"""What the dashboards and reports read beside the tickets: satisfaction ratings and the
one-time links that ask for them (P4), the SLA alerts already sent and the escalation rules
an admin configures (T13)."""
from flask_appbuilder import Model
from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship

from app.models.types import UTCDateTime, utcnow


class SatisfactionRating(Model):
    """The client's rating of a ticket: 1 to 5 and a comment. One per ticket; rating again
    after a reopening replaces it."""

    __tablename__ = "satisfaction_rating"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="ck_satisfaction_score"),)

    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("ticket.id", ondelete="CASCADE"), nullable=False, unique=True)
    ticket = relationship("Ticket", backref="satisfaction", uselist=False)
    score = Column(Integer, nullable=False)
    comment = Column(Text, nullable=True)
    rated_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    rated_by = relationship("NovaUser")
    via = Column(String(10), nullable=False, default="portal")  # portal | email
    rated_on = Column(UTCDateTime, nullable=False, default=utcnow, index=True)


class SatisfactionInvite(Model):
    """A link sent by e-mail when a ticket is resolved: it works once, without signing in,
    until it expires. Only the token's hash is stored."""

    __tablename__ = "satisfaction_invite"

    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("ticket.id", ondelete="CASCADE"), nullable=False, index=True)
    ticket = relationship("Ticket")
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=True)
    user = relationship("NovaUser")
    token_hash = Column(String(64), nullable=False, unique=True)
    created_on = Column(UTCDateTime, nullable=False, default=utcnow)
    expires_on = Column(UTCDateTime, nullable=False)
    used_on = Column(UTCDateTime, nullable=True)


class SlaStage:
    WARNING = "warning"  # the deadline is near
    BREACH = "breach"  # the deadline has passed
    ALL = [WARNING, BREACH]


class SlaDeadline:
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"
    ALL = [FIRST_RESPONSE, RESOLUTION]


class SlaAlert(Model):
    """One warning or breach of one deadline of one ticket, recorded so that it is sent once.
    A deadline that moves (priority change, pause) is a new deadline and may alert again."""

    __tablename__ = "sla_alert"
    __table_args__ = (
        UniqueConstraint("ticket_id", "deadline", "stage", "due", name="uq_sla_alert_once"),
        Index("ix_sla_alert_created", "created_on"),
    )

    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, ForeignKey("ticket.id", ondelete="CASCADE"), nullable=False, index=True)
    ticket = relationship("Ticket")
    deadline = Column(String(20), nullable=False)  # SlaDeadline
    stage = Column(String(10), nullable=False)  # SlaStage
    due = Column(UTCDateTime, nullable=False)
    created_on = Column(UTCDateTime, nullable=False, default=utcnow)


class EscalationRule(Model):
    """What the SLA watch does beyond warning people, when a deadline is near or passed:
    raise the ticket to the next support level, hand it to someone, raise its priority,
    tell the client's commercial. Rules apply in order; each acts once per deadline."""

    __tablename__ = "escalation_rule"

    id = Column(Integer, primary_key=True)
    name = Column(String(120), nullable=False, unique=True)
    active = Column(Boolean, nullable=False, default=True)
    position = Column(Integer, nullable=False, default=0)
    stage = Column(String(10), nullable=False, default=SlaStage.BREACH)
    deadline = Column(String(20), nullable=True)  # None: either deadline
    priority_id = Column(Integer, ForeignKey("priority.id"), nullable=True)  # None: every priority
    priority = relationship("Priority")
    raise_level = Column(Boolean, nullable=False, default=False)
    reassign_to_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    reassign_to = relationship("NovaUser")
    raise_priority = Column(Boolean, nullable=False, default=False)
    notify_commercial = Column(Boolean, nullable=False, default=False)

    def __repr__(self):
        return self.name
