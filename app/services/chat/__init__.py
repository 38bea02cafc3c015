"""Live chat's one door (C1–C6), by action: who a widget's visitor is (identity), whether
someone can answer (presence), conversations and their messages (messages), the agents'
console (console), files (files), the ways a conversation becomes a ticket (ticketing) and the
visitors' personal data (visitor_data). What widgets and consoles are told, and where, is
announce.py's: every action publishes its events there, whatever door it came through.

Nothing here knows about Socket.IO: `app/realtime/` adapts these functions to socket events;
the event dispatcher sends what they published once it is committed.
`from app.services import chat; chat.<name>` reaches every public name below.
"""
from app.services.chat import visitor_data  # noqa: F401  (registers the chat's personal data)
from app.services.chat.announce import (
    conversation_payload,
    file_payload,
    file_signature,
    message_payload,
    tell_conversation,
    tell_message,
    widget_view,
)
from app.services.chat.common import AGENT, MESSAGE_MAX, NAME_MAX, SYSTEM, VISITOR, ChatRefused, ConversationNotFound
from app.services.chat.console import (
    accept,
    access_conversation,
    articles_for_reply,
    close,
    context_for,
    live_conversations,
    rate,
    transfer,
)
from app.services.chat.files import file_of, send_visitor_file, store_file
from app.services.chat.identity import (
    DEMO_CHANNEL_KEY,
    DEMO_VISITOR,
    Visitor,
    channel_by_id,
    channel_for_key,
    channel_origins,
    clean_origins,
    demo_channel,
    new_channel_keys,
    origin_accepted,
    origin_allowed,
    served_origin,
    sign_identity,
    visitor_from_identity,
)
from app.services.chat.messages import (
    StoredMessage,
    add_message,
    agent_message,
    agent_typing,
    conversation_for_token,
    mark_read,
    messages_after,
    resume,
    start_conversation,
    store_message,
    system_message,
    visitor_message,
    visitor_typing,
)
from app.services.chat.presence import (
    PRESENCE_SECONDS,
    active_counts,
    availability,
    drop_presence,
    forget_stale_presence,
    online_agents_query,
    set_agent_available,
    touch_presence,
    unavailable_message,
)
from app.services.chat.ticketing import attach_to_ticket, leave_message, to_ticket, transcript

__all__ = [
    "AGENT", "DEMO_CHANNEL_KEY", "DEMO_VISITOR", "MESSAGE_MAX", "NAME_MAX", "PRESENCE_SECONDS", "SYSTEM", "VISITOR",
    "ChatRefused", "ConversationNotFound", "StoredMessage", "Visitor",
    "accept", "access_conversation", "active_counts", "add_message", "agent_message", "agent_typing", "articles_for_reply",
    "attach_to_ticket", "availability", "channel_by_id", "channel_for_key", "channel_origins", "clean_origins", "close",
    "context_for", "conversation_for_token", "conversation_payload", "demo_channel", "drop_presence", "file_of", "file_payload",
    "file_signature", "forget_stale_presence", "leave_message", "live_conversations", "mark_read", "message_payload",
    "messages_after", "new_channel_keys", "online_agents_query", "origin_accepted", "origin_allowed", "rate", "resume",
    "send_visitor_file", "served_origin", "set_agent_available", "sign_identity", "start_conversation", "store_file", "store_message",
    "system_message", "tell_conversation", "tell_message", "to_ticket", "transcript", "transfer", "touch_presence",
    "unavailable_message", "visitor_from_identity", "visitor_message", "visitor_typing", "widget_view",
]
