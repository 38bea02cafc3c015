"""The reference deployment under load and faults (A2, A3, C6): `deploy/cluster.sh` starts
PostgreSQL, Redis, two gunicorn nodes, two workers and HAProxy as real processes; a mixed load
runs through HAProxy — partners filing tickets through the API and the web, agents listing
and answering, mail piped in, 200 widget chats answered by two agents' consoles — while one
application node is killed (-9), then one worker, then Redis is restarted. Afterwards nothing
committed is lost or duplicated: tickets, replies, piped mail, chat messages, outgoing mail
(each received once by a real SMTP server); chats reconnect to the surviving node and receive
what they missed; the survivors keep serving.

Needs the Debian packages postgresql, redis-server and haproxy (installed by `.ci/run`)."""
import asyncio
import os
import queue
import random
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path

import pytest
import requests
import socketio
from aiosmtpd.controller import Controller

from tests.conftest import DEMO_PASSWORD, require_or_skip
from tests.test_chat_scale_out import free_port

ROOT = Path(__file__).resolve().parents[1]
PARTNER_ORIGIN = "https://logiciel.partenaire.test"
CHATS = 200
LOAD_SECONDS = 45
NODE_KILL_AT, WORKER_KILL_AT, REDIS_RESTART_AT = 12, 22, 32


class Inbox:
    """The SMTP relay: every message NovaDesk hands over, by Message-ID."""

    def __init__(self):
        self.message_ids = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message_id = message_from_bytes(envelope.content).get("Message-ID", "").strip()
        with self.lock:
            self.message_ids.extend([message_id] * len(envelope.rcpt_tos))
        return "250 OK"


