"""Outgoing mail, written in the same transaction as the change that caused it."""
from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Text

from app.models.types import UTCDateTime, utcnow


class OutboxStatus:
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"  # gave up after every retry
    KEPT = "kept"  # no mail server configured: shown in the development mailbox
    LABELS = {QUEUED: "En attente", SENT: "Envoyé", FAILED: "En échec", KEPT: "Conservé (boîte de développement)"}


class OutboxMail(Model):
    __tablename__ = "outbox_mail"
    # Mail that carries a secret (a code, a one-time link): wiped once delivered, masked on screens.
    SECRET_KINDS = frozenset({"two_factor_code", "password_reset", "account_request_confirm", "ticket_resolved"})

    id = Column(Integer, primary_key=True)
    kind = Column(String(50), nullable=False)  # e.g. two_factor_code, account_created
    recipient = Column(String(320), nullable=False, index=True)
    subject = Column(String(300), nullable=False)
    body_text = Column(Text, nullable=False)
    body_html = Column(Text, nullable=True)
    status = Column(String(20), nullable=False, default=OutboxStatus.QUEUED, index=True)
    attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(Text, nullable=True)
    created_on = Column(UTCDateTime, nullable=False, default=utcnow)
    next_attempt_on = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    sent_on = Column(UTCDateTime, nullable=True)
    # Threading: the Message-ID is fixed when queued (a retry resends the same message), and
    # replies that quote it land in the ticket.
    message_id = Column(String(255), nullable=True, index=True)
    references_header = Column(Text, nullable=True)
    reply_to = Column(String(320), nullable=True)
    ticket_id = Column(Integer, ForeignKey("ticket.id", ondelete="SET NULL"), nullable=True, index=True)
    # RFC 3834: automatic notices say so; a copy of a person's reply does not.
    auto_submitted = Column(Boolean, nullable=False, default=True, server_default="1")
    bounced_on = Column(UTCDateTime, nullable=True)
    bounce_reason = Column(String(500), nullable=True)

    @property
    def carries_secret(self):
        return self.kind in self.SECRET_KINDS

    @property
    def screen_subject(self):
        import re

        return re.sub(r"\b\d{6}\b", "••••••", self.subject) if self.carries_secret else self.subject

    @property
    def screen_body(self):
        return "(contenu confidentiel : code ou lien à usage unique)" if self.carries_secret else self.body_text

    @property
    def status_label(self):
        return OutboxStatus.LABELS.get(self.status, self.status)
