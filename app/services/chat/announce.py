"""What the widgets and consoles are told, and where: the payloads of messages and
conversations, and the events that carry them once the change is committed.

Every chat action publishes here, whichever door it came through (a socket, a page, the
API, the worker): the rooms come from scopes.py, the dispatcher sends after the commit. The
payloads are built when the event is published, while the rows are in the session, and with
no request needed (links are paths on NovaDesk, built as public_address builds them)."""
import hashlib
import hmac

from flask import current_app

from app.extensions import db
from app.models import ConversationStatus
from app.security import scopes
from app.services import events
from app.services.public_address import path_for


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
        "is_image": bool(chat_file.is_image),
        "url": path_for("chat_public.chat_file", file_id=chat_file.id, signature=signature),
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
    ticket = conversation.ticket
    return {
        "id": conversation.id,
        "status": conversation.status,
        "organisation_id": conversation.organisation_id,
        "organisation": conversation.organisation.name,
        "visitor": conversation.visitor_label,
        "visitor_email": conversation.visitor_email,
        "identified": bool(conversation.identified),
        "started_on": conversation.started_on.isoformat(),
        "accepted_on": conversation.accepted_on.isoformat() if conversation.accepted_on else None,
        "agent_id": conversation.agent_id,
        "agent_name": conversation.agent.full_name if conversation.agent else None,
        "queue": conversation.queue.name if conversation.queue else None,
        "last_seq": conversation.last_seq or 0,
        "visitor_read_seq": conversation.visitor_read_seq or 0,
        "agent_read_seq": conversation.agent_read_seq or 0,
        "ticket": ticket.number if ticket is not None else None,
        "ticket_url": path_for("TicketDeskView.show", ticket_id=ticket.id) if ticket is not None else None,
        "rating": conversation.rating,
        "open": conversation.status in ConversationStatus.OPEN,
    }


_WIDGET_KEYS = ("id", "status", "agent_name", "last_seq", "agent_read_seq", "ticket", "rating", "open")


def widget_view(conversation):
    """What the visitor sees of their conversation (no internal details)."""
    full = conversation_payload(conversation)
    return {key: full[key] for key in _WIDGET_KEYS}


def tell_message(message, skip_sid=None):
    """A stored message, to its conversation's room on both sides. The sender's own socket
    (`skip_sid`) has it in its acknowledgement; their other tabs hear it."""
    events.publish("chat.message", message_payload(message), to=scopes.conversation_message_rooms(message.conversation_id), skip_sid=skip_sid)


def tell_conversation(conversation):
    """A conversation changed (new, taken, transferred, closed, linked to a ticket): every
    console that may list it hears of it, and its widget of its state."""
    db.session.flush()  # its agent, queue and ticket as they are now, not as first loaded
    db.session.expire(conversation, ["agent", "queue", "ticket"])
    payload = conversation_payload(conversation)
    events.publish("chat.conversation", payload, to=scopes.conversation_event_rooms(conversation.organisation_id))
    events.publish(
        "chat.state",
        {"status": payload["status"], "agent_name": payload["agent_name"], "ticket": payload["ticket"]},
        to=scopes.conversation_side_rooms(conversation.id, to_visitor=True),
    )


def tell_read(conversation_id, side, seq):
    """A read receipt, to the other side."""
    to_visitor = side != "visitor"
    payload = {"side": side, "seq": seq} if to_visitor else {"conversation_id": conversation_id, "side": side, "seq": seq}
    events.publish("chat.read", payload, to=scopes.conversation_side_rooms(conversation_id, to_visitor=to_visitor))


def tell_typing(conversation_id, side, on, name=None):
    """Someone is typing, to the other side (nothing stored: a commit of nothing sends it)."""
    if side == "visitor":
        payload, to_visitor = {"conversation_id": conversation_id, "side": side, "on": bool(on)}, False
    else:
        payload, to_visitor = {"side": side, "on": bool(on), "name": name}, True
    events.publish("chat.typing", payload, to=scopes.conversation_side_rooms(conversation_id, to_visitor=to_visitor))
