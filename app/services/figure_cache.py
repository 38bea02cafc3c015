"""A few seconds of memory for the dashboards' figures (P2, P3 at scale), per scope.

A dashboard asked for every few seconds by many people of the same scope (every support agent
sees all tickets; the people of one client see that client's) counts the same numbers again
and again. `per_scope` keeps a figure function's answer for FIGURES_CACHE_SECONDS under a key
made of `scopes.figures_scope_key(user)` (who may see what: never shared between scopes), the
function's other arguments and a generation number that every committed ticket change moves on
(so a change shows at once; only the clock-dependent parts may be a few seconds old).

Kept in Redis when REDIS_URL is set (shared by every process and machine), else in this
process's memory (the embedded default). A frozen clock (tests, replays) never reads it; a
Redis that does not answer only costs the figures being counted.
"""
import hashlib
import logging
import pickle
import threading
import time
from functools import wraps

from flask import current_app, has_app_context

from app.services import clock

log = logging.getLogger(__name__)
_local = {}  # key -> (expires, pickled value)
_local_generation = {}  # instance -> number
_lock = threading.Lock()
_LOCAL_MAX = 1000


def _seconds():
    return current_app.config.get("FIGURES_CACHE_SECONDS", 5) if has_app_context() else 0


def _instance():
    return hashlib.sha1(str(current_app.config.get("SQLALCHEMY_DATABASE_URI", "")).encode()).hexdigest()[:10]


def _redis():
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    client = current_app.extensions.get("novadesk_figure_cache")
    if client is None:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        current_app.extensions["novadesk_figure_cache"] = client
    return client


def _generation_key():
    return f"novadesk:figures:{_instance()}:generation"


def changed():
    """Tickets changed (after the commit): every cached figure of this instance is old."""
    if not has_app_context():
        return
    client = _redis()
    if client is None:
        with _lock:
            _local_generation[_instance()] = _local_generation.get(_instance(), 0) + 1
        return
    try:
        client.incr(_generation_key())
    except Exception:  # noqa: BLE001 — the figures are counted again when the cache is away
        log.warning("figures cache: Redis did not answer", exc_info=True)


def _get(client, key):
    if client is None:
        with _lock:
            hit = _local.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        return None
    return client.get(key)


def _set(client, key, value, seconds):
    if client is None:
        with _lock:
            if len(_local) >= _LOCAL_MAX:
                now = time.monotonic()
                for old in [k for k, (expires, _v) in _local.items() if expires <= now] or list(_local)[: _LOCAL_MAX // 2]:
                    _local.pop(old, None)
            _local[key] = (time.monotonic() + seconds, value)
        return
    client.set(key, value, ex=seconds)


def per_scope(function):
    """Keep `function(user, *args)`'s answer a few seconds, per scope of `user`."""

    @wraps(function)
    def cached(user, *args, **kwargs):
        seconds = _seconds()
        if not seconds or clock._frozen:
            return function(user, *args, **kwargs)
        from app.security import scopes

        client = _redis()
        try:
            generation = (int(client.get(_generation_key()) or 0)) if client is not None else _local_generation.get(_instance(), 0)
            key = "novadesk:figures:{}:{}:{}:{}".format(
                _instance(), generation, function.__name__,
                hashlib.sha1(repr((scopes.figures_scope_key(user), args, sorted(kwargs.items()))).encode()).hexdigest(),
            )
            hit = _get(client, key)
            if hit is not None:
                return pickle.loads(hit)
        except Exception:  # noqa: BLE001
            log.warning("figures cache: Redis did not answer", exc_info=True)
            return function(user, *args, **kwargs)
        value = function(user, *args, **kwargs)
        try:
            _set(client, key, pickle.dumps(value), seconds)
        except Exception:  # noqa: BLE001
            log.warning("figures cache: Redis did not answer", exc_info=True)
        return value

    cached.uncached = function
    return cached
