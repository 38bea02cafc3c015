"""Files in a conversation: stored under the same checks as ticket attachments, sent as a
message by whoever uploaded them."""
from flask import current_app
from flask_babel import gettext as _

from app.extensions import db
from app.models import ChatFile, ConversationStatus
from app.services import ServiceError, clock, tickets, uploads
from app.services.chat.common import ConversationNotFound


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
