"""Production serving: `gunicorn -c gunicorn.conf.py` (the application is named below).

gevent workers hold the live chat's many idle sockets cheaply; every setting comes from the
environment (README, "Serving in production"). The background worker is a separate process
(`flask novadesk worker`), not a thread inside each serving process.
"""
from gevent import monkey

monkey.patch_all()  # first, before anything opens a socket or a thread

import gc  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402

if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql")):
    from psycogreen.gevent import patch_psycopg  # noqa: E402

    patch_psycopg()  # PostgreSQL queries yield to other greenlets instead of blocking them

# Serving processes run no background worker unless told so: several of them would poll the
# same mailboxes and outbox for nothing.
os.environ.setdefault("WORKER_IN_PROCESS", "0")

wsgi_app = "app:create_app()"
bind = [os.environ.get("BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"]
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gevent")
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count())
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "4000"))  # chat sockets per process
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))  # a stuck worker is replaced
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))  # time to finish requests on stop
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
backlog = 2048
reuse_port = os.environ.get("GUNICORN_REUSE_PORT", "1").lower() in {"1", "true", "yes", "on"}
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
if os.environ.get("GUNICORN_ACCESS_LOG_FORMAT"):
    access_log_format = os.environ["GUNICORN_ACCESS_LOG_FORMAT"]
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = "novadesk"
# gunicorn's control socket sits at one fixed path per user: two nodes on one machine would
# fight over it. Signals (HUP, TERM, TTIN/TTOU) do the same work.
control_socket_disable = True
# Loading the application once in the master saves start-up time and memory, but every
# process must then open its own database connections (post_fork below).
preload_app = os.environ.get("GUNICORN_PRELOAD", "0").lower() in {"1", "true", "yes", "on"}


def post_fork(server, worker):
    """Connections the master opened while loading the application are sockets shared with
    every child: each child drops them (without closing the parent's) and opens its own."""
    if not preload_app:
        return
    from app.extensions import db

    with server.app.wsgi().app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


def post_worker_init(worker):
    # Everything built at start-up lives as long as the process: keep it out of the garbage
    # collector's full passes, which otherwise walk it again and again (tail latency).
    gc.collect()
    gc.freeze()


if os.environ.get("GUNICORN_FAIR", "1").lower() in {"1", "true", "yes", "on"}:

    def pre_request(worker, req):
        """A keep-alive client that sends its next request as soon as it reads the answer
        finds its greenlet still running (Flask's teardown, the access log): the request is
        already waiting in the socket, reading it does not block, and the greenlet would go on
        serving the same connection while the others wait their turn. Yield to the event loop
        first: a sleep of 0 would only let greenlets already runnable go, and could resume this
        one before the loop looks at the other connections; any positive sleep waits for the
        loop's next turn, where every connection that became readable is served too."""
        import gevent

        gevent.sleep(0.000001)
