"""Measure the agents' workspace served by run.py on an instance made by generate_tickets.py:
the queue's data (a box's rows, /tickets/queue), every box's count (/tickets/counts), a ticket's pane
(/tickets/<id>/pane) and an inline status change (/tickets/<id>/fields), at concurrency 1.
Prints p50 / p95 latency; the targets are p95 < 40 ms each.

    .venv/bin/python bench/generate_tickets.py --instance /tmp/novadesk-bench
    .venv/bin/python bench/workspace.py --instance /tmp/novadesk-bench
"""
import argparse
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from ticket_desk import Session, free_port, highest_ticket_id, run

ROOT = Path(__file__).resolve().parents[1]
BOXES = ["todo", "unassigned", "mine", "late", "waiting"]


def post_json(session, path, payload, token):
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in session.cookies.items()), "Content-Type": "application/json", "X-CSRFToken": token}
    session.connection.request("POST", path, body=json.dumps(payload), headers=headers)
    response = session.connection.getresponse()
    response.read()
    return response.status


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instance", default="/tmp/novadesk-bench")
    parser.add_argument("--requests", type=int, default=300, help="per scenario")
    args = parser.parse_args()
    port = free_port()
    env = dict(os.environ, NOVADESK_INSTANCE=args.instance, PORT=str(port), RATELIMIT_ENABLED="0", WORKER_IN_PROCESS="0", WEB_CONCURRENCY="1")
    env.pop("DATABASE_URL", None)
    password = env.get("DEMO_PASSWORD", "NovaDesk-demo-2026")
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "python"), "run.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        probe = Session(port)
        probe.sign_in(password)
        _, page = probe.request("GET", "/tickets/?view=all")
        total = sum(int(n) for n in re.findall(r'data-count="(?:todo|waiting)">(\d+)<', page))
        statuses = dict((name, value) for value, name in re.findall(r'<option value="(\d+)">([^<]+)</option>', page.split('id="ws-bulk-status"', 1)[1].split("</select>", 1)[0]))
        pending, working = statuses["En attente du client"], statuses["En cours"]
        _, todo = probe.request("GET", "/tickets/queue?box=todo")
        candidates = [int(i) for i in re.findall(r'data-ticket-id=\\?"(\d+)', todo)]
        highest = highest_ticket_id(probe)

        def queue_data(session, rng):
            return session.request("GET", f"/tickets/queue?box={rng.choice(BOXES)}")[0]

        def box_counts(session, rng):
            return session.request("GET", "/tickets/counts")[0]

        def ticket_pane(session, rng):
            return session.request("GET", f"/tickets/{rng.randint(1, highest)}/pane")[0]

        state = {}
        tokens = {}

        def status_change(session, rng):
            token = tokens.get(id(session)) or tokens.setdefault(id(session), re.search(r'data-csrf="([^"]+)"', session.request("GET", "/tickets/")[1]).group(1))
            ticket = rng.choice(candidates)
            target = working if state.get(ticket) == pending else pending
            status = post_json(session, f"/tickets/{ticket}/fields", {"field": "status", "value": target}, token)
            if status == 200:
                state[ticket] = target
            return status

        print(f"{highest} tickets ({total} to do or waiting), {sys.platform}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}, embedded SQLite, run.py (gevent, 1 process)")
        print(f"{'scenario':<28}{'conc.':>6}{'p50 ms':>9}{'p95 ms':>9}{'req/s':>9}{'errors':>8}")
        for name, scenario in [("queue data (a box)", queue_data), ("box counts", box_counts), ("ticket pane", ticket_pane), ("inline status change", status_change)]:
            result = run(port, password, scenario, 1, args.requests)
            print(f"{name:<28}{1:>6}{result['p50']:>9.1f}{result['p95']:>9.1f}{result['rps']:>9.1f}{result['errors']:>8}", flush=True)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    http.client.HTTPConnection.debuglevel = 0
    main()
