"""Production serving (A2, A3, U7): gunicorn's gevent workers with gunicorn.conf.py, `/health`
reporting the database and Redis for the load balancer, and client addresses believed from
X-Forwarded-For only when the peer is a trusted proxy (TRUSTED_PROXIES). Real gunicorn, a real
Redis, real HTTP and Socket.IO clients."""
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import socketio

from app.models import ActivityLog
from app.proxies import TrustedProxyFix, parse_networks
from tests.conftest import _URLS
from tests.test_chat_scale_out import free_port, redis_url, sign_in, wait_for  # noqa: F401  (redis_url is a fixture)

ROOT = Path(__file__).resolve().parents[1]


def last_failed_login_address(db):
    db.session.expire_all()
    entry = db.session.query(ActivityLog).filter_by(action="login.failed").order_by(ActivityLog.id.desc()).first()
    return entry.ip_address


def wrong_password(client, **headers):
    client.post("/login/", data={"email": "agent1@novalead.com", "password": "not the password"}, headers=headers)


def test_forwarded_addresses_are_believed_only_from_trusted_proxies(app, demo, client):
    plain = app.wsgi_app
    try:
        # Nothing trusted (the default): a client cannot choose the address the log and limits see.
        wrong_password(client, **{"X-Forwarded-For": "203.0.113.9"})
        assert last_failed_login_address(demo) == "127.0.0.1"

        app.wsgi_app = TrustedProxyFix(plain, parse_networks("127.0.0.1, 10.0.0.0/8"))
        wrong_password(client, **{"X-Forwarded-For": "203.0.113.9"})
        assert last_failed_login_address(demo) == "203.0.113.9", "behind the trusted proxy, the client's own address"

        untrusted = app.test_client()
        untrusted.environ_base["REMOTE_ADDR"] = "198.51.100.7"
        wrong_password(untrusted, **{"X-Forwarded-For": "203.0.113.9"})
        assert last_failed_login_address(demo) == "198.51.100.7", "a peer that is not a proxy cannot forge it"
    finally:
        app.wsgi_app = plain


def test_a_bad_trusted_proxies_setting_is_said_at_start():
    with pytest.raises(ValueError, match="proxy.example"):
        parse_networks("127.0.0.1 proxy.example")


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)  # the serving layer, not the database, is under test
def test_gunicorn_gevent_workers_serve_pages_sockets_and_health(app, demo, redis_url, tmp_path):  # noqa: F811
    demo.session.commit()
    port = free_port()
    access_log = tmp_path / "access.log"
    env = dict(
        os.environ, DATABASE_URL=_URLS["sqlite"], REDIS_URL=redis_url, HOST="127.0.0.1", PORT=str(port), WEB_CONCURRENCY="2",
        SECRET_KEY="serving-test-key", TRUSTED_PROXIES="127.0.0.1", RATELIMIT_ENABLED="1",
        GUNICORN_ACCESS_LOG=str(access_log), GUNICORN_ACCESS_LOG_FORMAT="%(p)s %({REMOTE_PORT}e)s %(U)s",
    )
    for setting in ("WORKER_IN_PROCESS", "GUNICORN_REUSE_PORT", "GUNICORN_FAIR", "GUNICORN_WORKER_CLASS"):
        env.pop(setting, None)
    log = open(tmp_path / "gunicorn.log", "w")
    server = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-c", "gunicorn.conf.py"], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/health", seconds=180)  # each worker loads the application after the fork
        assert requests.get(f"{base}/health", timeout=5).json() == {"status": "ok", "database": "ok", "redis": "ok"}

        # Each worker listens on its own socket (SO_REUSEPORT): the kernel spreads new
        # connections over both, instead of the first to wake taking them all.
        already = len(access_log.read_text().splitlines())
        for _ in range(16):
            with requests.Session() as one_connection:
                assert one_connection.get(f"{base}/health?spread", timeout=10).status_code == 200
        served_by = {line.split()[0] for line in access_log.read_text().splitlines()[already:]}
        assert len(served_by) == 2, "16 connections, one worker answered them all"

        # Signing in on one worker and using the session on whichever answers next: the
        # workers share the secret key and the database.
        cookie = sign_in(base, demo, "agent1@novalead.com")
        for _ in range(6):
            page = requests.get(f"{base}/tickets/", headers={"Cookie": cookie}, timeout=10, allow_redirects=False)
            assert page.status_code == 200 and "/login" not in page.url

        # The agents' console over websocket through a gevent worker.
        console = socketio.Client()
        console.connect(base, namespaces=["/console"], headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=10)
        assert console.connected
        console.disconnect()

        # Behind the trusted proxy the log records the client's address, not the proxy's.
        browser = requests.Session()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', browser.get(f"{base}/login/", timeout=10).text).group(1)
        browser.post(f"{base}/login/", data={"email": "agent1@novalead.com", "password": "wrong", "csrf_token": token}, timeout=10,
                     headers={"X-Forwarded-For": "203.0.113.50"})
        assert last_failed_login_address(demo) == "203.0.113.50"

        # Redis gone: the node says so, and keeps serving (Redis is shared: failing every node's
        # health check for it would take the whole service down).
        redis_port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
        subprocess.run(["redis-cli", "-p", str(redis_port), "shutdown", "nosave"], capture_output=True, timeout=10)
        answer = requests.get(f"{base}/health", timeout=10)
        assert answer.status_code == 200 and answer.json() == {"status": "degraded", "database": "ok", "redis": "unavailable"}
        assert requests.get(f"{base}/login/", timeout=10).status_code == 200
    finally:
        server.send_signal(signal.SIGTERM)  # graceful stop: the workers finish and exit
        try:
            assert server.wait(30) == 0, (tmp_path / "gunicorn.log").read_text()[-3000:]
        finally:
            if server.poll() is None:
                server.kill()
            log.close()



