"""Conversations and their messages (C1, C6): a visitor starts one, either side writes, reads
and types. Messages are numbered per conversation (`seq`) in the same transaction that stores
them, so that any reader can ask for what came after the last number it has; each stored
message is told to the conversation's room once committed (announce.py)."""
import hashlib
import secrets
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models import ChatConversation, ChatFile, ChatMessage, ConversationStatus, Organisation
from app.security import scopes
from app.services import ServiceError, audit, clock, webhooks
from app.services.chat.announce import tell_conversation, tell_message, tell_read, tell_typing
from app.services.chat.common import AGENT, SYSTEM, VISITOR, ChatRefused, ConversationNotFound, as_int, clean_body, clean_email, clean_name


def _token_hash(token):
    return hashlib.sha256(str(token).encode()).hexdigest()


def start_conversation(channel, visitor, question, language="fr", name=None, email=None, client_id=None, skip_sid=None):
    """A new conversation waiting for an agent, the question as its first message (with the
    widget's own id for it, `client_id`); the consoles that may list it hear of it. Returns
    the conversation, the widget's resume token (shown once) and the message."""
    conversation, token, message = open_conversation(channel, visitor, question, language, name=name, email=email, client_id=client_id, skip_sid=skip_sid)
    tell_conversation(conversation)
    return conversation, token, message


def open_conversation(channel, visitor, question, language="fr", name=None, email=None, client_id=None, skip_sid=None):
    """The conversation stored, its question as message 1, `chat.started` sent to webhooks;
    told to no console yet (an offline message is not a conversation to take)."""
    question = clean_body(question)
    if not visitor.identified:
        visitor.name = clean_name(name)
        if not visitor.name:
            raise ChatRefused(_("Indiquez votre nom."), {"name": "required"})
        visitor.email = clean_email(email)
    token = secrets.token_urlsafe(24)
    conversation = ChatConversation(
        channel_id=channel.id,
        organisation_id=visitor.organisation_id or channel.organisation_id,
        visitor_id=visitor.user_id,
        visitor_external_id=visitor.external_id,
        visitor_name=visitor.name,
        visitor_email=visitor.email,
        identified=visitor.identified,
        token_hash=_token_hash(token),
        language=language if language in ("fr", "en") else "fr",
        status=ConversationStatus.WAITING,
        started_on=clock.now(),
    )
    db.session.add(conversation)
    db.session.flush()
    message, _created = add_message(conversation, VISITOR, None, question, author_name=visitor.name,
                                    client_id=str(client_id)[:64] if client_id else None, skip_sid=skip_sid)
    audit.record(db.session, "chat.started", actor=None, target=None, details={"conversation": conversation.id, "organisation": conversation.organisation_id})
    organisation = db.session.get(Organisation, conversation.organisation_id)
    webhooks.chat_started({
        "id": conversation.id,
        "organisation": {"id": organisation.id, "name": organisation.name, "external_id": organisation.external_id},
        "visitor_external_id": conversation.visitor_external_id,
        "visitor_email": conversation.visitor_email,
        "identified": conversation.identified,
        "question": question,
        "started_on": conversation.started_on.isoformat(),
    })
    return conversation, token, message


def resume(channel, token, visitor):
    """The conversation a widget holds the token of, on the same channel and, for a signed
    visitor, the same person; None otherwise (the widget then starts afresh)."""
    if not token:
        return None
    conversation = db.session.query(ChatConversation).filter_by(token_hash=_token_hash(token), channel_id=channel.id).one_or_none()
    if conversation is None:
        return None
    if conversation.identified and (not visitor.identified or conversation.visitor_external_id != visitor.external_id):
        return None
    return conversation


def conversation_for_token(channel, token):
    """The conversation a widget holds the token of (its files go by HTTP with it)."""
    if not token:
        return None
    return db.session.query(ChatConversation).filter_by(token_hash=_token_hash(token), channel_id=channel.id).one_or_none()


def add_message(conversation, author_kind, author, body, client_id=None, file=None, author_name=None, skip_sid=None):
    """Store a message in a loaded conversation (system notes, the first question)."""
    message, created = store_message(
        conversation.id, author_kind, body, author_id=getattr(author, "id", None),
        author_name=author_name or (author.full_name if author is not None else None), client_id=client_id, chat_file=file, skip_sid=skip_sid,
    )
    set_committed_value(conversation, "last_seq", max(conversation.last_seq or 0, message.seq))
    return message, created


@dataclass
class StoredMessage:
    """A message just stored, as its event needs it (no ORM object to keep or refresh)."""

    id: int
    conversation_id: int
    seq: int
    author_kind: str
    author_id: int | None
    author_name: str | None
    body: str
    client_id: str | None
    file: object
    created_on: object


_NUMBERING = {}


def _numbering(only_if):
    """The statement that numbers a message, built once per kind of condition (the hot path
    would otherwise spend more time building SQL expressions than running them)."""
    key = only_if
    if key not in _NUMBERING:
        conditions = [ChatConversation.id == bindparam("numbered_conversation")]
        if only_if == "open":
            conditions.append(ChatConversation.status.in_(ConversationStatus.OPEN))
        elif only_if == "agent":
            conditions += [ChatConversation.status == ConversationStatus.ACTIVE, ChatConversation.agent_id == bindparam("answering_agent")]
        _NUMBERING[key] = (
            update(ChatConversation.__table__).where(*conditions).values(last_seq=ChatConversation.last_seq + 1)
            .returning(ChatConversation.last_seq)
        )
    return _NUMBERING[key]


