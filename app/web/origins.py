"""Where a request comes from, as the browser tells it, and where NovaDesk itself is served:
shared by the widget's socket and the chat's HTTP routes."""
from urllib.parse import urlsplit

from flask import request


def own_origin():
    return request.host_url


def page_origin():
    """The origin of the page behind a request, as the browser tells it: the `Origin` header,
    else the origin of the `Referer` (a same-origin GET, such as Socket.IO's first long-polling
    request, carries no Origin). Never what the page's scripts say about themselves."""
    origin = request.headers.get("Origin")
    if origin is not None:  # an opaque origin ("null": a sandboxed page, a file) is no origin
        origin = origin.strip()
        return origin.rstrip("/").lower() if origin and origin != "null" else None
    referer = request.headers.get("Referer", "")
    parts = urlsplit(referer) if referer else None
    if parts and parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc.lower()}"
    return None
