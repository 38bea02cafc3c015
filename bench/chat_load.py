"""Live chat under load: N widget connections (real Socket.IO clients, websocket transport) to
one NovaDesk process (run.py, gevent, embedded SQLite), each in its own conversation, answered
by agents' consoles that reply to every message at once.

    .venv/bin/python bench/chat_load.py --connections 2000 --rate 0.25 --duration 60
    .venv/bin/python bench/chat_load.py --nodes 2 --database postgresql://… --connections 2000 --rate 0.25

With `--nodes 2`: two gunicorn nodes (gunicorn.conf.py, one gevent process each) on one
PostgreSQL database, sharing a Redis started for the run (Socket.IO's message queue), the
widgets and the consoles spread over both nodes, so most messages cross from one node to the
other through Redis, as behind the load balancer.

Prints connection time, latency widget → agent and widget → agent → widget (p50/p95/p99/max),
messages lost, messages stored per second (counted in the database), server memory per
connection and server CPU. Every message is stored in SQLite before it is broadcast.
Targets (issue 5, 2 cores): 2,000 connections held; at 0.25 msg/s each, p99 under 100 ms with
nothing lost; 1,000 stored messages/s sustained; under 100 KB of server memory per connection.
"""
import argparse
import asyncio
import hashlib
import hmac
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import socketio

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
HOST = "http://127.0.0.1:5000"  # a declared origin of the demo channel


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(instance, agents, database=None):
    """A fresh demo instance, with `agents` agents able to take many chats each and signing in
    with their password alone (the second factor is not what is measured here)."""
    env = dict(os.environ, NOVADESK_INSTANCE=instance)
    env.pop("DATABASE_URL", None)
    if database:
        env["DATABASE_URL"] = database
        import sqlalchemy

        engine = sqlalchemy.create_engine(re.sub(r"^postgres(ql)?://", "postgresql+psycopg2://", database))
        with engine.begin() as connection:  # a new database each run
            connection.execute(sqlalchemy.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "novadesk", "init"], cwd=ROOT, env=env, check=True, capture_output=True)
    script = f"""
from app import create_app
from app.extensions import db
from app.models import NovaUser, RolePolicy
from app.security import roles
from seeds import factories as make
app = create_app({{"START_WORKER": False}})
with app.app_context():
    vendor = db.session.query(NovaUser).filter_by(email="agent1@novalead.com").one().organisation
    for policy in db.session.query(RolePolicy).all():
        policy.two_factor_required = False
    for n in range({agents}):
        user = make.user(f"bench-agent{{n}}@novalead.com", "Agent", f"Bench {{n}}", roles.AGENT, app.config["DEMO_PASSWORD"], organisation=vendor)
        user.two_factor_email = False
        user.chat_limit = 100000
    db.session.commit()
"""
    subprocess.run([PYTHON, "-c", script], cwd=ROOT, env=env, check=True, capture_output=True)
    database = connect(instance, database)
    key, secret = database.execute("SELECT public_key, secret FROM chat_channel").fetchone()
    database.close()
    return key, secret


def connect(instance, url=None):
    """The database, to count stored messages: the instance's SQLite file, or PostgreSQL."""
    if not url:
        return sqlite3.connect(Path(instance) / "novadesk.db")
    import psycopg2

    connection = psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://"))
    connection.autocommit = True

    class Database:
        def execute(self, sql):
            cursor = connection.cursor()
            cursor.execute(sql)
            return cursor

        def close(self):
            connection.close()

    return Database()


def start_nodes(instance, ports, database, redis_url, profile=None):
    """gunicorn nodes (one gevent process each), as deploy/cluster.sh starts them; with
    `profile`, each profiled while the load is measured (bench/profiled_gunicorn.py)."""
    servers = []
    config = "gunicorn.conf.py"
    if profile:
        config = "bench/profiled_gunicorn.py"
        for name in ("start", "stop"):
            (Path(profile) / name).unlink(missing_ok=True)
    for n, port in enumerate(ports):
        env = dict(os.environ, NOVADESK_INSTANCE=instance, HOST="127.0.0.1", PORT=str(port), RATELIMIT_ENABLED="0", WORKER_IN_PROCESS="0",
                   CHAT_BUSINESS_HOURS_ONLY="0", CHAT_MESSAGES_PER_MINUTE="100000", DEMO_MODE="1", DATABASE_URL=database,
                   REDIS_URL=redis_url, WEB_CONCURRENCY="1", PROFILE_DIR=str(profile or ""))
        log = open(Path(instance) / f"node-{n}.log", "w")
        servers.append(subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", config], cwd=ROOT, env=env,
                                        stdout=log, stderr=subprocess.STDOUT))
    import urllib.request

    for port in ports:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=30).read()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit(f"node {port} did not start")
    return servers