_SAME_CLIENT_ID = select(*ChatMessage.__table__.columns).where(ChatMessage.conversation_id == bindparam("conversation_id"), ChatMessage.client_id == bindparam("client_id"))
_INSERT = insert(ChatMessage.__table__).returning(ChatMessage.id)


def store_message(conversation_id, author_kind, body, *, author_id=None, author_name=None, client_id=None, chat_file=None, only_if=None, agent_id=None, skip_sid=None):
    """Store a message with the conversation's next number: one UPDATE that numbers it (and
    checks `only_if` — "open", or "agent": active and answered by `agent_id` — in the same
    statement) and one INSERT; the new message is told to the conversation's room after the
    commit (but to the sender's socket `skip_sid`, answered by its acknowledgement). A message
    the widget already sent (same `client_id`, resent after a reconnect) is returned as it was
    stored, with created=False, and told to nobody again; (None, False) when the condition does
    not hold. Nothing here loads the conversation: every chat message takes this path."""
    # Core statements on the session's connection (same transaction): the ORM layer adds
    # nothing here but time, on the path every message takes.
    connection = db.session.connection()
    if client_id is not None:
        client_id = str(client_id)[:64]
        known = connection.execute(_SAME_CLIENT_ID, {"conversation_id": conversation_id, "client_id": client_id}).mappings().first()
        if known is not None:
            return StoredMessage(file=db.session.get(ChatFile, known["file_id"]) if known["file_id"] else None, **{k: v for k, v in known.items() if k != "file_id"}), False
    body = clean_body(body, required=chat_file is None)
    seq = connection.execute(_numbering(only_if), {"numbered_conversation": conversation_id, "answering_agent": agent_id}).scalar_one_or_none()
    if seq is None:
        return None, False
    now = clock.now()
    row = {
        "conversation_id": conversation_id, "seq": seq, "author_kind": author_kind, "author_id": author_id, "author_name": author_name,
        "body": body, "client_id": client_id, "file_id": chat_file.id if chat_file is not None else None, "created_on": now,
    }
    message_id = connection.execute(_INSERT, row).scalar_one()
    row.pop("file_id")
    message = StoredMessage(id=message_id, file=chat_file, **row)
    tell_message(message, skip_sid=skip_sid)
    return message, True


def visitor_message(conversation_id, visitor_name, body, client_id=None, file=None, skip_sid=None):
    message, created = store_message(conversation_id, VISITOR, body, author_name=visitor_name, client_id=client_id, chat_file=file, only_if="open", skip_sid=skip_sid)
    if message is None:
        raise ServiceError(_("Cette conversation est terminée."))
    return message, created


def agent_message(agent_id, agent_name, conversation_id, body, client_id=None, file=None, skip_sid=None):
    """The agent of an active conversation answers (checked in the numbering statement)."""
    message, created = store_message(
        conversation_id, AGENT, body, author_id=agent_id, author_name=agent_name, client_id=client_id, chat_file=file, only_if="agent",
        agent_id=agent_id, skip_sid=skip_sid,
    )
    if message is None:
        raise ServiceError(_("Acceptez d'abord cette conversation."))
    if message.author_id != agent_id:
        raise ConversationNotFound()  # someone else's client id: nothing to show
    return message, created


def system_message(conversation, body):
    return add_message(conversation, SYSTEM, None, body)[0]


def messages_after(conversation, seq, limit=500):
    seq = max(0, as_int(seq))
    return (
        db.session.query(ChatMessage)
        .filter(ChatMessage.conversation_id == conversation.id, ChatMessage.seq > seq)
        .order_by(ChatMessage.seq)
        .limit(limit)
        .all()
    )


def mark_read(conversation_id, side, seq, agent_id=None):
    """Read receipts: the highest number each side has seen (never goes back, never past the
    last message); for the agent's side, only the conversation's agent. The other side is
    told. Returns the new number, or None when nothing changed."""
    seq = as_int(seq, None)
    if seq is None:
        return None
    column = ChatConversation.visitor_read_seq if side == VISITOR else ChatConversation.agent_read_seq
    conditions = [ChatConversation.id == conversation_id, column < seq, ChatConversation.last_seq >= seq]
    if side != VISITOR:
        conditions.append(ChatConversation.agent_id == agent_id)
    changed = db.session.execute(update(ChatConversation).where(*conditions).values({column: seq}).execution_options(synchronize_session=False)).rowcount
    if not changed:
        return None
    tell_read(conversation_id, VISITOR if side == VISITOR else AGENT, seq)
    return seq


def visitor_typing(conversation_id, on):
    """The visitor types (or stopped): the consoles in the conversation's room are told."""
    tell_typing(conversation_id, VISITOR, on)


def agent_typing(agent_id, first_name, conversation_id, on):
    """The conversation's agent types: its widget is told; anyone else (a watcher) is not
    heard. Returns whether it was told."""
    if not scopes.answers_conversation_now(db.session, agent_id, conversation_id):
        return False
    tell_typing(conversation_id, AGENT, on, name=first_name)
    return True
