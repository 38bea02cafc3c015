"""Signing in: password, lockout, second factor (e-mail code, TOTP, recovery codes).

Every way in — the login page and the API's token endpoint — takes the same two steps,
`sign_in` (password) then, when the account has one, `sign_in_second_factor`, so lockout,
rate of attempts, the second factor and the session opened cannot differ by door; the
adapters only carry the pending state (a signed cookie, a signed token) and the answer.
"""
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import EmailCode, LoginThrottle, NovaUser, RecoveryCode, RolePolicy, UserSession
from app.models.types import utcnow
from app.security.passwords import burn_password_check, check_password
from app.services import ServiceError, audit, sessions
from app.services.mail import queue_mail_to_user

GENERIC_LOGIN_ERROR = _l("Adresse e-mail ou mot de passe incorrect.")
# The same words whether the address has an account or not, and whoever caused the lock.
LOCKED_ERROR = _l(
    "Trop de tentatives : la connexion est suspendue pendant {minutes} minutes, sauf depuis un appareil "
    "où vous vous êtes déjà connecté."
)
BAD_CODE_ERROR = _l("Code incorrect ou expiré.")

METHOD_EMAIL = "email"
METHOD_TOTP = "totp"

ACCOUNT, ADDRESS = "account", "address"


class LoginRefused(ServiceError):
    restart = False  # True: the pending sign-in is over (locked), the person starts again


def _lock_minutes():
    return current_app.config["LOGIN_LOCKOUT_MINUTES"]


def _normalised(email):
    return (email or "").strip().lower()[:320]


def find_user_by_email(email):
    email = _normalised(email)
    if not email:
        return None
    return db.session.query(NovaUser).filter(func.lower(NovaUser.email) == email).one_or_none()


# --- throttling: per account name and per client address (U7) ----------------------------
#
# Failures are counted per account name — whether an account has that address or not, so the
# answers cannot tell them apart — and per client address. Past a threshold within the window,
# sign-ins are suspended for LOGIN_LOCKOUT_MINUTES, except with the right password from a
# device the person signed in from before: whoever hammers an address slows himself down,
# not its owner.


def _throttle_key(scope, value):
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{scope}:{value}".encode(), hashlib.sha256).hexdigest()


def _throttle_row(scope, value):
    return db.session.query(LoginThrottle).filter_by(scope=scope, key_hash=_throttle_key(scope, value)).one_or_none()


def _throttled(scope, value):
    if not value:
        return False
    row = _throttle_row(scope, value)
    return bool(row is not None and row.locked_until is not None and row.locked_until > utcnow())


def _threshold(scope):
    name = "LOGIN_LOCKOUT_THRESHOLD" if scope == ACCOUNT else "LOGIN_ADDRESS_THRESHOLD"
    return current_app.config[name]


def _count(scope, value):
    """One more failure for this name or address; True when it now locks."""
    if not value:
        return False
    now = utcnow()
    window = timedelta(minutes=_lock_minutes())
    row = _throttle_row(scope, value)
    if row is None:
        try:
            with db.session.begin_nested():  # two first failures at once: one row
                row = LoginThrottle(scope=scope, key_hash=_throttle_key(scope, value), failures=0, window_start=now)
                db.session.add(row)
        except IntegrityError:
            row = _throttle_row(scope, value)
    if row.window_start < now - window:
        row.failures, row.window_start = 0, now
    row.failures += 1
    if row.failures >= _threshold(scope):
        row.locked_until = now + window
        row.failures, row.window_start = 0, now
        return True
    return False


def _forget_failures(email):
    row = _throttle_row(ACCOUNT, _normalised(email))
    if row is not None and not (row.locked_until and row.locked_until > utcnow()):
        row.failures = 0


def clear_lock(user):
    """An admin's reactivation or a new password lifts the suspension on this account."""
    row = _throttle_row(ACCOUNT, _normalised(user.email))
    if row is not None:
        row.failures, row.locked_until = 0, None


def is_locked(user, ip=None):
    return _throttled(ACCOUNT, _normalised(user.email)) or _throttled(ADDRESS, ip)


def _count_failure(email, ip, action, user=None):
    locked = _count(ACCOUNT, _normalised(email))
    locked = _count(ADDRESS, ip) or locked
    audit.record(db.session, action, target=user, subject_user=user, details={"email": _normalised(email)})
    if locked:
        audit.record(db.session, "login.locked", target=user, subject_user=user, details={"email": _normalised(email)})


def _refuse_locked(user, email):
    audit.record(db.session, "login.refused_locked", subject_user=user, target=user, details={"email": _normalised(email)})
    raise LoginRefused(LOCKED_ERROR.format(minutes=_lock_minutes()))


