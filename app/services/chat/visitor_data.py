"""The visitors' personal data in the live chat (A4): what a person's export holds, what their
erasure and the retention period remove, registered with app/services/personal_data.py."""
from sqlalchemy import or_

from app.extensions import db
from app.models import ChatConversation, ChatFile, ChatMessage, ConversationStatus
from app.services import events
from app.services.chat.common import VISITOR
from app.services.chat.messages import messages_after
from app.services.personal_data import ANONYMOUS_NAME, PSEUDONYM_DOMAIN, Holder, _mentions, find_person, register, scrubber


def _their_conversations(person):
    conditions = [ChatConversation.visitor_email == person.email]
    if person.user is not None:
        conditions.append(ChatConversation.visitor_id == person.user.id)
    return db.session.query(ChatConversation).filter(or_(*conditions)).order_by(ChatConversation.id)


def _export_conversations(person):
    held = [
        {
            "conversation": c.id, "organisation": c.organisation.name, "started_on": c.started_on.isoformat(),
            "status": c.status, "name": c.visitor_name, "email": c.visitor_email, "partner_user_id": c.visitor_external_id,
            "rating": c.rating, "rating_comment": c.rating_comment, "ticket": c.ticket.number if c.ticket else None,
            "messages": [{"at": m.created_on.isoformat(), "from": m.author_kind, "text": m.body, "file": m.file.filename if m.file else None} for m in messages_after(c, 0, limit=10000)],
        }
        for c in _their_conversations(person)
    ]
    return held or None


def _erase_conversations(person, pseudonym, scrub):
    """The visitor's name, address and partner id leave their conversations; what they wrote
    is scrubbed of their address, names and phones; the files they sent go. Dates, statuses,
    ratings and message counts stay (the figures do not move)."""
    count = 0
    conversations = _their_conversations(person).all()
    for conversation in conversations:
        conversation.visitor_name, conversation.visitor_email, conversation.visitor_external_id = ANONYMOUS_NAME, pseudonym, None
        conversation.rating_comment = scrub(conversation.rating_comment)
        count += 1
    ids = [c.id for c in conversations]
    if ids:
        db.session.query(ChatMessage).filter(ChatMessage.conversation_id.in_(ids), ChatMessage.author_kind == VISITOR).update(
            {ChatMessage.author_name: ANONYMOUS_NAME}, synchronize_session=False
        )
        files = db.session.query(ChatFile).filter(ChatFile.conversation_id.in_(ids)).all()
        sent = {m.file_id for m in db.session.query(ChatMessage).filter(ChatMessage.conversation_id.in_(ids), ChatMessage.author_kind == VISITOR, ChatMessage.file_id.isnot(None))}
        for chat_file in (f for f in files if f.id in sent):
            db.session.query(ChatMessage).filter(ChatMessage.file_id == chat_file.id).update({ChatMessage.file_id: None}, synchronize_session=False)
            events.publish("files.removed", {"keys": [k for k in (chat_file.storage_key, chat_file.preview_key) if k]})
            db.session.delete(chat_file)
    for message in db.session.query(ChatMessage).filter(_mentions(ChatMessage.body, person)):
        message.body = scrub(message.body)
        count += 1
    return count


def _expire_conversations(cutoff):
    """Retention: conversations ended before the cutoff lose their visitor's identity."""
    old = db.session.query(ChatConversation).filter(
        ChatConversation.status.in_((ConversationStatus.CLOSED, ConversationStatus.OFFLINE)),
        ChatConversation.closed_on < cutoff,
        ChatConversation.visitor_name != ANONYMOUS_NAME,
    )
    for conversation in old.limit(500):
        pseudonym = f"anonyme-chat-{conversation.id}@{PSEUDONYM_DOMAIN}"
        if conversation.visitor_email:
            person = find_person(conversation.visitor_email)
            if conversation.visitor_name and conversation.visitor_name not in person.names:
                person.names.append(conversation.visitor_name)
            scrub = scrubber(person, pseudonym)
            for message in db.session.query(ChatMessage).filter(ChatMessage.conversation_id == conversation.id):
                message.body = scrub(message.body)
            conversation.rating_comment = scrub(conversation.rating_comment)
        conversation.visitor_name = ANONYMOUS_NAME
        conversation.visitor_email = pseudonym
        conversation.visitor_external_id = None
        db.session.query(ChatMessage).filter(ChatMessage.conversation_id == conversation.id, ChatMessage.author_kind == VISITOR).update(
            {ChatMessage.author_name: ANONYMOUS_NAME}, synchronize_session=False
        )


register(Holder("chat", "Discussions en direct", _export_conversations, _erase_conversations, _expire_conversations))
