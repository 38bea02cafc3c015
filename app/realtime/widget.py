"""The widget's namespace: a partner's user (or an anonymous visitor, where allowed) talks to
the support. The frame sends, when it connects:
  {channel: public key, host: (ignored: the origin comes from the browser's headers), identity: {id, name, email,
   expires, signature} or nothing, token: the conversation it resumes, after: last seq, lang}.
"""
import logging
import time

from flask import current_app, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_socketio import ConnectionRefusedError, Namespace, emit, join_room, leave_room

from app.extensions import db
from app.models import ChatConversation
from app.realtime.common import action, without_request
from app.security.scopes import conversation_room
from app.services import ServiceError, chat
from app.services.chat import message_payload, widget_view
from app.web.origins import own_origin, page_origin

log = logging.getLogger(__name__)


class WidgetState:
    """What a widget connection holds (kept small: thousands of them live at once)."""

    __slots__ = ("channel_id", "visitor", "conversation_id", "visitor_name", "lang", "allowance", "checked_at", "last_typing")

    def __init__(self, channel_id, visitor, lang):
        self.channel_id, self.visitor, self.lang = channel_id, visitor, lang
        self.conversation_id = self.visitor_name = None
        self.allowance, self.checked_at, self.last_typing = None, time.monotonic(), 0.0


_widgets = {}  # sid → WidgetState, for the connections of this process


def _language(value):
    value = str(value or "")[:2].lower()
    return value if value in ("fr", "en") else "fr"


def _state(sid=None):
    state = _widgets.get(sid or request.sid)
    if state is None:
        raise ServiceError(_("Connexion perdue : rechargez la discussion."))
    return state


def _conversation(state):
    if state.conversation_id is None:
        raise ServiceError(_("Aucune conversation en cours."))
    conversation = db.session.get(ChatConversation, state.conversation_id)
    if conversation is None:
        raise ServiceError(_("Aucune conversation en cours."))
    return conversation


def _allow_start():
    """New conversations and offline messages (each may become a ticket) per address: a
    visitor reconnecting again and again gets no more than CHAT_STARTS_PER_HOUR."""
    if not current_app.config.get("RATELIMIT_ENABLED"):
        return True
    from limits import parse

    limiter = current_app.appbuilder.sm.limiter.limiter
    return limiter.hit(parse(current_app.config["CHAT_STARTS_PER_HOUR"]), "chat-start", request.remote_addr or "")


def _allow_message(state):
    """A token bucket per connection (a burst of 10, then CHAT_MESSAGES_PER_MINUTE), and the
    same allowance per conversation across connections, so reconnecting does not reset it."""
    if state.conversation_id is not None and current_app.config.get("RATELIMIT_ENABLED"):
        from limits import parse

        per_minute = current_app.config["CHAT_MESSAGES_PER_MINUTE"]
        limiter = current_app.appbuilder.sm.limiter.limiter
        if not limiter.hit(parse(f"{per_minute + 10} per minute"), "chat-message", str(state.conversation_id)):
            return False
    return _bucket(state)


def _bucket(state):
    per_minute = current_app.config["CHAT_MESSAGES_PER_MINUTE"]
    now = time.monotonic()
    burst = 10.0
    allowance = burst if state.allowance is None else state.allowance
    allowance = min(burst, allowance + (now - state.checked_at) * per_minute / 60.0)
    state.checked_at = now
    if allowance < 1.0:
        state.allowance = allowance
        return False
    state.allowance = allowance - 1.0
    return True


@action
def _visitor_message(sid, data=None):
    """The visitor writes: the connection's own state says who they are and where (set when
    it connected and started), the allowance is checked, then the one door stores it."""
    data = data if isinstance(data, dict) else {}
    state = _state(sid)
    with force_locale(state.lang):
        if state.conversation_id is None:
            raise ServiceError(_("Aucune conversation en cours."))
        if not _allow_message(state):
            return {"error": _("Vous envoyez trop de messages : patientez un instant avant d'écrire à nouveau."), "flood": True}
        chat_file = chat.file_of(state.conversation_id, data.get("file_id")) if data.get("file_id") else None
        message, _created = chat.visitor_message(
            state.conversation_id, state.visitor_name, data.get("body"), client_id=data.get("client_id"), file=chat_file, skip_sid=sid
        )
        return {"ok": True, "message": message_payload(message)}


