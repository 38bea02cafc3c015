"""Live chat's one door (C1–C6): who a widget's visitor is, conversations and their
messages, the agents' console actions, and the ways a conversation becomes a ticket.

Nothing here knows about Socket.IO: `app/realtime/` adapts these functions to socket events
and broadcasts what they return once it is committed. Messages are numbered per conversation
(`seq`) in the same transaction that stores them, so that any reader can ask for what came
after the last number it has (C6).
"""
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models import (
    ChatChannel,
    ChatConversation,
    ChatFile,
    ChatMessage,
    ChatPresence,
    ConversationStatus,
    NovaUser,
    Organisation,
    Queue,
    StatusCategory,
    Ticket,
)
from app.security import scopes
from app.services import ServiceError, audit, clock, events, search, sla, tickets, uploads, webhooks
from app.services.business_hours import is_business_time
from app.services.tickets import CONTROL_CHARACTERS

MESSAGE_MAX = 4000
NAME_MAX = 200
PRESENCE_SECONDS = 90  # a console's heartbeat comes every 30 s; three missed and it is gone
VISITOR, AGENT, SYSTEM = "visitor", "agent", "system"
DEMO_CHANNEL_KEY = "ndc_demo_novalead_partner"  # the channel of the demo partner page (DEMO_MODE)
# Who the demo page says is signed in: a demonstration person, never a real account (nothing
# said on the demo page becomes a ticket in a client's name, nor mail to them).
DEMO_VISITOR = {"id": "demo-visiteur", "name": "Mariama Ba — démonstration", "email": "visiteur@demo.novadesk.example"}


class ChatRefused(ServiceError):
    """A widget connection or action refused, with a message the visitor can read."""


class ConversationNotFound(ServiceError):
    not_found = True

    def __init__(self):
        super().__init__(_("Cette conversation n'existe pas ou ne vous est pas accessible."))


# --- channels and identities (C5) -----------------------------------------------------


def new_channel_keys():
    """A public key for the snippet and a secret for the partner's server."""
    return "ndc_" + secrets.token_urlsafe(18), secrets.token_hex(32)


