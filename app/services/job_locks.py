"""Jobs that must run in one place at a time, however many workers run (A2).

Reading a mailbox, the SLA watch, the scheduled directory sources and the retention sweep each
take a named lock first; a worker that finds it taken skips the job this pass. The lock dies
with its holder — a worker killed mid-job frees it at once — so nothing waits for a timeout:
- PostgreSQL: a session-level advisory lock on a connection of its own;
- SQLite (one machine by nature): an exclusive `flock` on a file under the instance folder.
"""
import fcntl
import hashlib
import os
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db


def _key(name):
    """A stable signed 64-bit number for the name (advisory locks are keyed by numbers)."""
    return int.from_bytes(hashlib.blake2b(f"novadesk:{name}".encode(), digest_size=8).digest(), "big", signed=True)


@contextmanager
def _postgresql(name):
    key = _key(name)
    with db.engine.connect() as connection:
        held = connection.execute(select(func.pg_try_advisory_lock(key))).scalar()
        try:
            yield bool(held)
        finally:
            if held:
                connection.execute(select(func.pg_advisory_unlock(key)))
            connection.rollback()


@contextmanager
def _file(name):
    folder = os.path.join(current_app.config["INSTANCE_DIR"], "locks")
    os.makedirs(folder, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
    with open(os.path.join(folder, f"{safe}.lock"), "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def held(name):
    """`with held("sla-watch") as mine:` — `mine` is False when another worker has the job."""
    if db.engine.dialect.name == "postgresql":
        return _postgresql(name)
    return _file(name)