class WidgetNamespace(Namespace):
    def on_connect(self, auth=None):
        auth = auth if isinstance(auth, dict) else {}
        lang = _language(auth.get("lang"))
        with force_locale(lang):
            try:
                channel = chat.channel_for_key(auth.get("channel"))
                # The origin is the browser's word (the handshake's Origin, or its Referer),
                # never what the client says (`host`): the frame is ours, and where it may be
                # embedded is the partner's declared origins (frame-ancestors); anything else,
                # or a client that names no origin at all, is refused.
                if not chat.origin_accepted(channel, page_origin(), own_origin()):
                    raise chat.ChatRefused(_("Ce site n'est pas autorisé à utiliser ce canal de discussion."))
                visitor = chat.visitor_from_identity(channel, auth.get("identity"))
                state = WidgetState(channel.id, visitor, lang)
                conversation = chat.resume(channel, auth.get("token"), visitor)
                reason = chat.availability()
                hello = {
                    "identified": visitor.identified,
                    "name": visitor.name,
                    "email": visitor.email,
                    "available": reason is None,
                    "unavailable": chat.unavailable_message(reason),
                    "conversation": None,
                }
                if conversation is not None:
                    state.conversation_id, state.visitor_name = conversation.id, conversation.visitor_label
                    join_room(conversation_room(conversation.id))
                    hello["conversation"] = widget_view(conversation)
                    hello["messages"] = [message_payload(m) for m in chat.messages_after(conversation, auth.get("after"))]
                db.session.commit()
            except ServiceError as refused:
                db.session.rollback()
                raise ConnectionRefusedError({"message": refused.message})
            except Exception:  # whatever a visitor sends, the connection is refused, never broken
                db.session.rollback()
                log.exception("widget connection refused")
                raise ConnectionRefusedError({"message": _("Une erreur est survenue ; réessayez.")})
        _widgets[request.sid] = state
        emit("hello", hello)

    def on_disconnect(self, reason=None):
        _widgets.pop(request.sid, None)

    @action
    def on_start(self, data=None):
        """The first question: a conversation waiting for an agent, or (nobody available)
        the offline form."""
        data = data if isinstance(data, dict) else {}
        state = _state()
        with force_locale(state.lang):
            if state.conversation_id is not None:
                raise ServiceError(_("Une conversation est déjà en cours."))
            if not _allow_start():
                raise ServiceError(_("Trop de discussions ouvertes depuis votre connexion : réessayez plus tard."))
            reason = chat.availability()
            if reason is not None:
                return {"error": chat.unavailable_message(reason), "offline": True}
            channel = chat.channel_by_id(state.channel_id)
            conversation, token, message = chat.start_conversation(
                channel, chat.Visitor(**state.visitor.as_session()), data.get("question"), state.lang, name=data.get("name"), email=data.get("email"),
                client_id=data.get("client_id"), skip_sid=request.sid,
            )
            state.conversation_id, state.visitor_name = conversation.id, conversation.visitor_label
            join_room(conversation_room(conversation.id))
            return {"ok": True, "token": token, "conversation": widget_view(conversation), "message": message_payload(message)}

    @action
    def on_leave_message(self, data=None):
        data = data if isinstance(data, dict) else {}
        state = _state()
        with force_locale(state.lang):
            if not _allow_message(state) or not _allow_start():
                raise ServiceError(_("Trop de discussions ouvertes depuis votre connexion : réessayez plus tard."))
            channel = chat.channel_by_id(state.channel_id)
            visitor = chat.Visitor(**state.visitor.as_session())
            _conversation, ticket = chat.leave_message(channel, visitor, data.get("body"), name=data.get("name"), email=data.get("email"), language=state.lang)
            return {"ok": True, "ticket": ticket.number}

    def trigger_event(self, event, *args):
        if event == "message" and args:  # the hot path, without a request context
            return without_request(self, args[0], _visitor_message, *args[1:2])
        return super().trigger_event(event, *args)

    def on_message(self, data=None):
        return _visitor_message(request.sid, data)

    def on_typing(self, data=None):
        state = _widgets.get(request.sid)
        if state is None or state.conversation_id is None:
            return
        now = time.monotonic()
        if now - state.last_typing < 0.5:  # a burst of key presses is one notice
            return
        state.last_typing = now
        try:
            chat.visitor_typing(state.conversation_id, bool(data.get("on")) if isinstance(data, dict) else False)
            db.session.commit()  # nothing stored: the commit sends what was published
        except Exception:
            db.session.rollback()
            log.exception("typing notice failed")

    @action
    def on_read(self, data=None):
        data = data if isinstance(data, dict) else {}
        state = _state()
        if state.conversation_id is None:
            return {"ok": True}
        chat.mark_read(state.conversation_id, chat.VISITOR, data.get("seq"))
        return {"ok": True}

    @action
    def on_sync(self, data=None):
        """What the widget missed after the number it has (C6)."""
        data = data if isinstance(data, dict) else {}
        conversation = _conversation(_state())
        return {"ok": True, "conversation": widget_view(conversation), "messages": [message_payload(m) for m in chat.messages_after(conversation, data.get("after"))]}

    @action
    def on_close(self, data=None):
        state = _state()
        with force_locale(state.lang):
            conversation = _conversation(state)
            chat.close(conversation)
            return {"ok": True, "conversation": widget_view(conversation)}

    @action
    def on_rate(self, data=None):
        data = data if isinstance(data, dict) else {}
        state = _state()
        with force_locale(state.lang):
            conversation = _conversation(state)
            chat.rate(conversation, data.get("score"), data.get("comment"))
            return {"ok": True}

    @action
    def on_new(self, data=None):
        """After a closed conversation, the visitor may start another."""
        state = _state()
        if state.conversation_id is not None:
            leave_room(conversation_room(state.conversation_id))
        state.conversation_id = None
        return {"ok": True, "available": chat.availability() is None}

