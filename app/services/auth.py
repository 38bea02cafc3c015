"""Signing in: password, lockout, second factor (e-mail code, TOTP, recovery codes).

Every way in — the login page and the API's token endpoint — goes through these functions,
so lockout, rate of attempts and the second factor cannot be skipped by choosing a door.
"""
import hashlib
import hmac
import secrets
import time
from datetime import timedelta

import pyotp
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func

from app.extensions import db
from app.models import EmailCode, NovaUser, RecoveryCode, RolePolicy
from app.models.types import utcnow
from app.security.passwords import burn_password_check, check_password
from app.services import ServiceError, audit
from app.services.mail import queue_mail_to_user

GENERIC_LOGIN_ERROR = _l("Adresse e-mail ou mot de passe incorrect.")
LOCKED_ERROR = _l("Trop de tentatives : ce compte est bloqué pendant {minutes} minutes.")
BAD_CODE_ERROR = _l("Code incorrect ou expiré.")

METHOD_EMAIL = "email"
METHOD_TOTP = "totp"


class LoginRefused(ServiceError):
    pass


def _lock_minutes():
    return current_app.config["LOGIN_LOCKOUT_MINUTES"]


def find_user_by_email(email):
    email = (email or "").strip().lower()
    if not email:
        return None
    return db.session.query(NovaUser).filter(func.lower(NovaUser.email) == email).one_or_none()


def is_locked(user):
    return bool(user.locked_until and user.locked_until > utcnow())


def _refuse_if_locked(user):
    if is_locked(user):
        audit.record(db.session, "login.refused_locked", subject_user=user, target=user)
        raise LoginRefused(LOCKED_ERROR.format(minutes=_lock_minutes()))


def _count_failure(user, action):
    """One more failed attempt (password or code); lock the account past the threshold."""
    user.fail_login_count = (user.fail_login_count or 0) + 1
    audit.record(db.session, action, subject_user=user, target=user, details={"failures": user.fail_login_count})
    if user.fail_login_count >= current_app.config["LOGIN_LOCKOUT_THRESHOLD"]:
        user.locked_until = utcnow() + timedelta(minutes=_lock_minutes())
        user.fail_login_count = 0
        audit.record(db.session, "login.locked", subject_user=user, target=user)


def check_password_login(email, password):
    """First factor. Returns the user, or raises LoginRefused with a message for the person."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        burn_password_check(password)
        audit.record(db.session, "login.failed", target=user, subject_user=user, details={"email": (email or "")[:320]})
        raise LoginRefused(GENERIC_LOGIN_ERROR)
    _refuse_if_locked(user)
    if not check_password(user.password, password):
        _count_failure(user, "login.failed")
        raise LoginRefused(GENERIC_LOGIN_ERROR)
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


def verify_second_factor(user, code):
    """Check a code (e-mail, TOTP, or a recovery code). Raises LoginRefused when wrong."""
    _refuse_if_locked(user)
    code = (code or "").strip()
    method = second_factor_method(user)
    ok = False
    if code.isdigit() and len(code) == 6:
        ok = _check_totp(user, code) if method == METHOD_TOTP else _check_email_code(user, code)
    elif len(code) >= 10:
        ok = _check_recovery_code(user, code)
    if not ok:
        _count_failure(user, "2fa.failed")
        if is_locked(user):
            raise LoginRefused(LOCKED_ERROR.format(minutes=_lock_minutes()))
        raise LoginRefused(BAD_CODE_ERROR)
    audit.record(db.session, "2fa.verified", subject_user=user, target=user, details={"method": method})


def record_successful_login(user, channel="web"):
    user.fail_login_count = 0
    user.login_count = (user.login_count or 0) + 1
    user.last_login = utcnow().replace(tzinfo=None)
    audit.record(db.session, "login.success", actor=user, subject_user=user, target=user, details={"channel": channel})


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