def tree(pid):
    """The process and its children (a gunicorn master and its workers)."""
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        pids += [int(child) for child in task.read_text().split()]
    return pids


def start_server(instance, port):
    env = dict(os.environ, NOVADESK_INSTANCE=instance, PORT=str(port), RATELIMIT_ENABLED="0", WORKER_IN_PROCESS="0",
               CHAT_BUSINESS_HOURS_ONLY="0", CHAT_MESSAGES_PER_MINUTE="100000", DEMO_MODE="1")
    env.pop("DATABASE_URL", None)
    log = open(Path(instance) / "server.log", "w")
    server = subprocess.Popen([PYTHON, "run.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("server did not start")


def rss_kb(pid):
    if isinstance(pid, list):
        return sum(rss_kb(one) for one in pid)
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    if isinstance(pid, list):
        return sum(cpu_seconds(one) for one in pid)
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


async def sign_in(base, email, password):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        page = await (await session.get(f"{base}/login/")).text()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        await session.post(f"{base}/login/", data={"email": email, "password": password, "csrf_token": token}, allow_redirects=False)
        return "; ".join(f"{c.key}={c.value}" for c in session.cookie_jar)


async def send(client, namespace, data):
    """Send without waiting for the answer; a connection the server dropped counts as an error."""
    try:
        await client.emit("message", data, namespace=namespace)
        return True
    except socketio.exceptions.SocketIOError:
        STATS.errors += 1
        return False


class Stats:
    def __init__(self):
        self.to_agent, self.round_trip = [], []
        self.sent = self.heard_by_agent = self.replied = self.heard_by_widget = 0
        self.errors = 0


STATS = None


async def run(args, bases, key, secret, server_pid):
    global STATS
    stats = STATS = Stats()
    password = os.environ.get("DEMO_PASSWORD", "NovaDesk-demo-2026")
    measuring = {"on": False}

    # Agents: consoles that reply to every visitor message at once.
    agents = []
    for n in range(args.agents):
        base = bases[n % len(bases)]
        try:
            cookie = await sign_in(base, f"bench-agent{n}@novalead.com", password)
        except (aiohttp.ClientError, AttributeError, asyncio.TimeoutError) as error:
            raise SystemExit(f"agent {n} could not sign in on {base}: {type(error).__name__}: {error} (node logs in {args.instance})")
        client = socketio.AsyncClient(reconnection=False)

        def on_message(message, client=client):
            if message["author_kind"] != "visitor" or not message["body"].startswith("t="):
                return
            if measuring["on"]:
                stats.heard_by_agent += 1
                stats.to_agent.append((time.perf_counter() - float(message["body"][2:])) * 1000)
            stats.replied += measuring["on"]
            asyncio.ensure_future(send(client, "/console", {"conversation_id": message["conversation_id"], "body": "r=" + message["body"][2:], "client_id": f"r{message['seq']}"}))

        client.on("message", on_message, namespace="/console")
        try:
            await client.connect(base, namespaces=["/console"], headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=args.timeout)
        except socketio.exceptions.ConnectionError as error:
            raise SystemExit(f"agent {n}'s console could not connect to {base}: {error} (node logs in {args.instance})")
        agents.append(client)

    async def heartbeat():
        while True:
            await asyncio.sleep(30)
            for client in agents:
                try:
                    await client.emit("heartbeat", {}, namespace="/console")
                except socketio.exceptions.SocketIOError:
                    stats.errors += 1

    beating = asyncio.ensure_future(heartbeat())
    rss_before = rss_kb(server_pid)
    # Widgets: connect, start a conversation, have it accepted by an agent (round-robin).
    widgets = []
    connect_times = []

    failures = {}  # what went wrong while opening, by kind: reported, never a traceback

    async def open_widget(n):
        expires = int(time.time()) + 3600
        external = f"bench-{n}"
        email = f"visitor{n}@bench.example"
        signature = hmac.new(secret.encode(), f"{external}:{email}:Visiteur {n}:{expires}".encode(), hashlib.sha256).hexdigest()
        client = socketio.AsyncClient(reconnection=False)

        def on_message(message):
            if message["author_kind"] == "agent" and message["body"].startswith("r=") and measuring["on"]:
                stats.heard_by_widget += 1
                stats.round_trip.append((time.perf_counter() - float(message["body"][2:])) * 1000)

        client.on("message", on_message, namespace="/widget")
        base = bases[(n // len(agents)) % len(bases)]  # with two nodes, its agent is on the other node half the time
        started = time.perf_counter()
        step = "widget connection"
        try:
            await client.connect(base, namespaces=["/widget"], transports=["websocket"], headers={"Origin": base}, wait_timeout=args.timeout,
                                 auth={"channel": key, "host": HOST, "identity": {"id": external, "name": f"Visiteur {n}", "email": email, "expires": expires, "signature": signature}, "lang": "fr"})
            step = "start"
            answer = await client.call("start", {"question": "Bonjour"}, namespace="/widget", timeout=args.timeout)
            if "conversation" not in answer:
                raise RuntimeError(answer.get("error") or answer)
            connect_times.append((time.perf_counter() - started) * 1000)
            step = "accept"
            agent = agents[n % len(agents)]
            accepted = await agent.call("accept", {"conversation_id": answer["conversation"]["id"]}, namespace="/console", timeout=args.timeout)
            if not accepted.get("ok"):
                raise RuntimeError(accepted.get("error") or accepted)
        except (socketio.exceptions.SocketIOError, RuntimeError, OSError) as error:
            kind = f"{step}: {type(error).__name__}: {error}"[:160]
            failures[kind] = failures.get(kind, 0) + 1
            await client.disconnect()
            return
        widgets.append(client)

    # Opened in a ramp: at most --ramp widgets opening at once, so that the servers' accept
    # queues and the database see a steady flow rather than a thousand handshakes at once.
    began = time.perf_counter()
    opening = asyncio.Semaphore(args.ramp)

    async def ramped(n):
        async with opening:
            await open_widget(n)
        done = len(widgets) + sum(failures.values())
        if done % 100 == 0:
            print(f"  {done}/{args.connections} conversations opened ({sum(failures.values())} failed) in {time.perf_counter() - began:.0f} s", flush=True)

    await asyncio.gather(*(ramped(n) for n in range(args.connections)))
    for kind, count in sorted(failures.items(), key=lambda item: -item[1]):
        print(f"  could not open {count} conversation(s) — {kind}", flush=True)
    if len(widgets) < args.connections * 0.95:
        for client in widgets + agents:
            await client.disconnect()
        raise SystemExit(f"only {len(widgets)} of {args.connections} conversations opened: not measured (see the node logs in {args.instance})")
    connect_wall = time.perf_counter() - began
    await asyncio.sleep(2)
    rss_after = rss_kb(server_pid)

    database = connect(args.instance, args.database)
    stored_before = database.execute("SELECT count(*) FROM chat_message").fetchone()[0]
    cpu_before = cpu_seconds(server_pid)
    client_before = time.process_time()
    measuring["on"] = True
    if args.profile:
        (Path(args.profile) / "start").touch()

    async def talk(client, n):
        interval = 1.0 / args.rate
        await asyncio.sleep((n / len(widgets)) * interval)  # spread evenly
        deadline = time.perf_counter() + args.duration
        count = 0
        while time.perf_counter() < deadline:
            count += 1
            if await send(client, "/widget", {"body": f"t={time.perf_counter()}", "client_id": f"w{n}-{count}"}):
                stats.sent += 1
            await asyncio.sleep(interval)

    talk_started = time.perf_counter()
    await asyncio.gather(*(talk(client, n) for n, client in enumerate(widgets)))
    elapsed = time.perf_counter() - talk_started
    cpu = cpu_seconds(server_pid) - cpu_before
    if args.profile:
        (Path(args.profile) / "stop").touch()
    client_cpu = time.process_time() - client_before
    stored = database.execute("SELECT count(*) FROM chat_message").fetchone()[0] - stored_before
    # What is still on its way is late, not lost: wait for it (a backlog shows in the
    # latencies) before counting what never arrived.
    drain_started = time.perf_counter()
    while stats.heard_by_widget < stats.sent and time.perf_counter() - drain_started < args.drain:
        await asyncio.sleep(0.5)
    drained = time.perf_counter() - drain_started
    measuring["on"] = False
    database.close()

    beating.cancel()
    dropped = sum(1 for client in widgets + agents if not client.connected)
    for client in widgets + agents:
        await client.disconnect()
    return {
        "connect_p50": statistics.median(connect_times), "connect_p99": percentile(connect_times, 0.99), "connect_wall": connect_wall,
        "rss_per_connection_kb": (rss_after - rss_before) / max(1, args.connections), "rss_mb": rss_after / 1024,
        "sent": stats.sent, "heard_by_agent": stats.heard_by_agent, "heard_by_widget": stats.heard_by_widget,
        "stored_per_s": stored / elapsed, "cpu_percent": 100 * cpu / elapsed, "client_cpu_percent": 100 * client_cpu / elapsed,
        "to_agent": stats.to_agent, "round_trip": stats.round_trip, "errors": stats.errors, "dropped": dropped, "drained": drained,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--rate", type=float, default=0.25, help="messages per second per widget")
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--ramp", type=int, default=25, help="widgets opening their conversation at once")
    parser.add_argument("--timeout", type=float, default=30, help="seconds a connection or an answer may take while opening the conversations")
    parser.add_argument("--prepare-only", action="store_true", help="prepare the instance and the database, then stop (measure later with --reuse)")
    parser.add_argument("--reuse", action="store_true", help="with --instance and --database: keep the prepared database (faster, for repeated runs)")
    parser.add_argument("--profile", help="with --nodes 2: a folder for each node's CPU profile while the load is measured")
    parser.add_argument("--drain", type=float, default=120, help="seconds to wait for messages still on their way at the end")
    parser.add_argument("--instance", help="reuse a prepared instance folder")
    parser.add_argument("--nodes", type=int, default=1, help="2: two gunicorn nodes sharing Redis and PostgreSQL (--database)")
    parser.add_argument("--database", help="PostgreSQL URL (emptied first), needed with --nodes 2")
    args = parser.parse_args()
    if args.nodes > 1 and not args.database:
        parser.error("--nodes 2 needs --database postgresql://…")
    temporary = None
    if not args.instance:
        temporary = tempfile.TemporaryDirectory(prefix="novadesk-chat-bench-")
        args.instance = temporary.name
    if args.reuse and (Path(args.instance) / "prepared").exists():
        database = connect(args.instance, args.database)
        key, secret = database.execute("SELECT public_key, secret FROM chat_channel").fetchone()
        database.close()
    else:
        key, secret = prepare(args.instance, args.agents, args.database)
        (Path(args.instance) / "prepared").write_text(str(args.agents))
    if args.prepare_only:
        print(f"prepared: {args.instance} ({args.agents} agents); measure with the same --instance and --database, and --reuse")
        return
    redis = None
    if args.nodes > 1:
        redis_port = free_port()
        redis = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ports = [free_port() for _ in range(args.nodes)]
        if args.profile:
            Path(args.profile).mkdir(parents=True, exist_ok=True)
            for old in Path(args.profile).glob("node-*.prof"):
                old.unlink()
        servers = start_nodes(args.instance, ports, args.database, f"redis://127.0.0.1:{redis_port}/0", args.profile)
        watched = [pid for server in servers for pid in tree(server.pid)] + [redis.pid]
        setup = f"{args.nodes} gunicorn nodes (gevent, 1 process each), PostgreSQL, Redis"
    else:
        ports = [free_port()]
        servers = [start_server(args.instance, ports[0])]
        watched = servers[0].pid
        setup = "run.py (gevent, 1 process), embedded SQLite"
    try:
        result = asyncio.run(run(args, [f"http://127.0.0.1:{port}" for port in ports], key, secret, watched))
    finally:
        if args.profile and args.nodes > 1:  # each node writes its profile when told to stop
            deadline = time.time() + 30
            while len(list(Path(args.profile).glob("node-*.prof"))) < len(ports) and time.time() < deadline:
                time.sleep(0.2)
        for server in servers + ([redis] if redis else []):
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
    print(f"{sys.platform}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {setup}, load average {os.getloadavg()[0]:.1f}")
    print(f"{args.connections} widget connections, {args.agents} agent consoles, {args.rate} msg/s per widget for {args.duration:.0f} s "
          f"(widget messages {args.connections * args.rate:.0f}/s, each answered at once)")
    print(f"connect + start + accept: p50 {result['connect_p50']:.0f} ms, p99 {result['connect_p99']:.0f} ms, all {args.connections} in {result['connect_wall']:.1f} s (--ramp {args.ramp})")
    for label, values in (("widget → agent", result["to_agent"]), ("widget → agent → widget", result["round_trip"])):
        print(f"{label:<26} p50 {percentile(values, .5):6.1f} ms  p95 {percentile(values, .95):6.1f} ms  p99 {percentile(values, .99):6.1f} ms  max {max(values or [float('nan')]):7.1f} ms")
    lost = result["sent"] - result["heard_by_agent"] + (result["heard_by_agent"] - result["heard_by_widget"])
    print(f"messages: {result['sent']} sent by widgets, {result['heard_by_agent']} reached agents, {result['heard_by_widget']} replies reached widgets — lost {lost} "
          f"(the last arrived {result['drained']:.1f} s after the sending stopped)")
    print(f"stored while sending: {result['stored_per_s']:.0f} messages/s, {10 * result['cpu_percent'] / max(result['stored_per_s'], 1e-9):.2f} ms of server CPU each; server CPU {result['cpu_percent']:.0f} % of one core (nodes{' + Redis' if args.nodes > 1 else ''}); "
          f"memory {result['rss_per_connection_kb']:.1f} KB per connection ({result['rss_mb']:.0f} MB in all); errors {result['errors']}; connections dropped by the end {result['dropped']}")
    print(f"load generator CPU {result['client_cpu_percent']:.0f} % of one core (above ~90 % the figures measure the generator, not the server)")


if __name__ == "__main__":
    main()
