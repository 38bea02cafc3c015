"""The browsers a person signed in from: a signed, long-lived cookie naming the accounts that
completed a sign-in on it. While sign-ins to an account are suspended after repeated
failures, the right password from such a browser still works (U7)."""
from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "nd_device"
_SALT = "novadesk-known-device"
_MAX_ACCOUNTS = 8  # a shared office computer: a few people, never an unbounded cookie


def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _max_age():
    return current_app.config["KNOWN_DEVICE_DAYS"] * 86400


def _accounts():
    value = request.cookies.get(COOKIE)
    if not value or len(value) > 1000:
        return []
    try:
        data = _serializer().loads(value, max_age=_max_age())
    except BadSignature:
        return []
    accounts = data.get("u") if isinstance(data, dict) else None
    return [n for n in accounts if isinstance(n, int)] if isinstance(accounts, list) else []


def is_known_device(user):
    return user is not None and user.id in _accounts()


def remember_device(response, user):
    accounts = [n for n in _accounts() if n != user.id][-(_MAX_ACCOUNTS - 1):] + [user.id]
    response.set_cookie(
        COOKIE,
        _serializer().dumps({"u": accounts}),
        max_age=_max_age(),
        httponly=True,
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
        samesite="Lax",
    )
    return response