def sign_identity(secret, external_id, email, expires, name=""):
    """What the partner's server computes: HMAC-SHA256 over `id:email:name:expires` (the
    e-mail in lower case, expires in Unix seconds), hexadecimal. Everything the console shows
    as verified is signed: a visitor cannot put someone else's address on a signed id
    (answers go there), nor another name (agents trust it)."""
    message = f"{external_id}:{(email or '').strip().lower()}:{(name or '').strip()}:{int(expires)}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _int(value, default=0):
    """An integer from a visitor, or the default (no overflow, no infinity)."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return default
    return number if -(2**62) < number < 2**62 else default


def _usable(channel):
    if channel is None or not channel.active or not channel.organisation.active:
        return False
    return channel.public_key != DEMO_CHANNEL_KEY or bool(current_app.config.get("DEMO_MODE"))


def channel_for_key(public_key):
    channel = None
    if isinstance(public_key, str) and 0 < len(public_key) <= 40:
        channel = db.session.query(ChatChannel).filter_by(public_key=public_key).one_or_none()
    if not _usable(channel):
        raise ChatRefused(_("Ce canal de discussion n'existe pas ou n'est plus actif."))
    return channel


def channel_by_id(channel_id):
    channel = db.session.get(ChatChannel, channel_id)
    if not _usable(channel):
        raise ChatRefused(_("Ce canal de discussion n'existe pas ou n'est plus actif."))
    return channel


def demo_channel():
    """The channel of /demo/partner, in demo mode only (None otherwise)."""
    channel = db.session.query(ChatChannel).filter_by(public_key=DEMO_CHANNEL_KEY).one_or_none()
    return channel if _usable(channel) else None


def served_origin():
    """The origin NovaDesk is served on: PUBLIC_URL's, else HOST and PORT's (the request's
    own when HOST listens on every interface)."""
    from urllib.parse import urlsplit

    from flask import has_request_context, request

    public = current_app.config.get("PUBLIC_URL")
    if public:
        parts = urlsplit(public)
        return f"{parts.scheme}://{parts.netloc.lower()}"
    host = str(current_app.config.get("HOST") or "")
    if host in ("", "0.0.0.0", "::"):
        return request.host_url.rstrip("/") if has_request_context() else "http://127.0.0.1:5000"
    host = f"[{host}]" if ":" in host else host
    return f"http://{host.lower()}:{current_app.config.get('PORT') or 5000}"


def channel_origins(channel):
    """Where a channel's widget may be shown. The demo channel follows the address NovaDesk is
    served on (its demo page is NovaDesk's own), plus DEMO_CHAT_ORIGINS."""
    origins = list(channel.origins)
    if channel.public_key == DEMO_CHANNEL_KEY:
        extra = [served_origin()] + clean_origins(current_app.config.get("DEMO_CHAT_ORIGINS", ""))
        origins += [origin for origin in extra if origin not in origins]
    return origins


def clean_origins(text):
    """Origins as the browser sends them (scheme://host[:port]); anything else is refused."""
    from urllib.parse import urlsplit

    cleaned = []
    for line in (text or "").replace(",", "\n").splitlines():
        line = line.strip().rstrip("/")
        if not line:
            continue
        parts = urlsplit(line)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query or "*" in line:
            raise ServiceError(_("Origine invalide : %(origin)s (attendu : https://site.example, sans chemin).", origin=line))
        cleaned.append(f"{parts.scheme}://{parts.netloc.lower()}")
    return cleaned


def origin_allowed(channel, origin):
    return bool(origin) and origin.rstrip("/").lower() in channel_origins(channel)


def origin_accepted(channel, origin, own_origin):
    """May a request from this page use the channel? NovaDesk's own frame (where it may be
    embedded is the browser's business, by frame-ancestors), or a page on one of the channel's
    origins. `origin` is what the browser said (Origin or Referer), never what a script said."""
    if not origin:
        return False
    return origin == own_origin.rstrip("/").lower() or origin_allowed(channel, origin)


@dataclass
class Visitor:
    """Who is on the widget's side: vouched for by the partner (`identified`), or anonymous."""

    identified: bool
    external_id: str | None = None
    name: str | None = None
    email: str | None = None
    user_id: int | None = None
    organisation_id: int | None = None

    def as_session(self):
        return self.__dict__.copy()


def _clean_email(value, required=True):
    value = (value or "").strip()
    if not value and not required:
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ChatRefused(_("Adresse e-mail invalide."), {"email": "invalid"})


def _clean_name(value):
    value = CONTROL_CHARACTERS.sub("", str(value or "")).strip()
    return value[:NAME_MAX] or None


def visitor_from_identity(channel, identity):
    """The partner's signed identity checked (C5), or an anonymous visitor where the channel
    allows them. A forged, expired or missing signature on a channel without anonymous
    visitors is refused."""
    identity = identity if isinstance(identity, dict) else {}
    signature = identity.get("signature")
    if not signature:
        if channel.allow_anonymous:
            return Visitor(identified=False, organisation_id=channel.organisation_id)
        raise ChatRefused(_("Ce canal n'accepte que les utilisateurs identifiés par votre logiciel."))
    external_id = str(identity.get("id") or "").strip()[:200]
    email = _clean_email(identity.get("email"), required=False)
    expires = _int(identity.get("expires"))
    name = _clean_name(identity.get("name"))
    expected = sign_identity(channel.secret, external_id, email, expires, name or "")
    if not external_id or not hmac.compare_digest(expected.encode(), str(signature).encode()):
        raise ChatRefused(_("Identité refusée : la signature ne correspond pas."))
    if expires < time.time():
        raise ChatRefused(_("Identité expirée : rechargez la page de votre logiciel."))
    visitor = Visitor(identified=True, external_id=external_id, name=name, email=email, organisation_id=channel.organisation_id)
    user = _account_for(channel, email)
    if user is not None:
        visitor.user_id, visitor.organisation_id = user.id, user.organisation_id
        visitor.name = visitor.name or user.full_name
    return visitor


def _account_for(channel, email):
    """The partner's user known to NovaDesk under that address, in the channel's organisation
    or one it resells to; nobody from elsewhere is adopted."""
    if not email:
        return None
    organisations = select(Organisation.id).where(
        (Organisation.id == channel.organisation_id) | (Organisation.reseller_id == channel.organisation_id)
    )
    return (
        db.session.query(NovaUser)
        .filter(func.lower(NovaUser.email) == email, NovaUser.active.is_(True), NovaUser.organisation_id.in_(organisations))
        .one_or_none()
    )


# --- availability (C4) ----------------------------------------------------------------


def online_agents_query(now=None):
    """Agents with a live console who switched themselves available."""
    from datetime import timedelta

    since = (now or clock.now()) - timedelta(seconds=PRESENCE_SECONDS)
    present = select(ChatPresence.user_id).where(ChatPresence.seen_on >= since)
    return db.session.query(NovaUser).filter(NovaUser.id.in_(present), NovaUser.active.is_(True), NovaUser.chat_available.is_(True))


def active_counts(user_ids):
    if not user_ids:
        return {}
    rows = (
        db.session.query(ChatConversation.agent_id, func.count())
        .filter(ChatConversation.agent_id.in_(user_ids), ChatConversation.status == ConversationStatus.ACTIVE)
        .group_by(ChatConversation.agent_id)
    )
    return dict(rows.all())


def availability():
    """Why nobody can answer now, or None when someone can: outside business hours, nobody
    online, or everyone at their limit."""
    now = clock.now()
    if current_app.config["CHAT_BUSINESS_HOURS_ONLY"] and not is_business_time(sla.calendar(), now):
        return "closed"
    agents = [a for a in online_agents_query(now).all() if scopes.answers_chats(a)]
    if not agents:
        return "nobody"
    counts = active_counts([a.id for a in agents])
    if all(counts.get(a.id, 0) >= a.chat_limit for a in agents):
        return "busy"
    return None


def unavailable_message(reason):
    return {
        "closed": _("Notre support est fermé en ce moment."),
        "nobody": _("Aucun agent n'est disponible en ce moment."),
        "busy": _("Tous nos agents sont occupés."),
    }.get(reason, "")


def touch_presence(sid, user_id):
    row = db.session.get(ChatPresence, sid)
    if row is None:
        db.session.add(ChatPresence(sid=sid, user_id=user_id, seen_on=clock.now()))
    else:
        row.seen_on = clock.now()


def forget_stale_presence():
    """Rows left by a process that stopped abruptly: their heartbeat never comes again."""
    from datetime import timedelta

    db.session.query(ChatPresence).filter(ChatPresence.seen_on < clock.now() - timedelta(seconds=PRESENCE_SECONDS * 4)).delete(synchronize_session=False)


def drop_presence(sid):
    db.session.query(ChatPresence).filter_by(sid=sid).delete()


def set_agent_available(user, available):
    user.chat_available = bool(available)


# --- conversations --------------------------------------------------------------------


def _token_hash(token):
    return hashlib.sha256(str(token).encode()).hexdigest()


def _clean_body(body, required=True):
    body = CONTROL_CHARACTERS.sub("", str(body or "")).strip()
    if required and not body:
        raise ServiceError(_("Le message est vide."), {"body": "required"})
    if len(body) > MESSAGE_MAX:
        raise ServiceError(_("Message trop long : %(n)s caractères au plus.", n=MESSAGE_MAX), {"body": "too_long"})
    return body


def start_conversation(channel, visitor, question, language="fr", name=None, email=None, client_id=None):
    """A new conversation waiting for an agent, the question as its first message (with the
    widget's own id for it, `client_id`). Returns the conversation, the widget's resume token
    (shown once) and the message."""
    question = _clean_body(question)
    if not visitor.identified:
        visitor.name = _clean_name(name)
        if not visitor.name:
            raise ChatRefused(_("Indiquez votre nom."), {"name": "required"})
        visitor.email = _clean_email(email)
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
                                    client_id=str(client_id)[:64] if client_id else None)
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


