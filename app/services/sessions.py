"""Signed-in sessions kept on the server (U3, U7).

Each sign-in (a browser, or an API client's tokens) opens a `UserSession` whose random key
goes into the signed session cookie or into the tokens' `sid` claim. Every request looks the
key up (one indexed read; the last use is written at most once a minute), so ending a session
here ends it at once: sign-out, a password change or reset, a deactivation, the person from
*Sécurité du compte*, or an admin's « Terminer toutes les sessions ».
"""
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import update

from app.extensions import db
from app.models import NovaUser, UserSession
from app.models.types import utcnow
from app.services import ServiceError, audit, personal_data

WEB, API = "web", "api"
COOKIE_KEY = "nd_session"  # the session cookie's entry that names its server-side session
TOUCH_SECONDS = 60  # the last use is written at most this often

# Why a session ended (kept on the row, shown in the activity log).
SIGNED_OUT = "signed_out"
ENDED_BY_OWNER = "ended_by_owner"
ENDED_BY_ADMIN = "ended_by_admin"
PASSWORD_CHANGED = "password_changed"
DEACTIVATED = "deactivated"


class SessionNotFound(ServiceError):
    not_found = True


def _lifetime(channel):
    if channel == API:
        return current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
    return current_app.config["PERMANENT_SESSION_LIFETIME"]


def open_session(user, channel=WEB, ip=None, user_agent=None):
    record = UserSession(
        key=secrets.token_urlsafe(32),
        user_id=user.id,
        channel=channel,
        ip=(ip or "")[:64] or None,
        user_agent=(user_agent or "")[:300] or None,
    )
    db.session.add(record)
    db.session.flush()
    return record


def live_session(user_id, key):
    """The session behind a cookie or a token, if it is still open; None otherwise."""
    if not key or not isinstance(key, str) or len(key) > 64:
        return None
    record = db.session.query(UserSession).filter(UserSession.key == key).one_or_none()
    if record is None or record.user_id != user_id or record.ended_on is not None:
        return None
    if record.last_seen_on < utcnow() - _lifetime(record.channel):
        return None
    return record


def needs_touch(record):
    return record.last_seen_on < utcnow() - timedelta(seconds=TOUCH_SECONDS)


def touch(record):
    """The last use, written by a statement of its own so it never drags the request's objects along."""
    now = utcnow()
    db.session.execute(update(UserSession).where(UserSession.id == record.id).values(last_seen_on=now))
    record.last_seen_on = now


def active_sessions(user):
    now = utcnow()
    rows = (
        db.session.query(UserSession)
        .filter(UserSession.user_id == user.id, UserSession.ended_on.is_(None))
        .order_by(UserSession.last_seen_on.desc())
        .all()
    )
    return [row for row in rows if row.last_seen_on >= now - _lifetime(row.channel)]


def end_session(record, reason, actor=None):
    if record.ended_on is None:
        record.ended_on = utcnow()
        record.end_reason = reason
        audit.record(db.session, "session.ended", actor=actor, subject_user=_user(record.user_id), details={"reason": reason, "session": record.id})


def end_own_session(user, session_id, reason=ENDED_BY_OWNER):
    """A person ends one of their sessions; someone else's is not found."""
    record = db.session.get(UserSession, session_id) if isinstance(session_id, int) and 0 < session_id < 2**31 else None
    if record is None or record.user_id != user.id or record.ended_on is not None:
        raise SessionNotFound(_("Cette session n'existe pas ou est déjà terminée."))
    end_session(record, reason, actor=user)
    return record


def end_all_sessions(user, reason, actor=None, keep_key=None):
    """Every open session of this person ends now (except `keep_key`, the one making the change)."""
    query = update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_on.is_(None))
    if keep_key:
        query = query.where(UserSession.key != keep_key)
    ended = db.session.execute(query.values(ended_on=utcnow(), end_reason=reason)).rowcount
    if ended or reason == ENDED_BY_ADMIN:
        audit.record(db.session, "session.ended_all", actor=actor, subject_user=user, target=user, details={"reason": reason, "sessions": ended})
    return ended


def known_address(user, ip):
    """Has this person signed in from this address before (any channel)?"""
    if not ip:
        return False
    return db.session.query(UserSession.id).filter(UserSession.user_id == user.id, UserSession.ip == ip[:64]).first() is not None


def _user(user_id):
    return db.session.get(NovaUser, user_id)


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chromium/", "Chromium"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"), ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def device_label(record):
    """The device in words, from its user agent: « Firefox sur Windows », « Client de l'API »."""
    agent = record.user_agent or ""
    browser = next((name for token, name in _BROWSERS if token in agent), None)
    system = next((name for token, name in _SYSTEMS if token in agent), None)
    if record.channel == API and browser is None:
        return _("Client de l'API")
    if browser and system:
        return _("%(browser)s sur %(system)s", browser=browser, system=system)
    return browser or system or _("Appareil inconnu")


# --- personal data (A4): the addresses and devices a person signed in from -----------------


def _export_sessions(person):
    if person.user is None:
        return []
    rows = db.session.query(UserSession).filter(UserSession.user_id == person.user.id).order_by(UserSession.id)
    return [
        {"channel": r.channel, "created_on": r.created_on.isoformat(), "last_seen_on": r.last_seen_on.isoformat(),
         "ip": r.ip, "user_agent": r.user_agent, "ended_on": r.ended_on.isoformat() if r.ended_on else None}
        for r in rows
    ]


def _erase_sessions(person, _pseudonym, _scrub):
    """Erasure ends every session and forgets where they came from."""
    if person.user is None:
        return 0
    return db.session.query(UserSession).filter(UserSession.user_id == person.user.id).delete(synchronize_session=False)


def _expire_sessions(cutoff):
    """Retention: sessions ended (or unused) before the cutoff are forgotten."""
    db.session.query(UserSession).filter(
        (UserSession.ended_on < cutoff) | (UserSession.last_seen_on < cutoff)
    ).delete(synchronize_session=False)


def _register_personal_data():
    personal_data.register(personal_data.Holder("sessions", "Sessions de connexion", _export_sessions, _erase_sessions, _expire_sessions))


_register_personal_data()
