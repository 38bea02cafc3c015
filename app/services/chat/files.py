"""Files in a conversation: stored under the same checks as ticket attachments, sent as a
message by whoever uploaded them (or, from the widget, at once with the upload)."""
from flask import current_app
from flask_babel import gettext as _

from app.extensions import db
from app.models import ChatFile, ChatMessage, ConversationStatus
from app.services import ServiceError, clock, tickets, uploads
from app.services.chat.common import VISITOR, ConversationNotFound
from app.services.chat.messages import visitor_message


def store_file(conversation, filename, stream, agent=None):
    """A file for the conversation, under the same checks as ticket attachments; from the
    support's side, only from the conversation's agent."""
    if conversation.status not in ConversationStatus.OPEN:
        raise ServiceError(_("Cette conversation est terminée."))
    if agent is not None and conversation.agent_id != agent.id:
        raise ServiceError(_("Acceptez d'abord cette conversation."))
    root = current_app.config["UPLOAD_FOLDER"]
    try:
        stored = uploads.store_upload(root, filename, stream, max_bytes=current_app.config["MAX_ATTACHMENT_BYTES"])
    except uploads.UploadRefused as refused:
        raise ServiceError(refused.message, {"file": refused.reason})
    chat_file = ChatFile(conversation_id=conversation.id, created_on=clock.now(), **uploads.file_columns(stored))
    db.session.add(chat_file)
    db.session.flush()
    return chat_file


def file_of(conversation_id, file_id):
    chat_file = db.session.get(ChatFile, tickets.as_id(file_id)) if file_id else None
    if chat_file is None or chat_file.conversation_id != conversation_id:
        raise ConversationNotFound()
    return chat_file


def send_visitor_file(conversation, filename, stream, client_id):
    """The widget's upload with the id of the message it makes: the file stored and sent as
    the visitor's message at once, told to the console like one sent over the socket. The
    same id again (a retried upload, or the socket message that follows) is that message,
    stored once."""
    client_id = str(client_id)[:64]
    known = db.session.query(ChatMessage).filter_by(conversation_id=conversation.id, client_id=client_id).one_or_none()
    if known is not None:
        if known.author_kind != VISITOR or known.file is None:
            raise ConversationNotFound()  # not this visitor's file message: nothing to show
        return known.file, known
    chat_file = store_file(conversation, filename, stream)
    message, _created = visitor_message(conversation.id, conversation.visitor_label, "", client_id=client_id, file=chat_file)
    return chat_file, message