def add_message(conversation, author_kind, author, body, client_id=None, file=None, author_name=None):
    """Store a message in a loaded conversation (system notes, the first question)."""
    message, created = store_message(
        conversation.id, author_kind, body, author_id=getattr(author, "id", None),
        author_name=author_name or (author.full_name if author is not None else None), client_id=client_id, chat_file=file,
    )
    set_committed_value(conversation, "last_seq", max(conversation.last_seq or 0, message.seq))
    return message, created


@dataclass
class StoredMessage:
    """A message just stored, as the broadcast needs it (no ORM object to keep or refresh)."""

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


def store_message(conversation_id, author_kind, body, *, author_id=None, author_name=None, client_id=None, chat_file=None, only_if=None, agent_id=None):
    """Store a message with the conversation's next number: one UPDATE that numbers it (and
    checks `only_if` — "open", or "agent": active and answered by `agent_id` — in the same
    statement) and one INSERT. A message the widget already sent (same `client_id`, resent
    after a reconnect) is returned as it was stored, with created=False; (None, False) when
    the condition does not hold. Nothing here loads the conversation: every chat message
    takes this path."""
    # Core statements on the session's connection (same transaction): the ORM layer adds
    # nothing here but time, on the path every message takes.
    connection = db.session.connection()
    if client_id is not None:
        client_id = str(client_id)[:64]
        known = connection.execute(_SAME_CLIENT_ID, {"conversation_id": conversation_id, "client_id": client_id}).mappings().first()
        if known is not None:
            return StoredMessage(file=db.session.get(ChatFile, known["file_id"]) if known["file_id"] else None, **{k: v for k, v in known.items() if k != "file_id"}), False
    body = _clean_body(body, required=chat_file is None)
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
    return StoredMessage(id=message_id, file=chat_file, **row), True


