"""What both namespaces share: the action wrapper (commit or refuse, one answer shape) and
where a socket's page comes from. What is told to other sockets is the services' business:
they publish it, and the event dispatcher sends it once the action is committed."""
import functools
import logging

from flask import g
from flask_babel import gettext as _

from app.extensions import db
from app.services import ServiceError

log = logging.getLogger(__name__)


def action(handler):
    """Run a socket handler as one transaction: its answer (the client's acknowledgement) is
    the handler's dict, or {"error": message} with nothing changed. What the action published
    leaves with the commit: nobody hears of what was not stored."""

    @functools.wraps(handler)
    def wrapper(*args, **kwargs):
        try:
            result = handler(*args, **kwargs)
            db.session.commit()
        except ServiceError as refused:
            db.session.rollback()
            return {"error": refused.message, "fields": refused.errors}
        except Exception:
            db.session.rollback()
            log.exception("socket event failed")
            return {"error": _("Une erreur est survenue ; réessayez.")}
        finally:
            g.pop("user", None)
        return result if result is not None else {"ok": True}

    return wrapper


def without_request(namespace, sid, handler, *args, **kwargs):
    """Run a frequent event (a chat message) in the application's context alone: Flask-SocketIO
    builds a whole request context for every event (a request object, URL matching, the
    session cookie decoded and verified), which the message path does not read — who is
    speaking is the connection's state, checked when it connected. `handler(sid, *args, **kwargs)`."""
    environ = namespace.socketio.server.get_environ(sid, namespace=namespace.namespace)
    if not environ:
        return None  # not (or no longer) connected here
    with environ["flask.app"].app_context():
        return handler(sid, *args, **kwargs)