def check_password_login(email, password, ip=None, known_device=None):
    """First factor. Returns the user, or raises LoginRefused with a message for the person.

    `known_device(user)` says whether this browser or client signed in as that person before:
    then the right password passes a suspension. Existing and unknown addresses take the same
    path (one password hash each, the same counters, the same words)."""
    email = _normalised(email)
    user = find_user_by_email(email)
    if user is None or not user.active:
        burn_password_check(password)
        user, correct = None, False
    else:
        correct = check_password(user.password, password)
    if _throttled(ACCOUNT, email) or _throttled(ADDRESS, ip):
        if correct and known_device is not None and known_device(user):
            return user
        _refuse_locked(user, email)
    if not correct:
        _count_failure(email, ip, "login.failed", user)
        raise LoginRefused(GENERIC_LOGIN_ERROR)
    _forget_failures(email)
    return user


def two_factor_required_by_role(user):
    role_ids = [role.id for role in user.roles]
    if not role_ids:
        return False
    return (
        db.session.query(RolePolicy.id)
        .filter(RolePolicy.role_id.in_(role_ids), RolePolicy.two_factor_required.is_(True))
        .first()
        is not None
    )


def second_factor_method(user):
    """The factor this user must present after the password, or None."""
    if user.totp_enabled and user.totp_secret:
        return METHOD_TOTP
    if user.two_factor_email or two_factor_required_by_role(user):
        return METHOD_EMAIL
    return None


def _digest(value):
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def send_email_code(user):
    """A fresh 6-digit code by e-mail; earlier unused codes stop working."""
    now = utcnow()
    db.session.query(EmailCode).filter(EmailCode.user_id == user.id, EmailCode.used_on.is_(None)).update(
        {EmailCode.used_on: now}, synchronize_session=False
    )
    code = f"{secrets.randbelow(10**6):06d}"
    minutes = current_app.config["TWO_FACTOR_CODE_MINUTES"]
    db.session.add(
        EmailCode(user_id=user.id, code_hash=_digest(f"{user.id}:{code}"), expires_on=now + timedelta(minutes=minutes))
    )
    queue_mail_to_user("two_factor_code", user, code=code, minutes=minutes)
    audit.record(db.session, "2fa.code_sent", subject_user=user, target=user)
    return code


def _check_email_code(user, code):
    now = utcnow()
    pending = (
        db.session.query(EmailCode)
        .filter(EmailCode.user_id == user.id, EmailCode.used_on.is_(None), EmailCode.expires_on > now)
        .order_by(EmailCode.id.desc())
        .first()
    )
    if pending is None:
        return False
    pending.attempts += 1
    if pending.attempts > current_app.config["TWO_FACTOR_MAX_ATTEMPTS"]:
        pending.used_on = now  # too many guesses: this code is spent
        return False
    if hmac.compare_digest(pending.code_hash, _digest(f"{user.id}:{code}")):
        pending.used_on = now
        return True
    return False


