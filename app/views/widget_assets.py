"""The chat frame's scripts and styles under names that carry a hash of their content
(`/widget/assets/frame.<hash>.js`): a browser keeps them for a year and never asks again; a new
build gets new names, and the frame's page (never cached) points to them. Only the loader,
`/widget.js`, keeps a stable address with a short cache (app/views/chat.py): it is the one
in the partners' pages.

Each file is read, hashed and gzipped once per build (kept in memory, keyed by its mtime),
so a partner on a slow link downloads the compressed bytes and the server does not
recompress them on every request."""
import gzip
import hashlib
import os
import threading

from flask import Blueprint, abort, current_app, make_response, request, url_for

WIDGET_BUILD = "widget"  # app/static/widget/: built from widget/ (npm run build)
ASSETS = ("frame.js", "frame.css", "console.js")
IMMUTABLE = "public, max-age=31536000, immutable"
_TYPES = {"js": "application/javascript; charset=utf-8", "css": "text/css; charset=utf-8"}
_cache = {}
_lock = threading.Lock()

widget_assets = Blueprint("widget_assets", __name__)


def _asset(name):
    """(digest, raw bytes, gzipped bytes) of a built file, refreshed when the file changes."""
    path = os.path.join(current_app.static_folder, WIDGET_BUILD, name)
    mtime = os.stat(path).st_mtime_ns
    cached = _cache.get(path)
    if cached and cached[0] == mtime:
        return cached[1]
    with open(path, "rb") as handle:
        raw = handle.read()
    entry = (hashlib.sha256(raw).hexdigest()[:12], raw, gzip.compress(raw, 9, mtime=0))
    with _lock:
        _cache[path] = (mtime, entry)
    return entry


def widget_asset_url(name):
    """The hashed address of one of the widget's built files (templates: `widget_asset`)."""
    stem, ext = name.rsplit(".", 1)
    return url_for("widget_assets.asset", filename=f"{stem}.{_asset(name)[0]}.{ext}")


def french_spacing(text):
    """« Besoin d'aide ? » never leaves its « ? » alone at the start of a line."""
    text = str(text)
    for mark in "?!:;»":
        text = text.replace(" " + mark, "\u00a0" + mark)
    return text.replace("« ", "«\u00a0")


@widget_assets.route("/widget/assets/<filename>")
def asset(filename):
    parts = filename.split(".")
    if len(parts) != 3 or f"{parts[0]}.{parts[2]}" not in ASSETS:
        abort(404)
    digest, raw, packed = _asset(f"{parts[0]}.{parts[2]}")
    if parts[1] != digest:  # an old build: its name must never point to other content
        abort(404)
    gzipped = "gzip" in request.headers.get("Accept-Encoding", "").lower()
    response = make_response(packed if gzipped else raw)
    response.headers["Content-Type"] = _TYPES[parts[2]]
    response.headers["Cache-Control"] = IMMUTABLE
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    response.set_etag(digest + (":gzip" if gzipped else ""))
    return response.make_conditional(request)


def install_widget_assets(app):
    app.register_blueprint(widget_assets)
    app.jinja_env.globals["widget_asset"] = widget_asset_url
    app.jinja_env.filters["french_spacing"] = french_spacing