def established_to(port):
    """Connections established to a local port (from /proc, no extra tool needed)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                count += 1
    return count


def kill_tree(pid):
    """kill -9 a process and its children (a gunicorn node is a master and its workers)."""
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    for target in [pid, *map(int, children)]:
        try:
            os.kill(target, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def cluster():
    for program, package in (("redis-server", "redis-server"), ("haproxy", "haproxy"), ("pg_ctlcluster", "postgresql")):
        if not shutil.which(program):
            require_or_skip(f"the cluster test needs {program} (apt-get install {package})")
    # Not under pytest's private folder: PostgreSQL runs as its own user and must reach its data.
    directory = Path(tempfile.mkdtemp(prefix="novadesk-cluster-"))
    directory.chmod(0o755)
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    ports = {name: free_port() for name in ("lb", "node1", "node2", "pg", "redis")}
    env = dict(
        os.environ, CLUSTER_DIR=str(directory), CLUSTER_PORT=str(ports["lb"]), CLUSTER_NODE_PORTS=f"{ports['node1']} {ports['node2']}",
        CLUSTER_PG_PORT=str(ports["pg"]), CLUSTER_REDIS_PORT=str(ports["redis"]), CLUSTER_WORKERS="2", CLUSTER_DEMO="1",
        MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp.port), WORKER_INTERVAL_SECONDS="1", CHAT_BUSINESS_HOURS_ONLY="0",
        CHAT_STARTS_PER_HOUR="10000 per hour", CHAT_MESSAGES_PER_MINUTE="600", AUTH_RATE_LIMIT="10000 per minute",
        DEMO_MODE="1", DEMO_PASSWORD=DEMO_PASSWORD,
    )
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "NOVADESK_INSTANCE", "PUBLIC_URL", "WORKER_IN_PROCESS"):
        env.pop(name, None)
    started = subprocess.run([str(ROOT / "deploy" / "cluster.sh"), "start"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    try:
        assert started.returncode == 0, started.stdout[-2000:] + started.stderr[-2000:]
        from app import create_app
        from config import normalise_database_url

        database_url = normalise_database_url(f"postgresql://novadesk@127.0.0.1:{ports['pg']}/novadesk")
        app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "FAB_UPDATE_PERMS": False, "WORKER_IN_PROCESS": False,
                          "RATELIMIT_ENABLED": False, "INSTANCE_DIR": str(directory / "instance"), "MAIL_FLOOD_PER_HOUR": 100000,
                          "SECRET_KEY": (directory / "secret_key").read_text().strip()})  # API keys are looked up by an HMAC of it
        yield {"dir": directory, "ports": ports, "base": f"http://127.0.0.1:{ports['lb']}", "app": app, "inbox": inbox, "env": env}
    finally:
        subprocess.run([str(ROOT / "deploy" / "cluster.sh"), "stop"], cwd=ROOT, env=env, capture_output=True, timeout=120)
        smtp.stop()
        shutil.rmtree(directory, ignore_errors=True)


def _csrf(page):
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def sign_in(cluster, email):
    """A browser-like session through HAProxy, reading the code mailed for this sign-in from
    the database."""
    from app.extensions import db
    from app.models import OutboxMail

    def latest_code_mail():
        with cluster["app"].app_context():
            mail = db.session.query(OutboxMail).filter_by(recipient=email, kind="two_factor_code").order_by(OutboxMail.id.desc()).first()
            return (mail.id, mail.subject) if mail else (0, "")

    before, _ = latest_code_mail()
    base, browser = cluster["base"], requests.Session()
    response = browser.post(f"{base}/login/", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": _csrf(browser.get(f"{base}/login/").text)},
                            allow_redirects=False)
    if response.headers.get("Location", "").endswith("/login/verify"):
        deadline = time.time() + 20
        while (latest := latest_code_mail())[0] <= before and time.time() < deadline:
            time.sleep(0.2)
        code = re.search(r"\b(\d{6})\b", latest[1])
        assert code, f"no code for {email}: {latest}"
        response = browser.post(f"{base}/login/verify", data={"code": code.group(1), "csrf_token": _csrf(browser.get(f"{base}/login/verify").text)},
                                allow_redirects=False)
    assert response.status_code == 302 and "/login" not in response.headers["Location"], f"{email}: {response.status_code} {response.text[-500:]}"
    return browser


def prepare(cluster):
    """A widget channel on the partner's origin, agents who take many chats, an API key."""
    import secrets

    from app.extensions import db
    from app.models import ChatChannel, NovaUser, Organisation
    from app.services import api_keys

    with cluster["app"].app_context(), cluster["app"].test_request_context():
        organisation = db.session.query(Organisation).filter_by(name="Crédit Solidaire du Sahel").one()
        channel = ChatChannel(name="Charge", organisation_id=organisation.id, public_key=f"ndc_{secrets.token_hex(8)}", secret=secrets.token_hex(32),
                              allowed_origins=PARTNER_ORIGIN, allow_anonymous=True)
        db.session.add(channel)
        for email in ("agent1@novalead.com", "agent2@novalead.com"):
            agent = db.session.query(NovaUser).filter_by(email=email).one()
            agent.chat_limit, agent.chat_available = CHATS, True
        _, key = api_keys.issue_api_key(None, "client@credit-solidaire.sn", "charge")
        db.session.commit()
        return channel.public_key, key["key"]


class Load:
    """What each side was told was done; compared with the database afterwards."""

    def __init__(self):
        self.lock = threading.Lock()
        self.api_created, self.api_attempted, self.api_errors_late = set(), set(), []
        self.web_created, self.web_attempted = set(), set()
        self.replies_done, self.replies_attempted = set(), set()
        self.mail_ids = set()
        self.ticket_ids = []
        self.stop = threading.Event()
        self.node_killed_at = None

    def note(self, attribute, value):
        with self.lock:
            getattr(self, attribute).add(value)


def api_filer(cluster, key, load):
    session = requests.Session()
    while not load.stop.is_set():
        title = f"Charge API {uuid.uuid4().hex[:12]}"
        load.note("api_attempted", title)
        try:
            response = session.post(f"{cluster['base']}/api/v1/ticket/", json={"title": title, "body": "Demande déposée par l'API."},
                                    headers={"Authorization": f"Bearer {key}"}, timeout=15)
        except requests.RequestException as error:
            response = error
        if getattr(response, "status_code", None) == 201:
            load.note("api_created", title)
            with load.lock:
                load.ticket_ids.append(response.json()["id"])
        elif load.node_killed_at and time.time() > load.node_killed_at + 8:
            load.api_errors_late.append(repr(response)[:200])  # the survivors must be serving by now
        time.sleep(0.2)