def visitor_message(conversation_id, visitor_name, body, client_id=None, file=None):
    message, created = store_message(conversation_id, VISITOR, body, author_name=visitor_name, client_id=client_id, chat_file=file, only_if="open")
    if message is None:
        raise ServiceError(_("Cette conversation est terminée."))
    return message, created


def agent_message(agent_id, agent_name, conversation_id, body, client_id=None, file=None):
    """The agent of an active conversation answers (checked in the numbering statement)."""
    message, created = store_message(conversation_id, AGENT, body, author_id=agent_id, author_name=agent_name, client_id=client_id, chat_file=file, only_if="agent", agent_id=agent_id)
    if message is None:
        raise ServiceError(_("Acceptez d'abord cette conversation."))
    if message.author_id != agent_id:
        raise ConversationNotFound()  # someone else's client id: nothing to show
    return message, created


def system_message(conversation, body):
    return add_message(conversation, SYSTEM, None, body)[0]


def messages_after(conversation, seq, limit=500):
    seq = max(0, _int(seq))
    return (
        db.session.query(ChatMessage)
        .filter(ChatMessage.conversation_id == conversation.id, ChatMessage.seq > seq)
        .order_by(ChatMessage.seq)
        .limit(limit)
        .all()
    )


def mark_read(conversation_id, side, seq, agent_id=None):
    """Read receipts: the highest number each side has seen (never goes back, never past the
    last message); for the agent's side, only the conversation's agent. Returns the new
    number, or None when nothing changed."""
    seq = _int(seq, None)
    if seq is None:
        return None
    column = ChatConversation.visitor_read_seq if side == VISITOR else ChatConversation.agent_read_seq
    conditions = [ChatConversation.id == conversation_id, column < seq, ChatConversation.last_seq >= seq]
    if side != VISITOR:
        conditions.append(ChatConversation.agent_id == agent_id)
    changed = db.session.execute(update(ChatConversation).where(*conditions).values({column: seq}).execution_options(synchronize_session=False)).rowcount
    return seq if changed else None


