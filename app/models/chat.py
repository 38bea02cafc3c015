"""Live chat (C1–C6): the widget channels partners embed, conversations and their messages.

Every message is stored before it is broadcast and numbered within its conversation (`seq`),
so that a widget or a console that lost its connection asks for what came after the last
number it has. A message typed offline carries the widget's own id (`client_id`): sent twice,
it is stored once.
"""
from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship

from app.models.types import UTCDateTime, utcnow


class ChatChannel(Model):
    """A widget installation: it belongs to a partner organisation, has a public key (in the
    snippet) and a secret (on the partner's server, to sign its users' identities), and is
    accepted only from the web origins the partner declared."""

    __tablename__ = "chat_channel"
    id = Column(Integer, primary_key=True)
    name = Column(String(150), nullable=False)
    organisation_id = Column(Integer, ForeignKey("organisation.id"), nullable=False, index=True)
    organisation = relationship("Organisation")
    public_key = Column(String(40), nullable=False, unique=True)
    secret = Column(String(64), nullable=False)
    allowed_origins = Column(Text, nullable=False, default="")  # one origin per line
    allow_anonymous = Column(Boolean, nullable=False, default=False)
    active = Column(Boolean, nullable=False, default=True)
    created_on = Column(UTCDateTime, nullable=False, default=utcnow)

    @property
    def origins(self):
        return [line.strip().rstrip("/") for line in (self.allowed_origins or "").splitlines() if line.strip()]

    def __repr__(self):
        return self.name


class ConversationStatus:
    WAITING = "waiting"  # asked, no agent yet
    ACTIVE = "active"  # an agent answers
    CLOSED = "closed"
    OFFLINE = "offline"  # nobody was available: the message became a ticket
    ALL = [WAITING, ACTIVE, CLOSED, OFFLINE]
    OPEN = (WAITING, ACTIVE)
    LABELS = {WAITING: _l("En attente"), ACTIVE: _l("En cours"), CLOSED: _l("Terminée"), OFFLINE: _l("Message hors ligne")}


class ChatConversation(Model):
    __tablename__ = "chat_conversation"
    id = Column(Integer, primary_key=True)
    channel_id = Column(Integer, ForeignKey("chat_channel.id"), nullable=False, index=True)
    channel = relationship("ChatChannel")
    organisation_id = Column(Integer, ForeignKey("organisation.id"), nullable=False, index=True)
    organisation = relationship("Organisation")
    # The visitor: their account when the partner vouched for someone NovaDesk knows, else
    # what the partner (signed) or the visitor (pre-chat form) said.
    visitor_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)
    visitor = relationship("NovaUser", foreign_keys=[visitor_id])
    visitor_external_id = Column(String(200), nullable=True, index=True)
    visitor_name = Column(String(200), nullable=True)
    visitor_email = Column(String(254), nullable=True, index=True)
    identified = Column(Boolean, nullable=False, default=False)  # signed by the partner
    token_hash = Column(String(64), nullable=False, unique=True)  # the widget's key to resume
    language = Column(String(5), nullable=False, default="fr")
    status = Column(String(10), nullable=False, default=ConversationStatus.WAITING, index=True)
    agent_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)
    agent = relationship("NovaUser", foreign_keys=[agent_id])
    queue_id = Column(Integer, ForeignKey("queue.id"), nullable=True)
    queue = relationship("Queue")
    started_on = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    accepted_on = Column(UTCDateTime, nullable=True)
    closed_on = Column(UTCDateTime, nullable=True)
    last_seq = Column(Integer, nullable=False, default=0)
    visitor_read_seq = Column(Integer, nullable=False, default=0)
    agent_read_seq = Column(Integer, nullable=False, default=0)
    ticket_id = Column(Integer, ForeignKey("ticket.id"), nullable=True, index=True)
    ticket = relationship("Ticket")
    rating = Column(Integer, nullable=True)
    rating_comment = Column(Text, nullable=True)
    rated_on = Column(UTCDateTime, nullable=True)

    @property
    def status_label(self):
        return ConversationStatus.LABELS.get(self.status, self.status)

    def __repr__(self):
        return f"#{self.id}"

    @property
    def visitor_label(self):
        if self.visitor is not None:
            return self.visitor.full_name
        return self.visitor_name or self.visitor_email or "—"


class ChatFile(Model):
    """A file sent in a conversation, checked like ticket attachments."""

    __tablename__ = "chat_file"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(Integer, ForeignKey("chat_conversation.id", ondelete="CASCADE"), nullable=False, index=True)
    filename = Column(String(255), nullable=False)
    content_type = Column(String(100), nullable=False)
    size = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=False)
    storage_key = Column(String(255), nullable=False)
    preview_key = Column(String(255), nullable=True)
    is_image = Column(Boolean, nullable=False, default=False)
    width = Column(Integer, nullable=True)
    height = Column(Integer, nullable=True)
    created_on = Column(UTCDateTime, nullable=False, default=utcnow)


class ChatMessage(Model):
    __tablename__ = "chat_message"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_chat_message_seq"),
        UniqueConstraint("conversation_id", "client_id", name="uq_chat_message_client_id"),
    )
    id = Column(Integer, primary_key=True)
    conversation_id = Column(Integer, ForeignKey("chat_conversation.id", ondelete="CASCADE"), nullable=False)
    seq = Column(Integer, nullable=False)
    author_kind = Column(String(10), nullable=False)  # visitor | agent | system
    author_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    author_name = Column(String(200), nullable=True)
    body = Column(Text, nullable=False, default="")
    client_id = Column(String(64), nullable=True)
    file_id = Column(Integer, ForeignKey("chat_file.id"), nullable=True)
    file = relationship("ChatFile")
    created_on = Column(UTCDateTime, nullable=False, default=utcnow)


class ChatPresence(Model):
    """One row per open console connection, refreshed by its heartbeat: an agent is online
    while one of their rows is fresh, whichever process holds the socket."""

    __tablename__ = "chat_presence"
    sid = Column(String(64), primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True)
    seen_on = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
