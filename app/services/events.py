"""What happened, told once it is stored (Zulip's send_event_on_commit).

A service that changes something calls `publish(kind, payload, to=rooms)` in the caller's
transaction. Nothing leaves before the commit; a rollback forgets it. After the commit, one
dispatcher hands each event to the sinks the application installed in `create_app`:
Socket.IO to the rooms (which `app/security/scopes.py` computes), stored files removed, the
worker woken. Services never emit, never import the worker or the realtime layer: whatever
door an action came through (web, API, socket, mail, worker), its event goes out the same way.

Every kind has a schema below (a TypedDict); the tests check each published payload against
it. Adding a kind: its schema here, its entry in KINDS, then `publish` from the service.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, NotRequired, TypedDict

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from app.extensions import db

_PENDING = "novadesk_events"
_COMMITTED = "novadesk_events_committed"  # committed, sent once the connection is back in the pool


# ---- schemas: what each kind carries ---------------------------------------------------------

class WorkerWake(TypedDict):
    """Work is due now (outbox, webhook, recorded mail): the worker looks at once."""


class FilesRemoved(TypedDict):
    """Stored files whose rows are gone: removed from storage once that is committed."""
    keys: list[str]


class KeptMail(TypedDict):
    """Without an SMTP relay (development), a committed mail is written to the log."""
    recipient: str
    subject: str
    text: str


class TicketChanged(TypedDict):
    """A ticket was created or changed (fields, a message, a note, a merge). It carries no
    content: a desk that hears of it reads the row or the ticket again over HTTP, through
    scopes.py, so an event can never show more than its listener may see."""
    ticket_id: int
    number: str
    organisation_id: int | None
    change: str  # created | fields | message | note | merged | deleted
    actor_id: int | None
    at: str  # ISO 8601, UTC


class ChatFileLink(TypedDict):
    id: int
    name: str
    size: int
    is_image: bool
    url: str  # a signed path on NovaDesk (the frame and the console are served by it)


class ChatMessageSent(TypedDict):
    """A message stored in a conversation (the visitor's, the agent's, or a system note): to
    the conversation's room, on the widget's side and the consoles'."""
    conversation_id: int
    seq: int
    id: int
    author_kind: str  # visitor | agent | system
    author_name: str | None
    body: str
    client_id: str | None
    file: ChatFileLink | None
    created_on: str


class ChatConversationChanged(TypedDict):
    """A conversation started, was taken, transferred, closed or linked to a ticket: to the
    consoles that may list it (every support console, its organisation's commercials)."""
    id: int
    status: str
    organisation_id: int
    organisation: str
    visitor: str
    visitor_email: str | None
    identified: bool
    started_on: str
    accepted_on: str | None
    agent_id: int | None
    agent_name: str | None
    queue: str | None
    last_seq: int
    visitor_read_seq: int
    agent_read_seq: int
    ticket: str | None
    ticket_url: str | None
    rating: int | None
    open: bool


class ChatState(TypedDict):
    """What the visitor's widget shows of the same change (no internal details)."""
    status: str
    agent_name: str | None
    ticket: str | None


class ChatRead(TypedDict):
    """A read receipt: the highest message number one side has seen, told to the other side
    (the consoles, which hold several conversations, are told which one)."""
    side: str  # visitor | agent
    seq: int
    conversation_id: NotRequired[int]


class ChatTyping(TypedDict):
    """One side is typing (or stopped), told to the other side; nothing is stored."""
    side: str  # visitor | agent
    on: bool
    conversation_id: NotRequired[int]  # to the consoles
    name: NotRequired[str | None]  # the agent's first name, to the widget


class PresenceViewer(TypedDict):
    id: int
    name: str
    composing: bool


class DeskPresence(TypedDict):
    """Who has a ticket open on the desk, and who is writing on it (collision detection). Told
    to the ticket's room only, which a desk joins after access_ticket allowed it."""
    ticket_id: int
    viewers: list[PresenceViewer]


@dataclass(frozen=True)
class Kind:
    schema: type
    client_event: str | None = None  # the Socket.IO event name; None: not sent to browsers


KINDS: dict[str, Kind] = {
    "worker.wake": Kind(WorkerWake),
    "files.removed": Kind(FilesRemoved),
    "mail.kept": Kind(KeptMail),
    "ticket.changed": Kind(TicketChanged, client_event="ticket"),
    "chat.message": Kind(ChatMessageSent, client_event="message"),
    "chat.conversation": Kind(ChatConversationChanged, client_event="conversation"),
    "chat.state": Kind(ChatState, client_event="state"),
    "chat.read": Kind(ChatRead, client_event="read"),
    "chat.typing": Kind(ChatTyping, client_event="typing"),
    "desk.presence": Kind(DeskPresence, client_event="presence"),
}