# --- the console (C2) -----------------------------------------------------------------


def access_conversation(user, conversation_id):
    try:
        return scopes.access_conversation(db.session, user, int(conversation_id))
    except (scopes.NotVisible, TypeError, ValueError):
        raise ConversationNotFound()


def accept(agent, conversation):
    """The agent takes a waiting conversation, within their limit of simultaneous chats."""
    if not scopes.answers_chats(agent):
        raise ConversationNotFound()
    if conversation.status != ConversationStatus.WAITING:
        raise ServiceError(_("Cette conversation a déjà été prise en charge ou est terminée."))
    if active_counts([agent.id]).get(agent.id, 0) >= agent.chat_limit:
        raise ServiceError(_("Vous avez atteint votre limite de %(n)s conversations simultanées.", n=agent.chat_limit))
    taken = db.session.execute(
        update(ChatConversation)
        .where(ChatConversation.id == conversation.id, ChatConversation.status == ConversationStatus.WAITING)
        .values(status=ConversationStatus.ACTIVE, agent_id=agent.id, accepted_on=clock.now())
    ).rowcount
    if not taken:  # another agent was quicker, perhaps on another process
        raise ServiceError(_("Cette conversation a déjà été prise en charge ou est terminée."))
    db.session.refresh(conversation)
    return system_message(conversation, _("%(name)s a rejoint la conversation.", name=agent.full_name))


def transfer(actor, conversation, agent_id=None, queue_id=None):
    """Hand a conversation to another agent (who must be able to take it), or back to the
    waiting list of a queue."""
    if not scopes.answers_chats(actor):
        raise ConversationNotFound()
    if conversation.status not in ConversationStatus.OPEN:
        raise ServiceError(_("Cette conversation est terminée."))
    if conversation.agent_id not in (None, actor.id) and not scopes.watches_every_chat(actor):
        raise ServiceError(_("Seul l'agent de la conversation ou un superviseur peut la transférer."))
    if agent_id:
        target = db.session.get(NovaUser, tickets.as_id(agent_id))
        if target is None or not target.active or not scopes.answers_chats(target):
            raise ServiceError(_("Agent inconnu."))
        if active_counts([target.id]).get(target.id, 0) >= target.chat_limit:
            raise ServiceError(_("%(name)s a atteint sa limite de conversations simultanées.", name=target.full_name))
        conversation.agent_id, conversation.status = target.id, ConversationStatus.ACTIVE
        conversation.accepted_on = conversation.accepted_on or clock.now()
        text = _("Conversation transférée à %(name)s.", name=target.full_name)
    else:
        queue = db.session.get(Queue, tickets.as_id(queue_id)) if queue_id else None
        if queue_id and (queue is None or not queue.active):
            raise ServiceError(_("File inconnue."))
        conversation.agent_id, conversation.status, conversation.queue = None, ConversationStatus.WAITING, queue
        text = _("Conversation remise en attente (%(queue)s).", queue=queue.name) if queue else _("Conversation remise en attente.")
    db.session.flush()
    return system_message(conversation, text)


def close(conversation, agent=None):
    """Either side ends the conversation; the visitor may then rate it."""
    if conversation.status not in ConversationStatus.OPEN:
        return None
    if agent is not None and conversation.agent_id != agent.id and not scopes.watches_every_chat(agent):
        raise ServiceError(_("Seul l'agent de la conversation ou un superviseur peut la clôturer."))
    conversation.status, conversation.closed_on = ConversationStatus.CLOSED, clock.now()
    text = _("%(name)s a clôturé la conversation.", name=agent.full_name) if agent is not None else _("Le visiteur a quitté la conversation.")
    return system_message(conversation, text)


