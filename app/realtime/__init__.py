"""Socket.IO for live chat: the widget's namespace (`/widget`) and the agents' console
(`/console`). Handlers are thin: they check who is speaking, call app/services/chat/, and
commit; what the service published is sent by `emit_event` after the commit — a message
reaches nobody before it is stored (C6).

Rooms (named in app/security/scopes.py): `conv:<id>` holds a conversation's widget(s), its agent and those watching it;
`console:staff` every support console; `console:org:<id>` the consoles of the commercials of
that organisation. With REDIS_URL set, several processes share rooms through Redis.
"""
from flask import current_app
from flask_socketio import SocketIO


def socketio():
    """The application's Socket.IO server (one per application: the tests run two)."""
    return current_app.extensions["socketio"]


def _async_mode():
    """gevent when the server patched the standard library (run.py, gunicorn -k gevent),
    threads otherwise (the tests' in-thread server, the `flask` CLI)."""
    try:
        from gevent import monkey

        if monkey.is_module_patched("socket"):
            return "gevent"
    except ImportError:
        pass
    return "threading"


def init_realtime(app):
    from app.realtime.console import ConsoleNamespace
    from app.realtime.desk import DeskNamespace
    from app.realtime.widget import WidgetNamespace
    from app.security.scopes import DESK_NAMESPACE

    server = SocketIO()
    server.on_namespace(WidgetNamespace("/widget"))
    server.on_namespace(ConsoleNamespace("/console"))
    server.on_namespace(DeskNamespace(DESK_NAMESPACE))
    server.init_app(
        app,
        async_mode=_async_mode(),
        message_queue=app.config.get("REDIS_URL") or None,
        # The widget talks from its frame, served by NovaDesk: same origin only. Partners'
        # origins are checked by the frame's `frame-ancestors` and by the widget namespace.
        cors_allowed_origins=None,
        max_http_buffer_size=app.config["CHAT_MAX_EVENT_BYTES"],
        manage_session=False,  # the cookie session is read per event: nothing kept per socket
        ping_interval=25,
        ping_timeout=20,
    )
    _placeholder_route(app)


def _placeholder_route(app):
    """Flask-SocketIO builds a request context for `/socket.io/` on every event; with no
    matching route, Flask keeps a routing exception and its traceback each time (cyclic
    garbage that drives the tail latency under load). A route that matches avoids it; the
    Socket.IO server answers these requests before Flask sees them."""

    def placeholder():
        return "", 404

    app.add_url_rule("/socket.io/", endpoint="socketio_placeholder", view_func=placeholder, methods=["GET", "POST"])
    app.add_url_rule("/socket.io/", endpoint="socketio_placeholder_ws", view_func=placeholder, websocket=True)


def emit_event(event):
    """Event sink: a committed event meant for browsers goes to its rooms (from scopes.py)."""
    if event.client_event is None or not event.rooms:
        return
    server = socketio()
    for namespace, room in event.rooms:
        server.emit(event.client_event, event.payload, to=room, namespace=namespace, skip_sid=event.skip_sid)
