"""API keys (U3, U7): separate credentials admins issue to a user and revoke."""
from datetime import datetime, time

from flask import current_app
from flask_babel import gettext as _

from app.extensions import db
from app.models.types import utcnow
from app.services import ServiceError, audit
from app.services.auth import find_user_by_email

READ_ONLY = "read"  # the key reads (GET) and writes nothing
READ_WRITE = "read write"
SCOPE_LABELS = {READ_ONLY: "Lecture seule", READ_WRITE: "Lecture et écriture"}
READ_PERMISSIONS = frozenset({"can_get", "can_info"})
TOUCH_SECONDS = 60  # a key's last use is written again at most this often


def is_read_only(scopes):
    return (scopes or READ_WRITE).split() == [READ_ONLY]


def issue_api_key(actor, user_email, name, expires_on=None, scopes=READ_WRITE):
    """A new key for an active user; returns FAB's description with the key (shown once).
    The key acts with its user's rights; a read-only key only reads."""
    if scopes not in SCOPE_LABELS:
        raise ServiceError(_("Portée de clé inconnue."))
    user = find_user_by_email(user_email)
    if user is None or not user.active:
        raise ServiceError(_("Aucun utilisateur actif avec cette adresse."))
    expires = datetime.combine(expires_on, time.max) if expires_on else None
    created = current_app.appbuilder.sm.create_api_key(user, name, scopes=scopes, expires_on=expires)
    audit.record(db.session, "api_key.issued", actor=actor, subject_user=user, target=user, details={"name": name, "scopes": scopes})
    return user, created


def revoke_api_keys(actor, keys):
    for key in keys:
        key.revoked_on = utcnow().replace(tzinfo=None)
        key.active = False
        audit.record(db.session, "api_key.revoked", actor=actor, subject_user=key.user, target=key.user, details={"name": key.name})
