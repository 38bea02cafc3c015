"""Who has which ticket open on the desk, and who is writing on it (collision detection:
« Fatou consulte aussi ce ticket », « … est en train de répondre »).

One entry per desk connection (its Socket.IO id): the person, the ticket they view, whether
they are composing. Kept in Redis when REDIS_URL is set, so that the desks of several
processes see each other; in this process otherwise. An entry lives DESK_PRESENCE_SECONDS
unless its desk says again what it views (desk-live.js does every 30 s): a connection whose
process died stops counting by itself.

Every change of a ticket's viewers is published as `desk.presence` to the ticket's room
(scopes.desk_ticket_room), which a desk joins only once access_ticket allowed it. Whether the
person may see the ticket is the caller's check (the desk namespace asks scopes first).
"""
import json
import threading
import time

from flask import current_app
from flask_babel import gettext as _

from app.security import scopes
from app.services import ServiceError, events

DEFAULT_SECONDS = 90


class NotViewing(ServiceError):
    def __init__(self):
        super().__init__(_("Ouvrez ce ticket avant d'y répondre."))


# ---- where entries are kept -------------------------------------------------------------------


class MemoryStore:
    """This process only (the embedded server, the tests)."""

    def __init__(self, seconds):
        self.seconds = seconds
        self._by_sid = {}
        self._by_ticket = {}
        self._lock = threading.Lock()

    def get(self, sid):
        entry = self._by_sid.get(sid)
        return entry if entry and entry["at"] > time.time() - self.seconds else None

    def put(self, sid, entry):
        with self._lock:
            self._unlink(sid)
            self._by_sid[sid] = entry
            self._by_ticket.setdefault(entry["ticket_id"], set()).add(sid)

    def remove(self, sid):
        with self._lock:
            self._unlink(sid)

    def _unlink(self, sid):
        old = self._by_sid.pop(sid, None)
        if old is not None:
            sids = self._by_ticket.get(old["ticket_id"], set())
            sids.discard(sid)
            if not sids:
                self._by_ticket.pop(old["ticket_id"], None)

    def on_ticket(self, ticket_id):
        with self._lock:
            sids = list(self._by_ticket.get(ticket_id, ()))
        fresh = [self.get(sid) for sid in sids]
        return [entry for entry in fresh if entry]


class RedisStore:
    """Shared by every process: `<prefix>sid:<sid>` holds the entry (expiring), the set
    `<prefix>ticket:<id>` the connections on a ticket (members whose entry expired are
    dropped when read)."""

    prefix = "novadesk:desk:"

    def __init__(self, url, seconds):
        import redis

        self.redis = redis.Redis.from_url(url)
        self.seconds = seconds

    def _sid(self, sid):
        return f"{self.prefix}sid:{sid}"

    def _ticket(self, ticket_id):
        return f"{self.prefix}ticket:{ticket_id}"

    def get(self, sid):
        raw = self.redis.get(self._sid(sid))
        return json.loads(raw) if raw else None

    def put(self, sid, entry):
        old = self.get(sid)
        pipe = self.redis.pipeline()
        if old and old["ticket_id"] != entry["ticket_id"]:
            pipe.srem(self._ticket(old["ticket_id"]), sid)
        pipe.set(self._sid(sid), json.dumps(entry), ex=self.seconds)
        pipe.sadd(self._ticket(entry["ticket_id"]), sid)
        pipe.expire(self._ticket(entry["ticket_id"]), self.seconds)
        pipe.execute()

    def remove(self, sid):
        old = self.get(sid)
        pipe = self.redis.pipeline()
        if old:
            pipe.srem(self._ticket(old["ticket_id"]), sid)
        pipe.delete(self._sid(sid))
        pipe.execute()

    def on_ticket(self, ticket_id):
        sids = [s.decode() for s in self.redis.smembers(self._ticket(ticket_id))]
        if not sids:
            return []
        raws = self.redis.mget([self._sid(s) for s in sids])
        gone = [sid for sid, raw in zip(sids, raws) if raw is None]
        if gone:
            self.redis.srem(self._ticket(ticket_id), *gone)
        return [json.loads(raw) for raw in raws if raw]


def _store():
    extensions = current_app.extensions
    store = extensions.get("novadesk_desk_presence")
    if store is None:
        seconds = int(current_app.config.get("DESK_PRESENCE_SECONDS") or DEFAULT_SECONDS)
        url = current_app.config.get("REDIS_URL")
        store = extensions["novadesk_desk_presence"] = RedisStore(url, seconds) if url else MemoryStore(seconds)
    return store


# ---- what the desk does -------------------------------------------------------------------------


def viewers(ticket_id):
    """Those who have the ticket open, once each (composing in any of their tabs counts)."""
    people = {}
    for entry in _store().on_ticket(ticket_id):
        person = people.setdefault(entry["user_id"], {"id": entry["user_id"], "name": entry["name"], "composing": False})
        person["composing"] = person["composing"] or entry["composing"]
    return sorted(people.values(), key=lambda p: (p["name"], p["id"]))


def _tell(ticket_id):
    events.publish(
        "desk.presence",
        {"ticket_id": ticket_id, "viewers": viewers(ticket_id)},
        to=[(scopes.DESK_NAMESPACE, scopes.desk_ticket_room(ticket_id))],
    )


def view(sid, user, ticket_id):
    """The connection `sid` now has `ticket_id` open (None: no ticket). Said again, it only
    keeps the entry alive. Returns the ticket it had open before."""
    store = _store()
    old = store.get(sid)
    before = old["ticket_id"] if old else None
    if ticket_id is None:
        store.remove(sid)
    else:
        composing = bool(old and before == ticket_id and old["composing"])
        store.put(sid, {"user_id": user.id, "name": user.full_name or user.email, "ticket_id": ticket_id, "composing": composing, "at": time.time()})
    if before != ticket_id:
        for changed in (before, ticket_id):
            if changed is not None:
                _tell(changed)
    return before


def compose(sid, ticket_id, on):
    """The person behind `sid` starts or stops writing on the ticket they have open."""
    store = _store()
    entry = store.get(sid)
    if entry is None or entry["ticket_id"] != ticket_id:
        raise NotViewing()
    if entry["composing"] != bool(on):
        store.put(sid, dict(entry, composing=bool(on), at=time.time()))
        _tell(ticket_id)


def drop(sid):
    """The connection closed: it views nothing any more. Returns the ticket it had open."""
    store = _store()
    entry = store.get(sid)
    store.remove(sid)
    if entry is not None:
        _tell(entry["ticket_id"])
        return entry["ticket_id"]
    return None
