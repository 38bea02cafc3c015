"""The address NovaDesk is reached at, for links that leave the browser (mail above all).

One rule, wherever the link is built — a request, the worker, `flask mail ingest`, the demo
loader: PUBLIC_URL when it is set; else SERVER_NAME when Flask was given one; else the
address the server listens on (HOST and PORT, as `run.py` serves). A request's own Host
header is never used: a forged one would otherwise put a stranger's address in a
password-reset mail.
"""
import socket
from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for

_ANY_ADDRESS = {"", "0.0.0.0", "::", "[::]"}


def base_url(app=None):
    """`https://support.example` (no trailing slash), possibly with a path prefix."""
    config = (app or current_app).config
    public = (config.get("PUBLIC_URL") or "").strip()
    if public:
        return public.rstrip("/")
    scheme = config.get("PREFERRED_URL_SCHEME") or "http"
    if config.get("SERVER_NAME"):
        return f"{scheme}://{config['SERVER_NAME']}{(config.get('APPLICATION_ROOT') or '/').rstrip('/')}"
    host = str(config.get("HOST") or "127.0.0.1").strip()
    if host in _ANY_ADDRESS:  # listening everywhere: name the machine, not "0.0.0.0"
        host = socket.getfqdn()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    port = int(config.get("PORT") or 5000)
    default_port = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" + ("" if port == default_port else f":{port}")


def external_url(endpoint, **values):
    """An absolute link to `endpoint` on the public address, built the same way in a
    request, in the worker and on the command line."""
    app = current_app._get_current_object()
    parts = urlsplit(base_url(app))
    adapter = app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "http")
    app.inject_url_defaults(endpoint, values)
    return adapter.build(endpoint, values, force_external=True)


def origin(app=None):
    """The public address's origin (scheme://host[:port]), e.g. for allowed web origins."""
    parts = urlsplit(base_url(app))
    return f"{parts.scheme}://{parts.netloc}"


def path_for(endpoint, **values):
    """A link inside NovaDesk's own pages (a path, no host), for payloads read by its pages
    and frames: in a request as `url_for` builds it, elsewhere (the worker, the command line)
    under the public address's path."""
    if has_request_context():
        return url_for(endpoint, **values)
    app = current_app._get_current_object()
    adapter = app.url_map.bind("localhost", script_name=urlsplit(base_url(app)).path or "/")
    app.inject_url_defaults(endpoint, values)
    return adapter.build(endpoint, values)
