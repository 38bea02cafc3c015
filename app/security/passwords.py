"""Password hashing that never stalls the server's other connections.

scrypt takes 70-80 ms of CPU; on a gevent hub that would freeze every socket for that long,
so the work runs in the hub's thread pool when gevent is active.
"""
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

# A hash of a random password, checked when no user matches, so that both paths take as long.
_DUMMY = {}


def _off_the_hub(fn, *args):
    if not current_app.config.get("PASSWORD_HASH_OFF_HUB", True):  # only to measure the difference
        return fn(*args)
    try:
        from gevent import monkey

        if monkey.is_module_patched("socket"):
            import gevent

            return gevent.get_hub().threadpool.apply(fn, args)
    except ImportError:  # gevent not installed: plain call
        pass
    return fn(*args)


def hash_password(password):
    method = current_app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt")
    return _off_the_hub(lambda p: generate_password_hash(p, method=method, salt_length=16), password)


def check_password(password_hash, password):
    if not password_hash or not password:
        return False
    return _off_the_hub(check_password_hash, password_hash, password)


def burn_password_check(password):
    """Spend the time of a real check, for an unknown account."""
    method = current_app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt")
    if method not in _DUMMY:
        _DUMMY[method] = generate_password_hash("not-a-real-password", method=method)
    check_password(_DUMMY[method], password or "x")
