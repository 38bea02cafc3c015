"""What both namespaces share: the action wrapper (commit or refuse, one answer shape) and
the payloads sent to widgets and consoles."""
import functools
import hashlib
import hmac
import logging

from flask import current_app, g, request, url_for

from app.extensions import db
from app.models import ConversationStatus
from app.realtime import conversation_room, socketio
from app.services import ServiceError

log = logging.getLogger(__name__)


def action(handler):
    """Run a socket handler as one transaction: its answer (the client's acknowledgement) is
    the handler's dict, or {"error": message} with nothing changed."""

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
            from flask_babel import gettext as _

            return {"error": _("Une erreur est survenue ; réessayez.")}
        finally:
            g.pop("user", None)
        after = getattr(g, "after_commit", None)
        if after:  # broadcasts wait for the commit: nobody hears of what was not stored
            for emit in after:
                emit()
            g.after_commit = []
        return result if result is not None else {"ok": True}

    return wrapper


def own_origin():
    return request.host_url


def page_origin():
    """The origin of the page behind a request, as the browser tells it: the `Origin` header,
    else the origin of the `Referer` (a same-origin GET, such as Socket.IO's first long-polling
    request, carries no Origin). Never what the page's scripts say about themselves."""
    from urllib.parse import urlsplit

    origin = request.headers.get("Origin")
    if origin is not None:  # an opaque origin ("null": a sandboxed page, a file) is no origin
        origin = origin.strip()
        return origin.rstrip("/").lower() if origin and origin != "null" else None
    referer = request.headers.get("Referer", "")
    parts = urlsplit(referer) if referer else None
    if parts and parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc.lower()}"
    return None


def emit_to(event, data, **kwargs):
    """Emit through the application's Socket.IO server (to a room, a namespace)."""
    socketio().emit(event, data, **kwargs)


def after_commit(fn, *args, **kwargs):
    g.setdefault("after_commit", []).append(functools.partial(fn, *args, **kwargs))


def broadcast_after_commit(message, skip_sender=False):
    payload = message_payload(message)
    after_commit(broadcast_message, payload, skip_sid=request.sid if skip_sender else None)
    return payload


def file_signature(conversation_id, file_id):
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"chat-file:{conversation_id}:{file_id}".encode(), hashlib.sha256).hexdigest()[:32]


def file_payload(chat_file):
    if chat_file is None:
        return None
    signature = file_signature(chat_file.conversation_id, chat_file.id)
    return {
        "id": chat_file.id,
        "name": chat_file.filename,
        "size": chat_file.size,
        "is_image": chat_file.is_image,
        "url": url_for("chat_public.chat_file", file_id=chat_file.id, signature=signature),
    }


def message_payload(message):
    return {
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "id": message.id,
        "author_kind": message.author_kind,
        "author_name": message.author_name,
        "body": message.body,
        "client_id": message.client_id,
        "file": file_payload(message.file),
        "created_on": message.created_on.isoformat(),
    }


def conversation_payload(conversation):
    return {
        "id": conversation.id,
        "status": conversation.status,
        "organisation_id": conversation.organisation_id,
        "organisation": conversation.organisation.name,
        "visitor": conversation.visitor_label,
        "visitor_email": conversation.visitor_email,
        "identified": conversation.identified,
        "started_on": conversation.started_on.isoformat(),
        "accepted_on": conversation.accepted_on.isoformat() if conversation.accepted_on else None,
        "agent_id": conversation.agent_id,
        "agent_name": conversation.agent.full_name if conversation.agent else None,
        "queue": conversation.queue.name if conversation.queue else None,
        "last_seq": conversation.last_seq,
        "visitor_read_seq": conversation.visitor_read_seq,
        "agent_read_seq": conversation.agent_read_seq,
        "ticket": conversation.ticket.number if conversation.ticket else None,
        "ticket_url": url_for("TicketDeskView.show", ticket_id=conversation.ticket_id) if conversation.ticket_id else None,
        "rating": conversation.rating,
        "open": conversation.status in ConversationStatus.OPEN,
    }


def broadcast_message(message, skip_sid=None):
    """To call through after_commit: the payload is made now, while the row is in the
    session (after the commit it would be read again). The sender's own connection has it in
    its acknowledgement: it is skipped (their other tabs are not)."""
    payload = message if isinstance(message, dict) else message_payload(message)
    room = conversation_room(payload["conversation_id"])
    socketio().emit("message", payload, to=room, namespace="/widget", skip_sid=skip_sid)
    socketio().emit("message", payload, to=room, namespace="/console", skip_sid=skip_sid)


def broadcast_conversation(conversation):
    """A conversation changed (new, taken, transferred, closed): every console that may list
    it hears of it, and the widget of its state."""
    payload = conversation_payload(conversation)
    socketio().emit("conversation", payload, to="console:staff", namespace="/console")
    socketio().emit("conversation", payload, to=f"console:org:{conversation.organisation_id}", namespace="/console")
    socketio().emit(
        "state",
        {"status": conversation.status, "agent_name": payload["agent_name"], "ticket": payload["ticket"]},
        to=conversation_room(conversation.id),
        namespace="/widget",
    )
