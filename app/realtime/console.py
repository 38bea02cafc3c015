"""The agents' console namespace (C2): signed-in support staff (and commercials, who watch
their clients' conversations) by their session cookie; every event asks the permission and
the scopes again, as the pages do."""
from flask import current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, Namespace, emit, join_room, leave_room

from app.extensions import db
from app.models import ChatConversation, ConversationStatus
from app.realtime import conversation_room, socketio
from app.realtime.common import action, after_commit, broadcast_conversation, broadcast_message, conversation_payload, message_payload
from app.security import scopes
from app.services import chat

VIEW = "Chat"


def _user():
    """The signed-in person allowed on the console, or None."""
    user = current_user._get_current_object() if current_user and current_user.is_authenticated else None
    if user is None or not user.active:
        return None
    g.user = user  # FAB's permission check and the audit trail read it
    if not current_app.appbuilder.sm.has_access("can_console", VIEW):
        return None
    return user


def _actor():
    user = _user()
    if user is None:
        raise chat.ConversationNotFound()
    return user


def _answering(user):
    if not (scopes.answers_chats(user) and current_app.appbuilder.sm.has_access("can_answer", VIEW)):
        raise chat.ConversationNotFound()
    return user


def _may_follow_live(user, conversation):
    """Who may sit in a conversation's room: its agent, supervisors, any agent while it waits
    (to read before accepting), a commercial of that client."""
    if conversation.agent_id == user.id or scopes.watches_every_chat(user):
        return True
    if scopes.answers_chats(user):
        return conversation.status == ConversationStatus.WAITING
    return True  # access_conversation already limited commercials to their clients


class ConsoleNamespace(Namespace):
    def on_connect(self, auth=None):
        user = _user()
        if user is None:
            db.session.rollback()
            raise ConnectionRefusedError({"message": _("Connectez-vous avec un compte du support pour utiliser la console.")})
        for room in scopes.conversation_console_rooms(user):
            join_room(room)
        live = chat.live_conversations(user)
        for conversation in live:
            if conversation.agent_id == user.id:
                join_room(conversation_room(conversation.id))
        if scopes.answers_chats(user):
            chat.touch_presence(request.sid, user)
        db.session.commit()
        emit(
            "snapshot",
            {
                "me": {"id": user.id, "name": user.full_name, "available": user.chat_available, "limit": user.chat_limit, "answers": scopes.answers_chats(user), "watches_all": scopes.watches_every_chat(user)},
                "conversations": [conversation_payload(c) for c in live],
            },
        )

    def on_disconnect(self, reason=None):
        chat.drop_presence(request.sid)
        db.session.commit()

    @action
    def on_heartbeat(self, data=None):
        user = _actor()
        if scopes.answers_chats(user):
            chat.touch_presence(request.sid, user)
        return {"ok": True}

    @action
    def on_status(self, data=None):
        user = _answering(_actor())
        chat.set_agent_available(user, bool(data.get("available")) if isinstance(data, dict) else False)
        return {"ok": True, "available": user.chat_available}

    @action
    def on_open(self, data=None):
        """Read a conversation (history, context); join its room when allowed to follow it."""
        user = _actor()
        conversation = chat.access_conversation(user, _id(data))
        live = conversation.status in ConversationStatus.OPEN and _may_follow_live(user, conversation)
        if live:
            join_room(conversation_room(conversation.id))
        return {
            "ok": True,
            "live": live,
            "conversation": conversation_payload(conversation),
            "messages": [message_payload(m) for m in chat.messages_after(conversation, (data or {}).get("after"))],
        }

    @action
    def on_leave(self, data=None):
        user = _actor()
        conversation = chat.access_conversation(user, _id(data))
        if conversation.agent_id != user.id:
            leave_room(conversation_room(conversation.id))
        return {"ok": True}

    @action
    def on_accept(self, data=None):
        user = _answering(_actor())
        conversation = chat.access_conversation(user, _id(data))
        message = chat.accept(user, conversation)
        join_room(conversation_room(conversation.id))
        after_commit(broadcast_message, message)
        after_commit(broadcast_conversation, conversation)
        return {"ok": True, "conversation": conversation_payload(conversation), "messages": [message_payload(m) for m in chat.messages_after(conversation, 0)]}

    @action
    def on_message(self, data=None):
        user = _answering(_actor())
        data = data if isinstance(data, dict) else {}
        conversation = chat.access_conversation(user, _id(data))
        chat_file = chat.file_of(conversation, data.get("file_id")) if data.get("file_id") else None
        message, created = chat.agent_message(user, conversation, data.get("body"), client_id=data.get("client_id"), file=chat_file)
        if created:
            after_commit(broadcast_message, message)
        return {"ok": True, "message": message_payload(message)}

    def on_typing(self, data=None):
        user = _user()
        if user is None or not isinstance(data, dict) or not scopes.answers_chats(user):
            return
        conversation = db.session.get(ChatConversation, _id(data))
        if conversation is None or conversation.agent_id != user.id or conversation.status != ConversationStatus.ACTIVE:
            return
        socketio.emit("typing", {"side": "agent", "on": bool(data.get("on")), "name": user.first_name}, to=conversation_room(conversation.id), namespace="/widget")

    @action
    def on_read(self, data=None):
        user = _answering(_actor())
        conversation = chat.access_conversation(user, _id(data))
        if conversation.agent_id != user.id:
            return {"ok": True}
        seq = chat.mark_read(conversation, chat.AGENT, (data or {}).get("seq"))
        if seq:
            after_commit(socketio.emit, "read", {"side": "agent", "seq": seq}, to=conversation_room(conversation.id), namespace="/widget")
        return {"ok": True}

    @action
    def on_transfer(self, data=None):
        user = _answering(_actor())
        data = data if isinstance(data, dict) else {}
        conversation = chat.access_conversation(user, _id(data))
        message = chat.transfer(user, conversation, agent_id=data.get("agent_id"), queue_id=data.get("queue_id"))
        if conversation.agent_id != user.id:
            leave_room(conversation_room(conversation.id))
        after_commit(broadcast_message, message)
        after_commit(broadcast_conversation, conversation)
        return {"ok": True, "conversation": conversation_payload(conversation)}

    @action
    def on_close(self, data=None):
        user = _answering(_actor())
        conversation = chat.access_conversation(user, _id(data))
        message = chat.close(conversation, agent=user)
        if message is not None:
            after_commit(broadcast_message, message)
            after_commit(broadcast_conversation, conversation)
        return {"ok": True, "conversation": conversation_payload(conversation)}


def _id(data):
    value = data.get("conversation_id") if isinstance(data, dict) else None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise chat.ConversationNotFound()


socketio.on_namespace(ConsoleNamespace("/console"))

