"""Incoming mail: the IMAP mailboxes NovaDesk polls, and every message it received.

A message is recorded (raw bytes and all) and committed before anything is done with it, keyed
by its Message-ID: a re-fetch, a crash mid-way or a second worker finds it already there.
"""
from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import deferred, relationship

from app.models.types import UTCDateTime, utcnow
from app.security.encryption import EncryptedText


class MailboxSecurity:
    SSL = "ssl"
    STARTTLS = "starttls"
    NONE = "none"
    ALL = [SSL, STARTTLS, NONE]
    LABELS = {SSL: "SSL/TLS (port 993)", STARTTLS: "STARTTLS (port 143)", NONE: "Aucun chiffrement (réseau local seulement)"}


class Mailbox(Model):
    """An IMAP mailbox whose new messages become tickets and replies."""

    __tablename__ = "mailbox"
    id = Column(Integer, primary_key=True)
    name = Column(String(100), nullable=False, unique=True)
    address = Column(String(320), nullable=True)  # the address partners write to, for Reply-To
    host = Column(String(255), nullable=False)
    port = Column(Integer, nullable=False, default=993)
    security = Column(String(10), nullable=False, default=MailboxSecurity.SSL)
    username = Column(String(255), nullable=False)
    password = Column(EncryptedText, nullable=False)  # encrypted at rest (app/security/encryption.py)
    folder = Column(String(255), nullable=False, default="INBOX")
    active = Column(Boolean, nullable=False, default=True)
    # Where fetching resumes: IMAP UIDs only hold within one UIDVALIDITY of the folder.
    uid_validity = Column(Integer, nullable=True)
    last_uid = Column(Integer, nullable=False, default=0)
    last_checked_on = Column(UTCDateTime, nullable=True)
    last_error = Column(Text, nullable=True)
    created_on = Column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self):
        return self.name


class InboundStatus:
    RECEIVED = "received"  # recorded, not yet processed (or processing was interrupted)
    PROCESSED = "processed"  # became a ticket or a reply
    IGNORED = "ignored"  # auto-reply, bounce, list traffic, flood, too large: kept, not acted on
    FAILED = "failed"  # could not be processed: kept with its error, retried after a fix
    LABELS = {RECEIVED: "Reçu, à traiter", PROCESSED: "Traité", IGNORED: "Écarté", FAILED: "Non traitable"}


class InboundMail(Model):
    __tablename__ = "inbound_mail"
    id = Column(Integer, primary_key=True)
    # sha256 of the Message-ID (or of the raw message when it has none): the duplicate guard.
    message_key = Column(String(64), nullable=False, unique=True)
    message_id = Column(Text, nullable=True)
    mailbox_id = Column(Integer, ForeignKey("mailbox.id", ondelete="SET NULL"), nullable=True, index=True)
    mailbox = relationship("Mailbox")
    source = Column(String(120), nullable=False)  # "imap:<mailbox>" or "pipe"
    sender = Column(String(320), nullable=True, index=True)
    subject = Column(String(300), nullable=True)
    size = Column(Integer, nullable=False)
    raw = deferred(Column(LargeBinary, nullable=False))
    received_on = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    status = Column(String(20), nullable=False, default=InboundStatus.RECEIVED, index=True)
    reason = Column(String(40), nullable=True)  # e.g. auto_reply, bounce, flood, too_large
    outcome = Column(String(500), nullable=True)  # one line a person can read
    error = Column(Text, nullable=True)
    attempts = Column(Integer, nullable=False, default=0)
    processed_on = Column(UTCDateTime, nullable=True)
    ticket_id = Column(Integer, ForeignKey("ticket.id", ondelete="SET NULL"), nullable=True, index=True)
    ticket = relationship("Ticket")

    @property
    def status_label(self):
        return InboundStatus.LABELS.get(self.status, self.status)

    def __repr__(self):
        return self.subject or self.message_id or f"#{self.id}"
