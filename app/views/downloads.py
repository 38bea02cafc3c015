"""Stored files sent back; the helper lives in app/web/downloads.py, shared with the API."""
from app.web.downloads import send_stored_file  # noqa: F401
