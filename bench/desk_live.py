"""The desk live: N agents' desks connected to /desk (real Socket.IO clients, websocket
transport) on one NovaDesk process (run.py, gevent, embedded SQLite), all with the same ticket
open. One of them changes the ticket again and again (POST /tickets/bulk, a priority change:
stored, committed, then told); the time from sending the change to each other desk hearing
of it is measured, as is « en train de répondre » (composing) reaching the others.

    .venv/bin/python bench/desk_live.py --agents 50 --changes 200

Prints p50/p95/p99/max of « change sent → heard by another desk » over every (change, desk)
pair, the same for presence, and how many were never heard. Target (issue 14, 2 cores): a
change reaches the other agents' screens p99 < 300 ms with 50 agents connected.
"""
import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import socketio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.chat_load import PYTHON, free_port, percentile, start_server  # noqa: E402

PASSWORD = os.environ.get("DEMO_PASSWORD", "NovaDesk-demo-2026")


def prepare(instance, agents):
    """A fresh demo instance, `agents` agents signing in with their password alone (the second
    factor is not what is measured), and one ticket. Returns the ticket's id and two priorities."""
    import subprocess

    env = dict(os.environ, NOVADESK_INSTANCE=instance)
    env.pop("DATABASE_URL", None)
    subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "novadesk", "init"], cwd=ROOT, env=env, check=True, capture_output=True)
    script = f"""
from app import create_app
from app.extensions import db
from app.models import NovaUser, Organisation, Priority, RolePolicy
from app.security import roles
from app.services import tickets
from seeds import factories as make
app = create_app({{"START_WORKER": False}})
with app.app_context():
    agent = db.session.query(NovaUser).filter_by(email="agent1@novalead.com").one()
    for policy in db.session.query(RolePolicy).all():
        policy.two_factor_required = False
    for n in range({agents}):
        user = make.user(f"bench-desk{{n}}@novalead.com", "Agent", f"Bureau {{n}}", roles.AGENT, app.config["DEMO_PASSWORD"], organisation=agent.organisation)
        user.two_factor_email = False
    client = db.session.query(Organisation).filter(Organisation.kind != "vendor").order_by(Organisation.id).first()
    ticket = tickets.create_ticket(agent, title="Clôture bloquée", body="ERR-2041", organisation_id=client.id)
    db.session.commit()
    high = db.session.query(Priority).filter_by(key="high").one().id
    normal = db.session.query(Priority).filter_by(key="normal").one().id
    print(ticket.id, high, normal)
"""
    done = subprocess.run([PYTHON, "-c", script], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    ticket_id, high, normal = (int(x) for x in done.stdout.split()[-3:])
    return ticket_id, high, normal


async def sign_in(base, email):
    """A browser's sign-in; returns the cookie and a session kept for the changes."""
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    page = await (await session.get(f"{base}/login/")).text()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = await session.post(f"{base}/login/", data={"email": email, "password": PASSWORD, "csrf_token": token}, allow_redirects=False)
    if response.status != 302 or "/login" in response.headers.get("Location", ""):
        raise SystemExit(f"sign-in refused for {email}")
    return "; ".join(f"{c.key}={c.value}" for c in session.cookie_jar), session


class Round:
    """One change (or one presence update) and who heard of it, when."""

    def __init__(self, expected):
        self.started = time.perf_counter()
        self.expected = expected
        self.delays = []
        self.all_heard = asyncio.Event()

    def heard(self):
        self.delays.append((time.perf_counter() - self.started) * 1000)
        if len(self.delays) >= self.expected:
            self.all_heard.set()


async def run(args, base, ticket_id, priorities):
    desks = []
    current = {"change": None, "presence": None}
    for n in range(args.agents):
        cookie, session = await sign_in(base, f"bench-desk{n}@novalead.com")
        client = socketio.AsyncClient(reconnection=False)

        def on_ticket(payload, n=n):
            if n != 0 and current["change"] is not None and payload["ticket_id"] == ticket_id:
                current["change"].heard()

        def on_presence(payload, n=n):
            writing = [v for v in payload["viewers"] if v["composing"]]
            round_ = current["presence"]
            if n != 0 and round_ is not None and payload["ticket_id"] == ticket_id and bool(writing) == round_.writing:
                round_.heard()

        client.on("ticket", on_ticket, namespace="/desk")
        client.on("presence", on_presence, namespace="/desk")
        await client.connect(base, namespaces=["/desk"], headers={"Cookie": cookie}, transports=["websocket"])
        answer = await client.call("viewing", {"ticket_id": ticket_id}, namespace="/desk", timeout=30)
        assert answer.get("ok"), answer
        desks.append((client, session))
    print(f"{len(desks)} desks connected, all on ticket {ticket_id}", flush=True)

    changer, http = desks[0]
    page = await (await http.get(f"{base}/tickets/{ticket_id}")).text()
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    others = args.agents - 1
    change_delays, lost, request_ms = [], 0, []
    for n in range(args.changes):
        round_ = current["change"] = Round(others)
        value = priorities[n % 2]
        sent = time.perf_counter()
        async with http.post(f"{base}/tickets/bulk", json={"ticket_ids": [ticket_id], "action": "priority", "value": value}, headers={"X-CSRFToken": csrf}) as response:
            body = await response.json()
        request_ms.append((time.perf_counter() - sent) * 1000)
        assert body.get("done"), body
        try:
            await asyncio.wait_for(round_.all_heard.wait(), timeout=5)
        except asyncio.TimeoutError:
            lost += others - len(round_.delays)
        change_delays.extend(round_.delays)
        current["change"] = None
        await asyncio.sleep(args.pause)

    presence_delays, presence_lost = [], 0
    for n in range(args.changes // 2):
        round_ = current["presence"] = Round(others)
        round_.writing = n % 2 == 0
        await changer.emit("composing", {"ticket_id": ticket_id, "on": round_.writing}, namespace="/desk")
        try:
            await asyncio.wait_for(round_.all_heard.wait(), timeout=5)
        except asyncio.TimeoutError:
            presence_lost += others - len(round_.delays)
        presence_delays.extend(round_.delays)
        current["presence"] = None
        await asyncio.sleep(args.pause)

    for client, session in desks:
        await client.disconnect()
        await session.close()
    return change_delays, lost, request_ms, presence_delays, presence_lost


def line(name, values):
    return f"{name}: n={len(values)} p50={percentile(values, .5):.1f} ms p95={percentile(values, .95):.1f} ms p99={percentile(values, .99):.1f} ms max={max(values):.1f} ms"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between two changes")
    args = parser.parse_args()
    instance = tempfile.mkdtemp(prefix="novadesk-desk-bench-")
    ticket_id, high, normal = prepare(instance, args.agents)
    port = free_port()
    server = start_server(instance, port)
    try:
        changes, lost, request_ms, presence, presence_lost = asyncio.run(run(args, f"http://127.0.0.1:{port}", ticket_id, (high, normal)))
    finally:
        server.terminate()
        server.wait(10)
    print(line("change sent -> heard by another desk", changes))
    print(f"  never heard: {lost} of {args.changes * (args.agents - 1)}")
    print(line("the change's own request (POST /tickets/bulk)", request_ms))
    print(line("composing -> presence heard by another desk", presence))
    print(f"  never heard: {presence_lost} of {args.changes // 2 * (args.agents - 1)}")
    p99 = percentile(changes, .99)
    print(f"target p99 < 300 ms: {'met' if p99 < 300 and not lost else 'NOT met'} ({p99:.1f} ms)")


if __name__ == "__main__":
    main()
