"""Compressed responses (Flask-Compress): partners on slow mobile links download pages,
JSON, scripts and styles gzipped (brotli or zstd where the browser offers them).

One exception, against BREACH-style attacks (guessing a secret from the compressed size of
pages that also reflect what an attacker sends): a page that carries a signed-in user's
CSRF token travels uncompressed. Public pages (the help centre read anonymously, the chat
frame), static files and JSON are compressed."""
from flask import g
from flask_login import current_user

from app.extensions import compress


def install_compression(app):
    app.config["COMPRESS_REGISTER"] = False  # called below, after the check
    compress.init_app(app)

    @app.after_request
    def _compress(response):
        secret_inside = "csrf_token" in g and response.mimetype == "text/html" and current_user.is_authenticated
        if secret_inside:
            response.vary.add("Accept-Encoding")
            return response
        return compress.after_request(response)
