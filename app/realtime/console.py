"""The agents' console namespace (C2): signed-in support staff (and commercials, who watch
their clients' conversations) by their session cookie. Every action on a conversation asks
the permission and the scopes again, as the pages do; the frequent events (a message, typing,
a read receipt, the heartbeat) rely on a check at most RECHECK_SECONDS old, so that a
withdrawn permission or a deactivated account ends within that time without costing every
message the permission queries."""
import time

from flask import current_app, g, request
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, Namespace, emit, join_room, leave_room

from app.extensions import db
from app.realtime.common import action, without_request
from app.security import scopes
from app.security.scopes import conversation_room
from app.services import chat
from app.services.chat import conversation_payload, message_payload

VIEW = "Chat"
RECHECK_SECONDS = 30


class ConsoleState:
    """Who holds a console connection, as last checked."""

    __slots__ = ("user_id", "name", "first_name", "answers", "checked_at", "lang")

    def __init__(self, user):
        self.user_id, self.name, self.first_name = user.id, user.full_name, user.first_name
        self.answers = scopes.answers_chats(user) and current_app.appbuilder.sm.has_access("can_answer", VIEW)
        self.checked_at = time.monotonic()
        self.lang = str(get_locale() or "fr")  # the console's language, for refusals sent without a request

    def fresh(self):
        return time.monotonic() - self.checked_at < RECHECK_SECONDS


_consoles = {}  # sid → ConsoleState, for the connections of this process


def _me():
    state = _consoles.get(request.sid)
    if state is not None and state.fresh():
        return state
    return _refresh(_user())


def _refresh(user):
    if user is None:
        _consoles.pop(request.sid, None)
        raise chat.ConversationNotFound()
    state = _consoles[request.sid] = ConsoleState(user)
    return state


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
    """The console's person, loaded and checked now (for the rarer actions)."""
    user = _user()
    _refresh(user)
    return user


def _answering(user):
    if not (scopes.answers_chats(user) and current_app.appbuilder.sm.has_access("can_answer", VIEW)):
        raise chat.ConversationNotFound()
    return user


@action
def _agent_message(sid, data=None, me=None):
    """The agent answers, if they may answer chats (`me`: the connection's fresh check, else
    made now); the numbering statement checks that the conversation is theirs and active."""
    me = me or _me()
    with force_locale(me.lang):
        if not me.answers:
            raise chat.ConversationNotFound()
        data = data if isinstance(data, dict) else {}
        conversation_id = _id(data)
        chat_file = chat.file_of(conversation_id, data.get("file_id")) if data.get("file_id") else None
        message, _created = chat.agent_message(
            me.user_id, me.name, conversation_id, data.get("body"), client_id=data.get("client_id"), file=chat_file, skip_sid=sid
        )
        return {"ok": True, "message": message_payload(message)}


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
        state = _refresh(user)
        if state.answers:  # only those who may take a chat make the widget say someone is there
            chat.touch_presence(request.sid, user.id)
        db.session.commit()
        emit(
            "snapshot",
            {
                "me": {"id": user.id, "name": user.full_name, "available": user.chat_available, "limit": user.chat_limit, "answers": scopes.answers_chats(user), "watches_all": scopes.watches_every_chat(user)},
                "conversations": [conversation_payload(c) for c in live],
            },
        )

    def on_disconnect(self, reason=None):
        _consoles.pop(request.sid, None)
        chat.drop_presence(request.sid)
        db.session.commit()

    @action
    def on_heartbeat(self, data=None):
        _actor()  # the full check, every 30 s
        if _consoles[request.sid].answers:
            chat.touch_presence(request.sid, _consoles[request.sid].user_id)
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
        live = scopes.follows_conversation_live(user, conversation)
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
        chat.accept(user, conversation)
        join_room(conversation_room(conversation.id))
        return {"ok": True, "conversation": conversation_payload(conversation), "messages": [message_payload(m) for m in chat.messages_after(conversation, 0)]}

    def trigger_event(self, event, *args):
        """An agent's message skips the request context while the connection's check is fresh
        (who it is and whether they may answer, at most RECHECK_SECONDS old); otherwise it goes
        the usual way, where the check is made again from the session."""
        if event == "message" and args:
            state = _consoles.get(args[0])
            if state is not None and state.fresh():
                return without_request(self, args[0], _agent_message, *args[1:2], me=state)
        return super().trigger_event(event, *args)

    def on_message(self, data=None):
        return _agent_message(request.sid, data)

    def on_typing(self, data=None):
        """To the widget, only from the conversation's agent (the room holds watchers too)."""
        if not isinstance(data, dict):
            return
        try:
            me = _me()
            chat.agent_typing(me.user_id, me.first_name, _id(data), data.get("on"))
            db.session.commit()  # nothing stored: the commit sends what was published
        except chat.ConversationNotFound:
            db.session.rollback()

    @action
    def on_read(self, data=None):
        me = _me()
        conversation_id = _id(data)
        chat.mark_read(conversation_id, chat.AGENT, (data or {}).get("seq"), agent_id=me.user_id)
        return {"ok": True}

    @action
    def on_transfer(self, data=None):
        user = _answering(_actor())
        data = data if isinstance(data, dict) else {}
        conversation = chat.access_conversation(user, _id(data))
        chat.transfer(user, conversation, agent_id=data.get("agent_id"), queue_id=data.get("queue_id"))
        if conversation.agent_id != user.id:
            leave_room(conversation_room(conversation.id))
        return {"ok": True, "conversation": conversation_payload(conversation)}

    @action
    def on_close(self, data=None):
        user = _answering(_actor())
        conversation = chat.access_conversation(user, _id(data))
        chat.close(conversation, agent=user)
        return {"ok": True, "conversation": conversation_payload(conversation)}


def _id(data):
    value = data.get("conversation_id") if isinstance(data, dict) else None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise chat.ConversationNotFound()


