"""Webhooks: the URLs admins subscribe to NovaDesk's events, and the deliveries waiting to
leave (an outbox written in the same transaction as the change that caused them)."""
from flask_appbuilder import Model
from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import relationship

from app.models.types import UTCDateTime, utcnow


class WebhookEvent:
    TICKET_CREATED = "ticket.created"
    TICKET_UPDATED = "ticket.updated"
    TICKET_REPLIED = "ticket.replied"
    TICKET_CLOSED = "ticket.closed"
    CHAT_STARTED = "chat.started"
    SLA_BREACHED = "sla.breached"
    ALL = [TICKET_CREATED, TICKET_UPDATED, TICKET_REPLIED, TICKET_CLOSED, CHAT_STARTED, SLA_BREACHED]


class DeliveryStatus:
    QUEUED = "queued"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after every retry; "Renvoyer" queues it again


class WebhookSubscription(Model):
    __tablename__ = "webhook_subscription"

    id = Column(Integer, primary_key=True)
    name = Column(String(120), nullable=False)
    url = Column(String(1000), nullable=False)
    events = Column(JSON, nullable=False, default=list)  # names from WebhookEvent.ALL
    secret = Column(String(128), nullable=False)  # HMAC key shared with the receiver
    active = Column(Boolean, nullable=False, default=True)
    created_on = Column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self):
        return self.name


class WebhookDelivery(Model):
    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_due", "status", "next_attempt_on"),)

    id = Column(Integer, primary_key=True)
    subscription_id = Column(Integer, ForeignKey("webhook_subscription.id", ondelete="CASCADE"), nullable=False, index=True)
    subscription = relationship("WebhookSubscription")
    event = Column(String(40), nullable=False)
    event_id = Column(String(36), nullable=False, unique=True)
    # Deliveries of one ticket leave in order: a later one waits for the earlier ones.
    ticket_id = Column(Integer, nullable=True, index=True)
    body = Column(Text, nullable=False)  # the exact JSON sent (and signed), fixed when queued
    status = Column(String(20), nullable=False, default=DeliveryStatus.QUEUED)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_on = Column(UTCDateTime, nullable=False, default=utcnow)
    last_status_code = Column(Integer, nullable=True)
    last_error = Column(Text, nullable=True)
    created_on = Column(UTCDateTime, nullable=False, default=utcnow)
    delivered_on = Column(UTCDateTime, nullable=True)