def _check_totp(user, code, at=None):
    if not user.totp_secret:  # no authenticator set up: no code can match
        return False
    totp = pyotp.TOTP(user.totp_secret)
    at = at or time.time()
    for offset in (-1, 0, 1):  # one step of clock drift either way
        step = int(at // totp.interval) + offset
        if hmac.compare_digest(totp.at(step * totp.interval), code):
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return False  # replayed
            user.totp_last_step = step
            return True
    return False


def _check_recovery_code(user, code):
    normalised = code.replace("-", "").replace(" ", "").lower()
    digest = _digest(f"{user.id}:{normalised}")
    match = (
        db.session.query(RecoveryCode)
        .filter(RecoveryCode.user_id == user.id, RecoveryCode.used_on.is_(None), RecoveryCode.code_hash == digest)
        .one_or_none()
    )
    if match is None:
        return False
    match.used_on = utcnow()
    audit.record(db.session, "2fa.recovery_code_used", subject_user=user, target=user)
    return True


def verify_second_factor(user, code, ip=None, known_device=False):
    """Check a code (e-mail, TOTP, or a recovery code). Raises LoginRefused when wrong."""
    if not known_device and is_locked(user, ip):
        _refuse_locked(user, user.email)
    code = (code or "").strip()
    method = second_factor_method(user)
    ok = False
    if code.isdigit() and len(code) == 6:
        ok = _check_totp(user, code) if method == METHOD_TOTP else _check_email_code(user, code)
    elif len(code) >= 10:
        ok = _check_recovery_code(user, code)
    if not ok:
        _count_failure(user.email, ip, "2fa.failed", user)
        if not known_device and is_locked(user, ip):
            raise LoginRefused(LOCKED_ERROR.format(minutes=_lock_minutes()))
        raise LoginRefused(BAD_CODE_ERROR)
    audit.record(db.session, "2fa.verified", subject_user=user, target=user, details={"method": method})


def record_successful_login(user, channel="web"):
    user.fail_login_count = 0
    user.login_count = (user.login_count or 0) + 1
    user.last_login = utcnow().replace(tzinfo=None)
    audit.record(db.session, "login.success", actor=user, subject_user=user, target=user, details={"channel": channel})


# --- the sign-in protocol, one for every door ---------------------------------------------


@dataclass
class SignIn:
    """Where a sign-in stands: `second_factor` is the factor still to present (the e-mail code
    is already sent), or None when signed in — then `session` is the server-side session
    opened for it, whose key the door hands out (cookie or token claim)."""

    user: NovaUser
    second_factor: str | None = None
    session: UserSession | None = None

    @property
    def done(self):
        return self.second_factor is None


def _signed_in(user, channel, ip, user_agent):
    record_successful_login(user, channel=channel)
    return SignIn(user, None, sessions.open_session(user, channel, ip, user_agent))


def sign_in(email, password, *, channel, ip=None, user_agent=None, known_device=None):
    """Step one, the password. `known_device(user)` says whether this browser or client
    signed in as that person before (a suspension does not stop them). Raises LoginRefused;
    the caller commits either way (a failure is counted and logged)."""
    user = check_password_login(email, password, ip=ip, known_device=known_device)
    method = second_factor_method(user)
    if method is None:
        return _signed_in(user, channel, ip, user_agent)
    if method == METHOD_EMAIL:
        send_email_code(user)
    return SignIn(user, method)


def sign_in_second_factor(user, code, *, channel, ip=None, user_agent=None, known_device=None):
    """Step two, the code. Raises LoginRefused (with `restart` set when the sign-in is now
    suspended for this device, which must start again); the caller commits either way."""
    known = bool(known_device is not None and known_device(user))
    try:
        verify_second_factor(user, code, ip=ip, known_device=known)
    except LoginRefused as refused:
        refused.restart = not known and is_locked(user, ip)
        raise
    return _signed_in(user, channel, ip, user_agent)


def record_logout(user):
    audit.record(db.session, "logout", actor=user, subject_user=user, target=user)


# --- TOTP enrolment and recovery codes --------------------------------------------------


def new_totp_secret():
    return pyotp.random_base32()


def totp_provisioning_uri(user, secret):
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=current_app.config["APP_NAME"])


def enable_totp(user, secret, code):
    """Turn TOTP on once the person proved their app shows the right code; returns recovery codes."""
    probe = NovaUser(totp_secret=secret)
    if not _check_totp(probe, (code or "").strip()):
        raise ServiceError(_("Ce code ne correspond pas : vérifiez l'heure de votre téléphone et réessayez."))
    user.totp_secret = secret
    user.totp_enabled = True
    user.totp_last_step = probe.totp_last_step
    audit.record(db.session, "2fa.totp_enabled", subject_user=user, target=user)
    return regenerate_recovery_codes(user)


def disable_totp(user, code):
    if not _check_totp(user, (code or "").strip()) and not _check_recovery_code(user, code or ""):
        raise ServiceError(BAD_CODE_ERROR)
    user.totp_enabled = False
    user.totp_secret = None
    user.totp_last_step = None
    db.session.query(RecoveryCode).filter(RecoveryCode.user_id == user.id).delete()
    audit.record(db.session, "2fa.totp_disabled", subject_user=user, target=user)


def regenerate_recovery_codes(user, count=10):
    db.session.query(RecoveryCode).filter(RecoveryCode.user_id == user.id).delete()
    codes = []
    for _position in range(count):
        raw = secrets.token_hex(5)  # 10 hex characters
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_digest(f"{user.id}:{raw}")))
    audit.record(db.session, "2fa.recovery_codes_generated", subject_user=user, target=user)
    return codes


def remaining_recovery_codes(user):
    return db.session.query(RecoveryCode).filter(RecoveryCode.user_id == user.id, RecoveryCode.used_on.is_(None)).count()


def set_email_second_factor(user, enabled):
    if not enabled and two_factor_required_by_role(user) and not user.totp_enabled:
        raise ServiceError(_("Votre rôle exige une double authentification : activez d'abord une application d'authentification."))
    user.two_factor_email = bool(enabled)
    audit.record(db.session, "2fa.email_enabled" if enabled else "2fa.email_disabled", subject_user=user, target=user)
