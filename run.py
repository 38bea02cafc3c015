"""Serve NovaDesk with gevent: `python run.py` (HOST and PORT override 127.0.0.1:5000).

The embedded default: one process, the background worker inside it. Several processes, or
several machines, are gunicorn's job (`gunicorn -c gunicorn.conf.py`, README "Serving in
production").
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


def main():
    from config import Config

    host, port = Config.HOST, Config.PORT  # the same address links in mail fall back to
    app = create_app({"START_WORKER": True})
    # Everything built at start-up lives as long as the process: keep it out of the garbage
    # collector's full passes, which otherwise walk it again and again (tail latency).
    gc.collect()
    gc.freeze()
    server = WSGIServer((host, port), app, log=None, handler_class=NoDelayHandler, backlog=1024)
    signal.signal(signal.SIGTERM, lambda signum, frame: server.stop(timeout=5))
    print(f"NovaDesk: http://{host}:{port}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
