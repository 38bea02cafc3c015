"""Work that must wait for the transaction to commit (Zulip's send_event_on_commit).

A service calls `on_commit(fn)`; `fn` runs once the outermost caller commits, and is
forgotten if it rolls back. Used to wake the worker, later to push socket events.
"""
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

_KEY = "novadesk_on_commit"


def on_commit(callback):
    db.session.info.setdefault(_KEY, []).append(callback)


def _run_callbacks(session):
    for callback in session.info.pop(_KEY, []):
        callback()


def _forget_callbacks(session):
    session.info.pop(_KEY, None)


def install(app):
    if not event.contains(Session, "after_commit", _run_callbacks):
        event.listen(Session, "after_commit", _run_callbacks)
        event.listen(Session, "after_rollback", _forget_callbacks)