def rate(conversation, score, comment=None):
    """The visitor's rating at the end (feeds the satisfaction figures)."""
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise ServiceError(_("Choisissez une note de 1 à 5."))
    if conversation.status in ConversationStatus.OPEN:
        raise ServiceError(_("Vous pourrez noter la conversation une fois terminée."))
    conversation.rating = score
    conversation.rating_comment = _clean_body(comment, required=False)[:1000] or None
    conversation.rated_on = clock.now()


def live_conversations(user):
    return (
        db.session.query(ChatConversation)
        .filter(scopes.live_conversations_filter(user))
        .order_by(ChatConversation.started_on)
        .limit(500)
        .all()
    )


def context_for(user, conversation):
    """Beside the chat: the organisation, the visitor's open tickets and past conversations,
    each through the reader's scopes."""
    open_tickets = db.session.query(Ticket).filter(
        scopes.tickets_filter(user),
        Ticket.organisation_id == conversation.organisation_id,
        Ticket.status_category.in_(StatusCategory.ACTIVE),
    )
    past = db.session.query(ChatConversation).filter(
        scopes.conversations_filter(user), ChatConversation.id != conversation.id, ChatConversation.organisation_id == conversation.organisation_id
    )
    if conversation.visitor_id:
        open_tickets = open_tickets.filter(Ticket.requester_id == conversation.visitor_id)
        past = past.filter(ChatConversation.visitor_id == conversation.visitor_id)
    elif conversation.visitor_email:
        open_tickets = open_tickets.filter(Ticket.requester_email == conversation.visitor_email)
        past = past.filter(ChatConversation.visitor_email == conversation.visitor_email)
    else:
        open_tickets, past = open_tickets.filter(False), past.filter(False)
    return {
        "open_tickets": open_tickets.order_by(Ticket.created_on.desc()).limit(10).all(),
        "past_conversations": past.order_by(ChatConversation.started_on.desc()).limit(10).all(),
    }


def articles_for_reply(conversation, query, limit=8):
    """Knowledge-base articles an agent may cite in this conversation: only what the visitor
    may read (their account's audience, or the public for anyone else)."""
    query = (query or "").strip()[:200]
    if len(query) < 3:
        return []
    reader = conversation.visitor if conversation.visitor is not None and conversation.visitor.active else None
    return search.suggest(reader, query, limit=limit)


# --- files ----------------------------------------------------------------------------


def store_file(conversation, filename, stream, agent=None):
    """A file for the conversation, under the same checks as ticket attachments; from the
    support's side, only from the conversation's agent."""
    if conversation.status not in ConversationStatus.OPEN:
        raise ServiceError(_("Cette conversation est terminée."))
    if agent is not None and conversation.agent_id != agent.id:
        raise ServiceError(_("Acceptez d'abord cette conversation."))
    root = current_app.config["UPLOAD_FOLDER"]
    try:
        stored = uploads.store_upload(root, filename, stream, max_bytes=current_app.config["MAX_ATTACHMENT_BYTES"])
    except uploads.UploadRefused as refused:
        raise ServiceError(refused.message, {"file": refused.reason})
    chat_file = ChatFile(conversation_id=conversation.id, created_on=clock.now(), **uploads.file_columns(stored))
    db.session.add(chat_file)
    db.session.flush()
    return chat_file


def file_of(conversation_id, file_id):
    chat_file = db.session.get(ChatFile, tickets.as_id(file_id)) if file_id else None
    if chat_file is None or chat_file.conversation_id != conversation_id:
        raise ConversationNotFound()
    return chat_file


# --- tickets (C3, C4) -----------------------------------------------------------------


def transcript(conversation):
    """The conversation as text, for a ticket's history."""
    from app.views.formatting import local_datetime

    lines = [_("Conversation du %(when)s avec %(visitor)s", when=local_datetime(conversation.started_on), visitor=conversation.visitor_label), ""]
    for message in messages_after(conversation, 0, limit=10000):
        who = message.author_name or (_("Système") if message.author_kind == SYSTEM else "—")
        text = message.body
        if message.file is not None:
            text = (text + " " if text else "") + _("[fichier : %(name)s]", name=message.file.filename)
        lines.append(f"[{local_datetime(message.created_on)}] {who} : {text}")
    return "\n".join(lines)[: tickets.BODY_MAX]