def web_filer(cluster, browser, load):
    while not load.stop.is_set():
        title = f"Charge web {uuid.uuid4().hex[:12]}"
        try:
            token = _csrf(browser.get(f"{cluster['base']}/tickets/new", timeout=15).text)
            load.note("web_attempted", title)
            response = browser.post(f"{cluster['base']}/tickets/new", data={"title": title, "body": "Demande déposée sur le portail.", "csrf_token": token},
                                    allow_redirects=False, timeout=15)
            if response.status_code == 302 and re.search(r"/tickets/\d+$", response.headers.get("Location", "")):
                load.note("web_created", title)
        except (requests.RequestException, AttributeError):
            pass
        time.sleep(0.5)


def agent_at_desk(cluster, browser, load):
    while not load.stop.is_set():
        try:
            page = browser.get(f"{cluster['base']}/tickets/", timeout=15)
            with load.lock:
                ticket_id = random.choice(load.ticket_ids) if load.ticket_ids else None
            if ticket_id and page.status_code == 200:
                token = _csrf(browser.get(f"{cluster['base']}/tickets/{ticket_id}", timeout=15).text)
                body = f"Réponse {uuid.uuid4().hex[:12]}"
                load.note("replies_attempted", body)
                response = browser.post(f"{cluster['base']}/tickets/{ticket_id}/reply", data={"body": body, "csrf_token": token},
                                        allow_redirects=False, timeout=15)
                if response.status_code == 302:
                    load.note("replies_done", body)
        except (requests.RequestException, AttributeError):
            pass
        time.sleep(0.3)


def mail_piper(cluster, load):
    """Mail delivered by a mail server's pipe: the same function `flask mail ingest` calls."""
    from app.channels import mail_in

    with cluster["app"].app_context():
        while not load.stop.is_set():
            message = EmailMessage()
            message["From"] = "Awa Diop <client@credit-solidaire.sn>"
            message["To"] = "support@novalead.com"
            message["Subject"] = f"Charge courriel {uuid.uuid4().hex[:12]}"
            message["Message-ID"] = f"<{uuid.uuid4().hex}@credit-solidaire.sn>"
            message.set_content("Bonjour, une demande par courriel.")
            mail_in.ingest(message.as_bytes())
            load.note("mail_ids", message["Message-ID"])
            time.sleep(1)


class Agent:
    """An agent's console: accepts every waiting conversation, answers every visitor message,
    and comes back (as the console page does) when its node goes away."""

    def __init__(self, cluster, email, index, team_size):
        self.browser = sign_in(cluster, email)
        self.cookie = "; ".join(f"{k}={v}" for k, v in self.browser.cookies.items())
        self.base = cluster["base"]
        self.index, self.team_size = index, team_size  # each agent takes its share of the waiting chats
        self.work = queue.Queue()
        self.client = None
        self.connect()

    def connect(self):
        if self.client is not None:
            try:
                self.client.disconnect()
            except Exception:
                pass
        self.client = socketio.Client(reconnection=False)
        self.client.on("conversation", self._conversation, namespace="/console")
        self.client.on("message", self._message, namespace="/console")
        self.client.on("snapshot", lambda data: [self._conversation(c) for c in data.get("conversations", [])], namespace="/console")
        self.client.connect(self.base, namespaces=["/console"], headers={"Cookie": self.cookie}, transports=["websocket"], wait_timeout=15)

    def _conversation(self, data):
        if data.get("status") == "waiting" and data["id"] % self.team_size == self.index:
            self.work.put(("accept", data["id"], None))

    def _message(self, data):
        if data.get("author_kind") == "visitor":
            self.work.put(("reply", data["conversation_id"], data.get("body")))

    def run(self, load):
        """The connection's keeper; several hands answer at once, as an agent's several chats."""
        hands = [threading.Thread(target=self._answer, args=(load,), daemon=True) for _ in range(6)]
        for hand in hands:
            hand.start()
        beat = time.time()
        while not load.stop.is_set():
            if "/console" not in self.client.namespaces:  # its node died: back through HAProxy
                try:
                    self.connect()  # the snapshot brings back what waits
                except Exception:
                    time.sleep(0.5)
                continue
            if time.time() - beat > 20:  # as the console page does: "still here"
                beat = time.time()
                self.work.put(("heartbeat", None, None))
            time.sleep(0.1)

    def _answer(self, load):
        while not load.stop.is_set():
            try:
                kind, conversation_id, body = self.work.get(timeout=0.2)
            except queue.Empty:
                continue
            if "/console" not in self.client.namespaces:
                if kind != "heartbeat":
                    self.work.put((kind, conversation_id, body))  # kept for when it is back
                time.sleep(0.2)
                continue
            try:
                if kind == "heartbeat":
                    self.client.call("heartbeat", {}, namespace="/console", timeout=10)
                elif kind == "accept":
                    self.client.call("accept", {"conversation_id": conversation_id}, namespace="/console", timeout=10)
                else:
                    self.client.call("message", {"conversation_id": conversation_id, "body": f"Réponse à « {body} »", "client_id": uuid.uuid4().hex},
                                     namespace="/console", timeout=10)
            except Exception:
                pass  # a node or Redis went away: the snapshot after reconnecting brings the waiting ones back


