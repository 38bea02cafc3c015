"""Stored files (ticket attachments, chat files, knowledge-base files) sent back the same way
from every path: their stored type once (with its charset, said once), never run as a page."""
from flask import current_app, send_file

from app.services import uploads


def send_stored_file(item, as_attachment):
    stream = uploads.open_stored(current_app.config["UPLOAD_FOLDER"], item.storage_key)
    # send_file would add "; charset=utf-8" to a text type that already says its charset.
    response = send_file(stream, mimetype=item.content_type.split(";")[0].strip(), as_attachment=as_attachment, download_name=item.filename, max_age=0)
    response.headers["Content-Type"] = item.content_type
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
