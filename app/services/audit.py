"""The activity log (U4): explicit entries for events, and every change to audited models.

Changes to users, roles (with their permissions), organisations, products and role policies
are recorded by a flush hook, so a change made through any path — screen, API, CLI, import —
lands in the log with its author.
"""
from flask import g, has_app_context, has_request_context, request
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app.models import ActivityLog, NovaUser, Organisation, Product, RolePolicy

# Fields that change on every login or are secrets: never copied into the log.
_QUIET_FIELDS = {"last_login", "login_count", "fail_login_count", "changed_on", "created_on", "totp_last_step", "locked_until"}
_SECRET_FIELDS = {"password", "totp_secret"}


def current_actor():
    user = getattr(g, "user", None) if has_app_context() else None
    if user is not None and getattr(user, "is_authenticated", False):
        return user
    return None


def _client_ip():
    if has_request_context():
        return request.remote_addr
    return None


def record(session, action, *, actor=None, target=None, subject_user=None, details=None):
    """Add an entry to the activity log (flushed with the caller's transaction)."""
    actor = actor or current_actor()
    entry = ActivityLog(
        action=action,
        actor_id=getattr(actor, "id", None),
        target_type=type(target).__name__ if target is not None else None,
        target_id=getattr(target, "id", None),
        target_label=str(target)[:300] if target is not None else None,
        subject_user_id=getattr(subject_user, "id", None),
        details=details,
        ip_address=_client_ip(),
    )
    session.add(entry)
    return entry


def _audited_types():
    from flask_appbuilder.security.sqla.models import Role

    return {NovaUser: "user", Role: "role", Organisation: "organisation", Product: "product", RolePolicy: "role_policy"}


def _plain(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple, set)):
        return sorted(str(v) for v in value)
    return str(value)


def _changes(obj):
    changes = {}
    state = inspect(obj)
    for attr in state.mapper.attrs:
        key = attr.key
        if key in _QUIET_FIELDS or key.endswith("_fk") or key in {"created_by", "changed_by", "created", "changed"}:
            continue
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        if hasattr(attr, "direction") and attr.direction.name != "MANYTOONE" and not attr.uselist:
            continue
        if key in _SECRET_FIELDS:
            changes[key] = "modifié"
            continue
        if hasattr(attr, "direction"):  # relationship
            if attr.uselist:  # collections (a role's permissions…): what came and went
                changes[key] = {"added": _plain(list(history.added)), "removed": _plain(list(history.deleted))}
                continue
            else:
                old = history.deleted[0] if history.deleted else None
                new = history.added[0] if history.added else None
            changes[key] = [_plain(old), _plain(new)]
        else:
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            changes[key] = [_plain(old), _plain(new)]
    return changes


def _before_flush(session, flush_context, instances):
    with session.no_autoflush:  # describing a change may load related rows
        _record_changes(session)


def _record_changes(session):
    types = _audited_types()
    for obj in list(session.new):
        kind = types.get(type(obj))
        if kind:
            session.info.setdefault("novadesk_created", []).append((kind, obj))
    for obj in list(session.dirty):
        kind = types.get(type(obj))
        if not kind or not session.is_modified(obj):
            continue
        changes = _changes(obj)
        if kind == "role" and changes:  # the permission matrix names the rights in words
            words = session.info.get("novadesk_role_rights", {}).pop(obj.id, None)
            if words:
                changes["rights"] = words
        if changes:
            record(session, f"{kind}.updated", target=obj, subject_user=obj if kind == "user" else None, details=changes)
    for obj in list(session.deleted):
        kind = types.get(type(obj))
        if kind:
            record(session, f"{kind}.deleted", target=obj, details={"label": str(obj)})


def _after_flush(session, flush_context):
    # New rows get their id during the flush; log them now (written by the next flush/commit).
    for kind, obj in session.info.pop("novadesk_created", []):
        record(session, f"{kind}.created", target=obj, subject_user=obj if kind == "user" else None)


def install():
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush_postexec", _after_flush)
