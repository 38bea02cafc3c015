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
from typing import Callable, TypedDict

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from app.extensions import db

_PENDING = "novadesk_events"


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
    pending = db.session.info.setdefault(_PENDING, [])
    new = Event(kind, dict(payload or {}), tuple(to), skip_sid)
    if kind == "worker.wake" and any(e.kind == kind for e in pending):
        return new  # one wake per transaction is enough
    pending.append(new)
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
    events = session.info.pop(_PENDING, None)
    if events:
        dispatch(events)


def _after_rollback(session):
    session.info.pop(_PENDING, None)


def install():
    if not sa_event.contains(Session, "after_commit", _after_commit):
        sa_event.listen(Session, "after_commit", _after_commit)
        sa_event.listen(Session, "after_rollback", _after_rollback)


# ---- a part of a transaction that may be given up ---------------------------------------------

def pending(kind=None):
    """The events recorded so far in the current transaction (of one kind, if given)."""
    return [e for e in db.session.info.get(_PENDING, []) if kind is None or e.kind == kind]


class savepoint:
    """A nested transaction (SAVEPOINT) whose events are forgotten with it if it fails: one
    item of a batch refused leaves the others, and their events, as they are."""

    def __enter__(self):
        self._mark = len(db.session.info.get(_PENDING, []))
        self._nested = db.session.begin_nested()
        return self

    def __exit__(self, kind, error, traceback):
        if kind is None:
            self._nested.commit()
            return False
        self._nested.rollback()
        del db.session.info.get(_PENDING, [])[self._mark:]
        return False