def _chat_files(conversation):
    return db.session.query(ChatFile).filter_by(conversation_id=conversation.id).order_by(ChatFile.id).all()


def _title_from(conversation):
    first = db.session.query(ChatMessage).filter_by(conversation_id=conversation.id, author_kind=VISITOR).order_by(ChatMessage.seq).first()
    text = " ".join((first.body if first else "").split())
    return (text[:120] + "…") if len(text) > 120 else (text or _("Conversation en direct"))


def to_ticket(actor, conversation, title=None):
    """C3: a ticket for the conversation's organisation and visitor, its transcript (and
    files) as the first message; the conversation keeps the link."""
    if not scopes.answers_chats(actor) and not scopes.sees_internal_notes(actor):
        raise ConversationNotFound()
    if conversation.ticket_id:
        raise ServiceError(_("Cette conversation est déjà liée au ticket %(number)s.", number=conversation.ticket.number))
    ticket = tickets.create_ticket_from_chat(
        actor,
        conversation.organisation,
        conversation.visitor,
        conversation.visitor_email,
        (title or "").strip()[: tickets.TITLE_MAX] or _title_from(conversation),
        transcript(conversation),
        _chat_files(conversation),
        acknowledge=True,
    )
    conversation.ticket = ticket
    return ticket, system_message(conversation, _("Ticket %(number)s créé à partir de cette conversation.", number=ticket.number))


def attach_to_ticket(actor, conversation, reference):
    """C3: the transcript added to an existing ticket of the same organisation."""
    if not scopes.answers_chats(actor) and not scopes.sees_internal_notes(actor):
        raise ConversationNotFound()
    reference = str(reference or "").strip()
    query = db.session.query(Ticket).filter(scopes.tickets_filter(actor), Ticket.organisation_id == conversation.organisation_id)
    by_number = Ticket.number == reference.upper()
    by_id = reference.isascii() and reference.isdigit() and len(reference) < 12
    ticket = query.filter(by_number | (Ticket.id == int(reference)) if by_id else by_number).first() if reference else None
    if ticket is None:
        raise ServiceError(_("Aucun ticket de ce client ne porte ce numéro."))
    tickets.add_transcript(actor, ticket, transcript(conversation), _chat_files(conversation))
    conversation.ticket = ticket
    return ticket, system_message(conversation, _("Conversation ajoutée au ticket %(number)s.", number=ticket.number))


def leave_message(channel, visitor, body, name=None, email=None, language="fr"):
    """C4: nobody can answer; the visitor's message becomes a ticket (channel chat) whose
    answers go to their e-mail. The conversation is kept, marked offline, with the link."""
    conversation, _token, _message = start_conversation(channel, visitor, body, language, name=name, email=email)
    if not conversation.visitor_email and conversation.visitor_id is None:
        raise ChatRefused(_("Indiquez votre adresse e-mail pour recevoir la réponse."), {"email": "required"})
    conversation.status, conversation.closed_on = ConversationStatus.OFFLINE, clock.now()
    # The acknowledgement goes only to an address the partner vouched for: an anonymous
    # visitor could otherwise make NovaDesk mail any address with their text.
    ticket = tickets.create_ticket_from_chat(
        None, conversation.organisation, conversation.visitor, conversation.visitor_email, _title_from(conversation), _clean_body(body), [],
        acknowledge=visitor.identified,
    )
    conversation.ticket = ticket
    return conversation, ticket


# --- personal data (A4) ---------------------------------------------------------------


def _their_conversations(person):
    conditions = [ChatConversation.visitor_email == person.email]
    if person.user is not None:
        conditions.append(ChatConversation.visitor_id == person.user.id)
    return db.session.query(ChatConversation).filter(or_(*conditions)).order_by(ChatConversation.id)


