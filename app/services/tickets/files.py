"""A ticket's files: checked and stored before anything is written, attached to a message."""
from flask import current_app

from app.extensions import db
from app.models import Attachment
from app.services import ServiceError, clock, uploads
from app.services.tickets.common import record_event


def store_files(files):
    """Validate every file before anything is written; one refusal refuses the submission."""
    if not files:
        return []
    root = current_app.config["UPLOAD_FOLDER"]
    limit = current_app.config["MAX_ATTACHMENT_BYTES"]
    stored = []
    try:
        for filename, stream in files:
            stored.append(uploads.store_upload(root, filename, stream, max_bytes=limit))
    except uploads.UploadRefused as refused:
        for done in stored:  # nothing of a refused submission stays on disk
            uploads.delete_stored(root, done.storage_key)
            if done.preview_key:
                uploads.delete_stored(root, done.preview_key)
        raise ServiceError(refused.message, {"attachments": refused.reason})
    return stored


def store_acceptable_files(files):
    """Mail attachments: keep each file that passes the checks, list the others (a refused file
    never loses the message; the raw mail keeps it)."""
    root = current_app.config["UPLOAD_FOLDER"]
    limit = current_app.config["MAX_ATTACHMENT_BYTES"]
    stored, refused = [], []
    for filename, stream in files or ():
        try:
            stored.append(uploads.store_upload(root, filename, stream, max_bytes=limit))
        except uploads.UploadRefused as refusal:
            refused.append(f"{filename} ({refusal.message})")
    return stored, refused


def record_refused_files(ticket, refused):
    for description in refused:
        record_event(ticket, None, "attachment_refused", new=description, internal=True)


def attach(ticket, message, stored_files, at=None):
    for stored in stored_files:
        db.session.add(
            Attachment(ticket_id=ticket.id, message=message, created_on=at or clock.now(), **uploads.file_columns(stored))
        )
