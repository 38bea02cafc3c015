"""The end of every adapter that calls a service: commit once, or roll back and say why."""
from flask import flash

from app.extensions import db
from app.services import ServiceError


def commit_or_refuse(action, success=None):
    """Run `action` (a service call); commit and flash `success`, or roll back and flash the
    service's refusal. Returns True when the change was committed."""
    try:
        action()
    except ServiceError as error:
        db.session.rollback()
        if error.not_found:  # the adapter answers 404, as for a missing object
            raise
        flash(error.message, "danger")
        return False
    db.session.commit()
    if success:
        flash(str(success), "success")
    return True
