"""GET /health: for load balancers and for scripts that wait for the server.

It reports the database and, when the processes share state through Redis (REDIS_URL), Redis.
Without its database a process can do nothing: 503, and the load balancer sends no one to it.
Without Redis it still serves (rate limits count in memory meanwhile; live chat between
processes pauses): 200, "degraded" — Redis is shared, so failing every node's check for it
would take the whole service down while Redis restarts.
"""
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from app.extensions import db

health = Blueprint("health", __name__)


def _database():
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception:
        db.session.rollback()
        return "unavailable"


def _redis():
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
        return "ok"
    except redis.RedisError:
        return "unavailable"


@health.get("/health")
def check():
    parts = {"database": _database()}
    if (redis_state := _redis()) is not None:
        parts["redis"] = redis_state
    healthy = all(state == "ok" for state in parts.values())
    return jsonify(status="ok" if healthy else "degraded", **parts), 200 if parts["database"] == "ok" else 503