def _pipelined(port, count):
    """One keep-alive connection sending `count` requests at once (what a client sending its
    next request the moment it reads an answer looks like to the server, only more so)."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=30)
    connection.sendall(b"GET /login/ HTTP/1.1\r\nHost: x\r\n\r\n" * count)
    return connection


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_busy_keep_alive_connection_does_not_starve_the_others(app, demo, tmp_path):
    """Inside one gevent worker, a request already waiting on a keep-alive connection is
    served after the requests other connections sent meanwhile, not before (issue 18: p99
    within 5x the p50 under keep-alive load)."""
    demo.session.commit()
    port = free_port()
    access_log = tmp_path / "access.log"
    env = dict(os.environ, DATABASE_URL=_URLS["sqlite"], HOST="127.0.0.1", PORT=str(port), WEB_CONCURRENCY="1",
               SECRET_KEY="serving-test-key", RATELIMIT_ENABLED="0",
               GUNICORN_ACCESS_LOG=str(access_log), GUNICORN_ACCESS_LOG_FORMAT="%({REMOTE_PORT}e)s %(U)s")
    for setting in ("WORKER_IN_PROCESS", "REDIS_URL", "GUNICORN_REUSE_PORT", "GUNICORN_FAIR", "GUNICORN_WORKER_CLASS"):
        env.pop(setting, None)
    log = open(tmp_path / "gunicorn.log", "w")
    server = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-c", "gunicorn.conf.py"], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(f"http://127.0.0.1:{port}/login/", seconds=180)
        other = socket.create_connection(("127.0.0.1", port), timeout=30)
        other.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"200 OK" in other.recv(65536)  # connected and served once: it waits only for its next request
        busy = _pipelined(port, 20)
        other_port, busy_port = str(other.getsockname()[1]), str(busy.getsockname()[1])

        def login_pages():
            return [line.split()[0] for line in access_log.read_text().splitlines() if line.endswith("/login/")]

        deadline = time.monotonic() + 60
        while busy_port not in login_pages():  # the busy connection's greenlet is at work
            assert time.monotonic() < deadline
            time.sleep(0.002)
        other.sendall(b"GET /login/ HTTP/1.1\r\nHost: x\r\n\r\n")
        while True:
            order = login_pages()
            if order.count(busy_port) == 20 and other_port in order:
                break
            assert time.monotonic() < deadline, order
            time.sleep(0.05)
        busy_before = order[:order.index(other_port)].count(busy_port)
        assert busy_before < 20, "the other connection waited until the busy one had nothing more to ask"
        assert busy_before <= 5, f"the other connection waited for {busy_before} requests of the busy one"
        other.close()
        busy.close()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        finally:
            if server.poll() is None:
                server.kill()
            log.close()
