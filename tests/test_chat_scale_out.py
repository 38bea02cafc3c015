"""Scaled out (C6, ARCHITECTURE "Real-time"): two NovaDesk processes share Socket.IO through
Redis; a widget connected to one and an agent's console to the other talk normally. Real
servers (run.py on gevent), a real Redis, real Socket.IO clients over websocket."""
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
import socketio

from app.models import ChatChannel, ChatMessage, OutboxMail
from app.services import chat
from app.views.chat import DEMO_CHANNEL_KEY
from tests.conftest import _URLS, DEMO_PASSWORD, require_or_skip

ROOT = Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")


@pytest.fixture
def redis_url(tmp_path):
    server = shutil.which("redis-server")
    if not server:
        require_or_skip("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen([server, "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(10)


def serve(database_url, redis_url, port, log, **settings):
    env = dict(
        os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url, PORT=str(port), HOST="127.0.0.1",
        WORKER_IN_PROCESS="0", CHAT_BUSINESS_HOURS_ONLY="0", SECRET_KEY="scale-out-test-key", RATELIMIT_ENABLED="0", DEMO_MODE="1", PUBLIC_URL="",
        **settings,
    )
    return subprocess.Popen([sys.executable, "run.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def sign_in(base, db, email):
    """A browser-like sign-in on one process: the session cookie for the console."""
    session = requests.Session()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', session.get(f"{base}/login/").text).group(1)
    response = session.post(f"{base}/login/", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": token}, allow_redirects=False)
    if response.headers.get("Location", "").endswith("/login/verify"):
        db.session.expire_all()
        mail = db.session.query(OutboxMail).filter_by(recipient=email).order_by(OutboxMail.id.desc()).first()
        code = re.search(r"\b(\d{6})\b", mail.subject).group(1)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', session.get(f"{base}/login/verify").text).group(1)
        response = session.post(f"{base}/login/verify", data={"code": code, "csrf_token": token}, allow_redirects=False)
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    return "; ".join(f"{k}={v}" for k, v in session.cookies.items())


def collector(client, namespace, names):
    got = {name: [] for name in names}
    for name in names:
        client.on(name, lambda data, name=name: got[name].append(data), namespace=namespace)
    return got


def eventually(check, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)  # one database is enough to prove the Redis hop
def test_a_widget_on_one_process_and_an_agent_on_another_talk_through_redis(app, demo, redis_url, tmp_path):
    channel = demo.session.query(ChatChannel).filter_by(public_key=DEMO_CHANNEL_KEY).one()
    secret, key = channel.secret, channel.public_key
    demo.session.commit()
    ports = free_port(), free_port()
    logs = [open(tmp_path / f"server-{n}.log", "w") for n in (1, 2)]
    servers = [serve(_URLS["sqlite"], redis_url, port, log) for port, log in zip(ports, logs)]
    widget_side, agent_side = (f"http://127.0.0.1:{port}" for port in ports)
    try:
        for base in (widget_side, agent_side):
            wait_for(f"{base}/health")
        agent = socketio.Client()
        heard = collector(agent, "/console", ["conversation", "message", "typing"])
        agent.connect(agent_side, namespaces=["/console"], headers={"Cookie": sign_in(agent_side, demo, "agent1@novalead.com")}, transports=["websocket"])

        expires = int(time.time()) + 600
        identity = {"id": "ERP-U-1", "name": "Ibrahima Fall", "email": "client@credit-solidaire.sn", "expires": expires,
                    "signature": chat.sign_identity(secret, "ERP-U-1", "client@credit-solidaire.sn", expires, "Ibrahima Fall")}
        visitor = socketio.Client()
        seen = collector(visitor, "/widget", ["hello", "message", "state"])
        visitor.connect(widget_side, namespaces=["/widget"], transports=["websocket"],  # websocket-client sends its Origin
                        auth={"channel": key, "host": "http://127.0.0.1:5000", "identity": identity, "lang": "fr"})
        assert eventually(lambda: seen["hello"]) and seen["hello"][0]["available"], "the agent on the other process counts as online"

        started = visitor.call("start", {"question": "Bonjour depuis le processus 1"}, namespace="/widget", timeout=10)
        cid = started["conversation"]["id"]
        assert eventually(lambda: any(c["id"] == cid for c in heard["conversation"])), "the new conversation crossed to process 2"
        assert agent.call("accept", {"conversation_id": cid}, namespace="/console", timeout=10)["ok"]
        assert eventually(lambda: any(s["status"] == "active" for s in seen["state"]))

        visitor.call("message", {"body": "Message du widget", "client_id": "w1"}, namespace="/widget", timeout=10)
        assert eventually(lambda: any(m["body"] == "Message du widget" for m in heard["message"]))
        visitor.emit("typing", {"on": True}, namespace="/widget")
        assert eventually(lambda: heard["typing"])
        agent.call("message", {"conversation_id": cid, "body": "Réponse de l'agent", "client_id": "a1"}, namespace="/console", timeout=10)
        assert eventually(lambda: any(m["body"] == "Réponse de l'agent" for m in seen["message"]))
        # each message arrived once, in order, on each side
        widget_seqs = [m["seq"] for m in seen["message"]]
        assert widget_seqs == sorted(set(widget_seqs))
        visitor.disconnect()
        agent.disconnect()
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(15)
        for log in logs:
            log.close()


class SlowLink:
    """A TCP relay in front of Redis whose traffic can be held (`hold()`) and let go
    (`release()`): Redis far away, or busy, as a node sees it."""

    def __init__(self, target_port):
        self.target_port, self.open = target_port, threading.Event()
        self.open.set()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                near, _address = self.listener.accept()
            except OSError:
                return
            far = socket.create_connection(("127.0.0.1", self.target_port))
            self.sockets += [near, far]
            for source, sink in ((near, far), (far, near)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source, sink):
        while True:
            try:
                data = source.recv(65536)
                if not data:
                    break
                self.open.wait()
                sink.sendall(data)
            except OSError:
                break
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def hold(self):
        self.open.clear()

    def release(self):
        self.open.set()

    def close(self):
        self.release()
        self.listener.close()
        for end in self.sockets:
            end.close()


def widget_on(base, key, secret, external_id, name, email):
    expires = int(time.time()) + 600
    identity = {"id": external_id, "name": name, "email": email, "expires": expires, "signature": chat.sign_identity(secret, external_id, email, expires, name)}
    client = socketio.Client()
    seen = collector(client, "/widget", ["hello", "message", "state"])
    client.connect(base, namespaces=["/widget"], transports=["websocket"], auth={"channel": key, "host": "http://127.0.0.1:5000", "identity": identity, "lang": "fr"})
    assert eventually(lambda: seen["hello"]) and seen["hello"][0]["available"]
    return client, seen


@pytest.mark.parametrize("app", ["postgresql"], indirect=True)  # the scaled-out database: connections come from a pool
def test_a_slow_redis_does_not_keep_the_next_message_from_being_stored(app, demo, redis_url, tmp_path):
    """A node stores a message, commits, then sends it on through Redis. While Redis is slow to
    answer, the node's database connection must already be back in the pool: the next visitor's
    message is stored meanwhile, not kept waiting (then refused) for a connection held by a
    broadcast. One pooled connection per node makes the wait certain if the broadcast holds it."""
    channel = demo.session.query(ChatChannel).filter_by(public_key=DEMO_CHANNEL_KEY).one()
    secret, key = channel.secret, channel.public_key
    demo.session.commit()
    link = SlowLink(int(redis_url.rsplit(":", 1)[1].split("/")[0]))
    linked_redis = f"redis://127.0.0.1:{link.port}/0"
    ports = free_port(), free_port()
    logs = [open(tmp_path / f"server-{n}.log", "w") for n in (1, 2)]
    pool = {"DATABASE_POOL_SIZE": "1", "DATABASE_MAX_OVERFLOW": "0", "DATABASE_POOL_TIMEOUT": "5"}
    servers = [serve(_URLS["postgresql"], linked_redis, port, log, **pool) for port, log in zip(ports, logs)]
    widget_side, agent_side = (f"http://127.0.0.1:{port}" for port in ports)
    clients = []
    try:
        for base in (widget_side, agent_side):
            wait_for(f"{base}/health")
        agent = socketio.Client()
        clients.append(agent)
        heard = collector(agent, "/console", ["conversation", "message"])
        agent.connect(agent_side, namespaces=["/console"], headers={"Cookie": sign_in(agent_side, demo, "agent1@novalead.com")}, transports=["websocket"])
        visitors = []
        for n, (name, email) in enumerate((("Ibrahima Fall", "client@credit-solidaire.sn"), ("Awa Diop", "awa.diop@credit-solidaire.sn"))):
            visitor, seen = widget_on(widget_side, key, secret, f"ERP-U-{n + 1}", name, email)
            clients.append(visitor)
            started = visitor.call("start", {"question": f"Bonjour, ici {name}"}, namespace="/widget", timeout=10)
            cid = started["conversation"]["id"]
            assert eventually(lambda: any(c["id"] == cid for c in heard["conversation"]))
            assert agent.call("accept", {"conversation_id": cid}, namespace="/console", timeout=10)["ok"]
            assert eventually(lambda: any(s["status"] == "active" for s in seen["state"]))
            visitors.append((visitor, cid))

        def stored(body):
            demo.session.expire_all()
            demo.session.commit()
            return demo.session.query(ChatMessage).filter_by(body=body).count() == 1

        link.hold()  # Redis stops answering the nodes
        (first, first_cid), (second, second_cid) = visitors
        first.emit("message", {"body": "Premier message, Redis lent", "client_id": "slow-1"}, namespace="/widget")
        assert eventually(lambda: stored("Premier message, Redis lent"))
        second.emit("message", {"body": "Second message, Redis lent", "client_id": "slow-2"}, namespace="/widget")
        assert eventually(lambda: stored("Second message, Redis lent"), seconds=15), (
            "the second visitor's message waited for a database connection held by the first one's broadcast"
        )
        link.release()
        # Once Redis answers again, both reach the agent on the other node, once each.
        assert eventually(lambda: {m["body"] for m in heard["message"]} >= {"Premier message, Redis lent", "Second message, Redis lent"}, seconds=15)
        bodies = [m["body"] for m in heard["message"] if m["body"].endswith("Redis lent")]
        assert sorted(bodies) == ["Premier message, Redis lent", "Second message, Redis lent"]
        assert {m["conversation_id"] for m in heard["message"] if m["body"].endswith("Redis lent")} == {first_cid, second_cid}
    finally:
        link.close()
        for client in clients:
            client.disconnect()
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(15)
        for log in logs:
            log.close()