def _export_conversations(person):
    held = [
        {
            "conversation": c.id, "organisation": c.organisation.name, "started_on": c.started_on.isoformat(),
            "status": c.status, "name": c.visitor_name, "email": c.visitor_email, "partner_user_id": c.visitor_external_id,
            "rating": c.rating, "rating_comment": c.rating_comment, "ticket": c.ticket.number if c.ticket else None,
            "messages": [{"at": m.created_on.isoformat(), "from": m.author_kind, "text": m.body, "file": m.file.filename if m.file else None} for m in messages_after(c, 0, limit=10000)],
        }
        for c in _their_conversations(person)
    ]
    return held or None


def _erase_conversations(person, pseudonym, scrub):
    """The visitor's name, address and partner id leave their conversations; what they wrote
    is scrubbed of their address, names and phones; the files they sent go. Dates, statuses,
    ratings and message counts stay (the figures do not move)."""
    from app.services.personal_data import ANONYMOUS_NAME, _mentions

    count = 0
    conversations = _their_conversations(person).all()
    for conversation in conversations:
        conversation.visitor_name, conversation.visitor_email, conversation.visitor_external_id = ANONYMOUS_NAME, pseudonym, None
        conversation.rating_comment = scrub(conversation.rating_comment)
        count += 1
    ids = [c.id for c in conversations]
    if ids:
        db.session.query(ChatMessage).filter(ChatMessage.conversation_id.in_(ids), ChatMessage.author_kind == VISITOR).update(
            {ChatMessage.author_name: ANONYMOUS_NAME}, synchronize_session=False
        )
        files = db.session.query(ChatFile).filter(ChatFile.conversation_id.in_(ids)).all()
        sent = {m.file_id for m in db.session.query(ChatMessage).filter(ChatMessage.conversation_id.in_(ids), ChatMessage.author_kind == VISITOR, ChatMessage.file_id.isnot(None))}
        for chat_file in (f for f in files if f.id in sent):
            db.session.query(ChatMessage).filter(ChatMessage.file_id == chat_file.id).update({ChatMessage.file_id: None}, synchronize_session=False)
            events.publish("files.removed", {"keys": [k for k in (chat_file.storage_key, chat_file.preview_key) if k]})
            db.session.delete(chat_file)
    for message in db.session.query(ChatMessage).filter(_mentions(ChatMessage.body, person)):
        message.body = scrub(message.body)
        count += 1
    return count


def _expire_conversations(cutoff):
    """Retention: conversations ended before the cutoff lose their visitor's identity."""
    from app.services.personal_data import ANONYMOUS_NAME, PSEUDONYM_DOMAIN, find_person, scrubber

    old = db.session.query(ChatConversation).filter(
        ChatConversation.status.in_((ConversationStatus.CLOSED, ConversationStatus.OFFLINE)),
        ChatConversation.closed_on < cutoff,
        ChatConversation.visitor_name != ANONYMOUS_NAME,
    )
    for conversation in old.limit(500):
        pseudonym = f"anonyme-chat-{conversation.id}@{PSEUDONYM_DOMAIN}"
        if conversation.visitor_email:
            person = find_person(conversation.visitor_email)
            if conversation.visitor_name and conversation.visitor_name not in person.names:
                person.names.append(conversation.visitor_name)
            scrub = scrubber(person, pseudonym)
            for message in db.session.query(ChatMessage).filter(ChatMessage.conversation_id == conversation.id):
                message.body = scrub(message.body)
            conversation.rating_comment = scrub(conversation.rating_comment)
        conversation.visitor_name = ANONYMOUS_NAME
        conversation.visitor_email = pseudonym
        conversation.visitor_external_id = None
        db.session.query(ChatMessage).filter(ChatMessage.conversation_id == conversation.id, ChatMessage.author_kind == VISITOR).update(
            {ChatMessage.author_name: ANONYMOUS_NAME}, synchronize_session=False
        )


def _register_personal_data():
    from app.services import personal_data

    personal_data.register(personal_data.Holder("chat", "Discussions en direct", _export_conversations, _erase_conversations, _expire_conversations))


_register_personal_data()