class Chat:
    """A partner's widget, as the frame behaves: resumes with its token and the last number it
    has, resends what was not acknowledged with the same id."""

    def __init__(self, number, base, key):
        self.number, self.base, self.key = number, base, key
        self.token, self.conversation_id = None, None
        self.seen = {}  # seq → message
        self.acked, self.attempted = set(), set()
        self.unsent = []
        self.connections = 0
        self.client = None
        self.last_error = None
        self.written = 0  # messages typed so far: each gets its own id

    def _absorb(self, messages):
        for message in messages or []:
            self.seen[message["seq"]] = message

    async def connect(self):
        self.client = socketio.AsyncClient(reconnection=False)
        hello = asyncio.get_running_loop().create_future()
        self.client.on("hello", lambda data: hello.done() or hello.set_result(data), namespace="/widget")
        self.client.on("message", lambda data: self._absorb([data]), namespace="/widget")
        auth = {"channel": self.key, "host": PARTNER_ORIGIN, "lang": "fr", "token": self.token, "after": max(self.seen, default=0)}
        # The frame is served by NovaDesk: its connection comes from NovaDesk's own origin.
        await self.client.connect(self.base, namespaces=["/widget"], transports=["websocket"], auth=auth, headers={"Origin": self.base},
                                  wait_timeout=10)
        data = await asyncio.wait_for(hello, 10)
        self.connections += 1
        self._absorb(data.get("messages"))

    async def send(self, body, client_id):
        self.attempted.add(client_id)
        answer = await self.client.call("message", {"body": body, "client_id": client_id}, namespace="/widget", timeout=10)
        if answer and answer.get("ok"):
            self.acked.add(client_id)
            self._absorb([answer["message"]])
            return True
        return False

    async def live(self, stop_at):
        await asyncio.sleep(self.number * 0.05)  # a ramp: 200 partners do not arrive in the same instant
        while time.time() < stop_at:
            try:
                if self.client is None or not self.client.connected:
                    await self.connect()
                if self.token is None:
                    started = await self.client.call("start", {"question": f"Question {self.number}", "name": f"Visiteur {self.number}",
                                                               "email": f"visiteur{self.number}@agence-partenaire.sn", "client_id": f"c{self.number}-0"},
                                                     namespace="/widget", timeout=10)
                    assert started.get("ok"), started
                    self.token, self.conversation_id = started["token"], started["conversation"]["id"]
                    self.acked.add(f"c{self.number}-0")
                    self.attempted.add(f"c{self.number}-0")
                    self._absorb([started["message"]])
                while self.unsent and time.time() < stop_at:
                    if not await self.send(*self.unsent[0]):
                        break
                    self.unsent.pop(0)
                self.written += 1
                number = self.written
                self.unsent.append((f"Message {number} du visiteur {self.number}", f"c{self.number}-{number}"))
                await asyncio.sleep(4 + random.random() * 2)
            except Exception as error:
                self.last_error = repr(error)[:300]
                if self.client is not None:
                    try:
                        await self.client.disconnect()
                    except Exception:
                        pass
                    self.client = None
                await asyncio.sleep(0.5 + random.random())

    async def finish(self):
        """Back online for good: resend what waits, then ask for anything still missing."""
        for _ in range(20):
            try:
                if self.client is None or not self.client.connected:
                    await self.connect()
                while self.unsent:
                    if not await self.send(*self.unsent[0]):
                        raise RuntimeError("refused")
                    self.unsent.pop(0)
                synced = await self.client.call("sync", {"after": max(self.seen, default=0)}, namespace="/widget", timeout=10)
                self._absorb(synced.get("messages"))
                await self.client.disconnect()
                return
            except Exception:
                self.client = None
                await asyncio.sleep(1)


