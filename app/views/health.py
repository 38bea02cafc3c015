"""GET /health: for load balancers and for scripts that wait for the server."""
from flask import Blueprint, jsonify
from sqlalchemy import text

from app.extensions import db

health = Blueprint("health", __name__)


@health.get("/health")
def check():
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:
        db.session.rollback()
        database = "unavailable"
    status = 200 if database == "ok" else 503
    return jsonify(status="ok" if status == 200 else "degraded", database=database), status
