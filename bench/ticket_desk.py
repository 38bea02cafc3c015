"""Measure the ticket desk served by run.py on an instance made by generate_tickets.py:
the agent's ticket list (first page and a filtered page), a ticket page, and ticket creation,
at concurrency 1 and 16. Prints p50 / p95 latency and requests per second.

    .venv/bin/python bench/generate_tickets.py --instance /tmp/novadesk-bench
    .venv/bin/python bench/ticket_desk.py --instance /tmp/novadesk-bench
"""
import argparse
import http.client
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AGENT = "agent1@novalead.com"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Session:
    """One keep-alive connection with its cookies, like one browser tab."""

    def __init__(self, port):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies = {}

    def request(self, method, path, form=None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, data.decode("utf-8", "replace")

    def csrf(self, path):
        _, page = self.request("GET", path)
        return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)

    def sign_in(self, password):
        token = self.csrf("/login/")
        status, _ = self.request("POST", "/login/", {"csrf_token": token, "email": AGENT, "password": password})
        assert status == 302, status
        status, page = self.request("GET", "/")
        assert status == 200 and "Bonjour" in page, "sign-in failed"


def highest_ticket_id(session):
    """The newest ticket's id, read from the agent's queue sorted by number (the agents'
    /tickets/ is the workspace, with no total of the whole desk)."""
    _, rows = session.request("GET", "/tickets/queue?view=all&sort=number&dir=desc")
    return max(int(i) for i in re.findall(r'data-ticket-id=\\?"(\d+)', rows))


def run(port, password, make_request, concurrency, total):
    sessions = []
    for _ in range(concurrency):
        session = Session(port)
        session.sign_in(password)
        sessions.append(session)
    latencies, errors = [], []
    lock = threading.Lock()
    per_worker = total // concurrency

    def worker(session, seed):
        rng = random.Random(seed)
        for _ in range(per_worker):
            started = time.perf_counter()
            status = make_request(session, rng)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                if status >= 400:
                    errors.append(status)

    threads = [threading.Thread(target=worker, args=(s, i)) for i, s in enumerate(sessions)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "p50": statistics.median(ordered),
        "p95": ordered[max(0, int(len(ordered) * 0.95) - 1)],
        "rps": len(ordered) / wall,
        "errors": len(errors),
        "n": len(ordered),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instance", default="/tmp/novadesk-bench")
    parser.add_argument("--requests", type=int, default=320, help="per scenario and concurrency")
    parser.add_argument("--processes", type=int, default=1, help="1: run.py (the embedded default); more: gunicorn's gevent workers")
    args = parser.parse_args()
    port = free_port()
    env = dict(os.environ, NOVADESK_INSTANCE=args.instance, PORT=str(port), RATELIMIT_ENABLED="0", WORKER_IN_PROCESS="0",
               WEB_CONCURRENCY=str(args.processes))
    env.pop("DATABASE_URL", None)
    password = env.get("DEMO_PASSWORD", "NovaDesk-demo-2026")
    command = [str(ROOT / ".venv" / "bin" / "python"), "run.py"] if args.processes == 1 else \
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "gunicorn.conf.py"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        probe = Session(port)
        probe.sign_in(password)
        total = highest_ticket_id(probe)
        _, new_page = probe.request("GET", "/tickets/new")
        organisation = re.search(r'<option value="(\d+)">IMF Banc', new_page).group(1)
        priority = re.search(r'name="priority"[^>]*>\s*<option value="(\d+)"', new_page).group(1)

        def list_first(session, rng):
            return session.request("GET", "/tickets/")[0]

        def list_filtered(session, rng):
            return session.request("GET", f"/tickets/?view=all&priority={priority}&organisation={organisation}&page={rng.randint(1, 3)}")[0]

        def ticket_page(session, rng):
            return session.request("GET", f"/tickets/{rng.randint(1, total)}")[0]

        tokens = {}

        def create(session, rng):
            token = tokens.get(id(session)) or tokens.setdefault(id(session), session.csrf("/tickets/new"))
            status, _ = session.request("POST", "/tickets/new", {
                "csrf_token": token, "title": "Écart de caisse à l'agence centrale", "body": "Bonjour, un écart de 5 000 FCFA apparaît à la clôture.",
                "organisation": organisation, "priority": priority, "channel": "phone",
            })
            return 200 if status == 302 else 500

        print(f"{total} tickets, {sys.platform}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}, embedded SQLite, run.py (gevent, {args.processes} process(es))")
        print(f"{'scenario':<28}{'conc.':>6}{'p50 ms':>9}{'p95 ms':>9}{'req/s':>9}{'errors':>8}")
        for name, scenario in [("list, first page", list_first), ("list, filtered page", list_filtered), ("ticket page", ticket_page), ("ticket creation", create)]:
            for concurrency in (1, 16):
                result = run(port, password, scenario, concurrency, args.requests)
                print(f"{name:<28}{concurrency:>6}{result['p50']:>9.1f}{result['p95']:>9.1f}{result['rps']:>9.1f}{result['errors']:>8}", flush=True)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
