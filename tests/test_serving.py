"""Production serving (A2, A3, U7): gunicorn's gevent workers with gunicorn.conf.py, `/health`
reporting the database and Redis for the load balancer, and client addresses believed from
X-Forwarded-For only when the peer is a trusted proxy (TRUSTED_PROXIES). Real gunicorn, a real
Redis, real HTTP and Socket.IO clients."""
import os
import re
import signal
import subprocess
import sys
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
    env = dict(
        os.environ, DATABASE_URL=_URLS["sqlite"], REDIS_URL=redis_url, HOST="127.0.0.1", PORT=str(port), WEB_CONCURRENCY="2",
        SECRET_KEY="serving-test-key", TRUSTED_PROXIES="127.0.0.1", RATELIMIT_ENABLED="1",
    )
    env.pop("WORKER_IN_PROCESS", None)
    log = open(tmp_path / "gunicorn.log", "w")
    server = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-c", "gunicorn.conf.py"], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/health")
        assert requests.get(f"{base}/health", timeout=5).json() == {"status": "ok", "database": "ok", "redis": "ok"}

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

