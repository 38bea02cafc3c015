"""Serve NovaDesk with gevent: `python run.py` (HOST and PORT override 127.0.0.1:5000).

WEB_PROCESSES=N serves from N processes sharing one listening socket (one per core suits the
embedded SQLite in WAL mode); the background worker runs in the first process only.
"""
from gevent import monkey

monkey.patch_all()  # first, before anything opens a socket or a thread

import gc  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402

from gevent.pywsgi import WSGIHandler, WSGIServer  # noqa: E402

if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql")):
    from psycogreen.gevent import patch_psycopg  # noqa: E402

    patch_psycopg()  # PostgreSQL queries yield to other greenlets instead of blocking them

from app import create_app  # noqa: E402


class NoDelayHandler(WSGIHandler):
    """pywsgi writes a response's headers and body separately; with Nagle's algorithm on,
    a keep-alive client then waits for its delayed ACK (about 40 ms) on every request."""

    def __init__(self, sock, address, server, rfile=None):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().__init__(sock, address, server, rfile)


def listen(host, port):
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(1024)
    return listener


def serve(listener, first):
    app = create_app({"START_WORKER": first})
    # Everything built at start-up lives as long as the process: keep it out of the garbage
    # collector's full passes, which otherwise walk it again and again (tail latency).
    gc.collect()
    gc.freeze()
    WSGIServer(listener, app, log=None, handler_class=NoDelayHandler).serve_forever()


def main():
    from config import Config

    host, port = Config.HOST, Config.PORT  # the same address links in mail fall back to
    processes = max(1, int(os.environ.get("WEB_PROCESSES", "1")))
    listener = listen(host, port)
    children = []
    for _ in range(processes - 1):
        pid = os.fork()
        if pid == 0:
            serve(listener, first=False)
            os._exit(0)
        children.append(pid)

    def stop(signum, frame):
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"NovaDesk: http://{host}:{port}/ ({processes} process{'es' if processes > 1 else ''})", flush=True)
    serve(listener, first=True)


if __name__ == "__main__":
    main()