# ---- the event and its audience ----------------------------------------------------------------

@dataclass(frozen=True)
class Event:
    kind: str
    payload: dict
    rooms: tuple[tuple[str, str], ...] = ()  # (namespace, room), from scopes.py
    skip_sid: str | None = None  # the sender's own socket, answered by its acknowledgement

    @property
    def client_event(self):
        return KINDS[self.kind].client_event


def publish(kind, payload=None, to=(), skip_sid=None):
    """Record an event in the current transaction; it is dispatched after the commit."""
    if kind not in KINDS:
        raise KeyError(f"unknown event kind {kind!r}: add its schema to app/services/events.py")
    if KINDS[kind].client_event is not None and not to:
        raise ValueError(f"event {kind!r} is told to browsers: give its rooms (from scopes.py)")
    session = db.session()
    if not session.in_transaction():
        session.begin()  # nothing written yet: a rollback must still forget this event
    pending = session.info.setdefault(_PENDING, [])
    new = Event(kind, dict(payload or {}), tuple(to), skip_sid)
    if kind == "worker.wake" and any(e.kind == kind for _savepoint, e in pending):
        return new  # one wake per transaction is enough
    pending.append((session.get_nested_transaction(), new))  # the savepoint it belongs to, if any
    return new


# ---- the dispatcher ----------------------------------------------------------------------------

@dataclass
class _Dispatcher:
    sinks: list[Callable[[Event], None]] = field(default_factory=list)
    watchers: list[Callable[[Event], None]] = field(default_factory=list)  # tests: every event


_dispatcher = _Dispatcher()


def add_sink(sink):
    """A sink receives every committed event and acts on the kinds it knows."""
    if sink not in _dispatcher.sinks:
        _dispatcher.sinks.append(sink)


def watch(callback):
    """Be told of every dispatched event (the schema test listens here); returns an undo."""
    _dispatcher.watchers.append(callback)
    return lambda: _dispatcher.watchers.remove(callback)


def dispatch(events):
    import logging

    for event in events:
        for watcher in list(_dispatcher.watchers):
            watcher(event)
        for sink in _dispatcher.sinks:
            try:
                sink(event)
            except Exception:  # one failing sink never keeps the others from their work
                logging.getLogger(__name__).exception("event %s: a sink failed", event.kind)


def _after_commit(session):
    """Committed: the events are due, but not sent yet. SQLAlchemy calls this before the
    session gives its database connection back to the pool; the sinks wait for that
    (_after_transaction_end), or every broadcast, a round trip to Redis when scaled out, would
    hold a pooled connection, and under load the pool runs dry while the events are sent."""
    if session.in_nested_transaction():
        return  # a savepoint released: the transaction may still be rolled back
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.info.setdefault(_COMMITTED, []).extend(event for _savepoint, event in pending)


def _after_transaction_end(session, transaction):
    if transaction.parent is None and _COMMITTED in session.info:
        dispatch(session.info.pop(_COMMITTED))


def _within(savepoint, transaction):
    while savepoint is not None:
        if savepoint is transaction:
            return True
        savepoint = savepoint.parent
    return False


def _after_soft_rollback(session, previous_transaction):
    """A rollback forgets what it undid: everything when the whole transaction goes, only
    what was published inside a savepoint when just that savepoint is rolled back (a worker
    job that skips one duplicate keeps the rest of its events)."""
    pending = session.info.get(_PENDING)
    if not pending:
        return
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)
        return
    pending[:] = [(savepoint, event) for savepoint, event in pending if not _within(savepoint, previous_transaction)]


def install():
    if not sa_event.contains(Session, "after_commit", _after_commit):
        sa_event.listen(Session, "after_commit", _after_commit)
        sa_event.listen(Session, "after_transaction_end", _after_transaction_end)
        sa_event.listen(Session, "after_soft_rollback", _after_soft_rollback)


# ---- a part of a transaction that may be given up ---------------------------------------------

def pending(kind=None):
    """The events recorded so far in the current transaction (of one kind, if given)."""
    return [e for _savepoint, e in db.session.info.get(_PENDING, []) if kind is None or e.kind == kind]


class savepoint:
    """A nested transaction (SAVEPOINT): if what runs inside fails, it is undone and the events
    it published are forgotten with it (see _after_soft_rollback); one item of a batch refused
    leaves the others, and their events, as they are."""

    def __enter__(self):
        self._nested = db.session.begin_nested()
        return self

    def __exit__(self, kind, error, traceback):
        if kind is None:
            self._nested.commit()
        else:
            self._nested.rollback()
        return False