def run_chats(chats, seconds):
    async def main():
        stop_at = time.time() + seconds
        await asyncio.gather(*(chat.live(stop_at) for chat in chats))
        await asyncio.sleep(3)  # the agents answer the last messages
        await asyncio.gather(*(chat.finish() for chat in chats))

    asyncio.run(main())


def process_of(cluster, name):
    return int((cluster["dir"] / "run" / f"{name}.pid").read_text())


def test_nothing_is_lost_when_a_node_a_worker_and_redis_fail_under_load(cluster):
    from app.extensions import db
    from app.models import ChatMessage, InboundMail, OutboxMail, OutboxStatus, Ticket, TicketMessage

    base, ports = cluster["base"], cluster["ports"]
    channel_key, api_key = prepare(cluster)
    load = Load()
    agents = [Agent(cluster, email, index, 2) for index, email in enumerate(("agent1@novalead.com", "agent2@novalead.com"))]
    threads = [threading.Thread(target=agent.run, args=(load,), daemon=True) for agent in agents]
    threads += [threading.Thread(target=api_filer, args=(cluster, api_key, load), daemon=True) for _ in range(3)]
    # Signed in one after the other: each sign-in reads the latest code mailed to its person.
    threads += [threading.Thread(target=web_filer, args=(cluster, sign_in(cluster, "client@credit-solidaire.sn"), load), daemon=True),
                threading.Thread(target=mail_piper, args=(cluster, load), daemon=True)]
    threads += [threading.Thread(target=agent_at_desk, args=(cluster, sign_in(cluster, email), load), daemon=True)
                for email in ("agent1@novalead.com", "agent2@novalead.com")]
    chats = [Chat(n, base, channel_key) for n in range(CHATS)]
    chat_thread = threading.Thread(target=run_chats, args=(chats, LOAD_SECONDS), daemon=True)
    started = time.time()
    for thread in threads + [chat_thread]:
        thread.start()

    # The node that holds the chats' websockets dies first: they must move to the other one.
    time.sleep(NODE_KILL_AT)
    victim = "web-1" if established_to(ports["node1"]) >= established_to(ports["node2"]) else "web-2"
    kill_tree(process_of(cluster, victim))
    load.node_killed_at = time.time()
    time.sleep(WORKER_KILL_AT - NODE_KILL_AT)
    kill_tree(process_of(cluster, "worker-1"))
    time.sleep(REDIS_RESTART_AT - WORKER_KILL_AT)
    subprocess.run(["redis-cli", "-p", str(ports["redis"]), "shutdown"], capture_output=True, timeout=20)
    subprocess.run(["redis-server", "--port", str(ports["redis"]), "--bind", "127.0.0.1", "--daemonize", "yes", "--dir", str(cluster["dir"]),
                    "--appendonly", "yes", "--pidfile", str(cluster["dir"] / "run" / "redis.pid"), "--logfile", str(cluster["dir"] / "log" / "redis.log")],
                   check=True, timeout=20)
    time.sleep(max(0, LOAD_SECONDS - (time.time() - started)))
    load.stop.set()
    chat_thread.join(240)
    assert not chat_thread.is_alive(), "the widgets never came back"

    # The survivors serve, and say so to the load balancer.
    health = requests.get(f"{base}/health", timeout=10)
    assert health.status_code == 200 and health.json() == {"status": "ok", "database": "ok", "redis": "ok"}
    assert not load.api_errors_late, f"requests failed well after the node died: {load.api_errors_late[:5]}"

    app = cluster["app"]
    with app.app_context():
        # Outgoing mail: the surviving worker sends everything, each once.
        deadline = time.time() + 120
        while time.time() < deadline:
            db.session.expire_all()
            waiting = db.session.query(OutboxMail).filter(OutboxMail.status == OutboxStatus.QUEUED).count()
            if waiting == 0:
                break
            time.sleep(1)
        assert waiting == 0, f"{waiting} mails still queued"
        sent = db.session.query(OutboxMail).filter(OutboxMail.status == OutboxStatus.SENT).count()
        received = cluster["inbox"].message_ids
        assert len(set(received)) == sent, f"{sent} mails marked sent, {len(set(received))} different ones reached the relay"
        # A worker killed after the relay took a mail and before it recorded so sends that one
        # mail again at the survivor's next pass — with the same Message-ID, which mail
        # programs show once. SMTP offers no way to close that window; it is one mail at most.
        assert len(received) - len(set(received)) <= 1, "mails reached the relay twice beyond the one in flight when the worker died"

        titles = [t for (t,) in db.session.query(Ticket.title).filter(Ticket.title.like("Charge %"))]
        assert len(titles) == len(set(titles)), "a ticket was filed twice"
        assert load.api_created and load.api_created <= set(titles), "an API ticket answered 201 is missing"
        assert load.web_created and load.web_created <= set(titles), "a web ticket confirmed to its author is missing"
        assert set(titles) <= load.api_attempted | load.web_attempted | {t for t in titles if t.startswith("Charge courriel")}

        bodies = [b for (b,) in db.session.query(TicketMessage.body).filter(TicketMessage.body.like("Réponse %"))]
        assert load.replies_done and load.replies_done <= set(bodies), "a confirmed reply is missing"
        assert len([b for b in bodies if b in load.replies_attempted]) == len(set(bodies) & load.replies_attempted), "a reply was stored twice"

        recorded = [m for (m,) in db.session.query(InboundMail.message_id).filter(InboundMail.message_id.in_(load.mail_ids))]
        assert sorted(recorded) == sorted(load.mail_ids), "piped mail lost or recorded twice"
        mail_titles = [t for t in titles if t.startswith("Charge courriel")]
        assert len(mail_titles) == len(load.mail_ids), "each piped message is one ticket"

        # Chats: every acknowledged message stored once, nothing stored that was not sent, and
        # each widget holds the whole conversation after coming back.
        moved = sum(1 for chat in chats if chat.connections > 1)
        assert moved >= CHATS // 2, (f"only {moved} chats reconnected after the node died ({victim} killed); connections: "
                                     f"{sorted({c.connections for c in chats})}; errors: {sorted({str(c.last_error) for c in chats})[:5]}")
        started_chats = [chat for chat in chats if chat.conversation_id]
        assert len(started_chats) == CHATS, f"{CHATS - len(started_chats)} chats never started: {sorted({str(c.last_error) for c in chats})[:5]}"
        for chat in started_chats:
            stored = db.session.query(ChatMessage).filter_by(conversation_id=chat.conversation_id).order_by(ChatMessage.seq).all()
            visitor_ids = [m.client_id for m in stored if m.author_kind == "visitor"]
            assert len(visitor_ids) == len(set(visitor_ids)), f"chat {chat.number}: a message stored twice"
            assert chat.acked <= set(visitor_ids) <= chat.attempted, f"chat {chat.number}: acknowledged {chat.acked - set(visitor_ids)} missing"
            assert [m.seq for m in stored] == list(range(1, len(stored) + 1)), f"chat {chat.number}: numbering has holes"
            assert sorted(chat.seen) == [m.seq for m in stored], f"chat {chat.number}: the widget missed {set(m.seq for m in stored) - set(chat.seen)}"
        answered = sum(1 for chat in started_chats if any(m["author_kind"] == "agent" for m in chat.seen.values()))
        assert answered >= CHATS * 0.9, f"only {answered} chats were answered"
