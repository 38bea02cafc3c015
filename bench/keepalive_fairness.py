"""Is the production serving setup fair under keep-alive load? (issue 18)

Starts gunicorn with gunicorn.conf.py (two gevent workers by default) on an instance made by
generate_tickets.py, signs the agent in, then drives 16 keep-alive connections at the ticket
page and at the list, first with wrk, then with the project's own client (bench/ticket_desk.py's
sessions: one thread and one connection per simulated tab). Prints p50 / p99 / max, req/s and
how many requests each serving process answered (from the access log: `%(p)s`).

    .venv/bin/python bench/generate_tickets.py --instance /tmp/novadesk-bench
    .venv/bin/python bench/keepalive_fairness.py --instance /tmp/novadesk-bench
    GUNICORN_REUSE_PORT=0 .venv/bin/python bench/keepalive_fairness.py ...   # one shared socket
    .venv/bin/python bench/keepalive_fairness.py --haproxy ...   # HAProxy in front of two one-process nodes
"""
import argparse
import collections
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from ticket_desk import Session, free_port, highest_ticket_id  # noqa: E402


def wait_port(port):
    """Until /health answers (each process loads the application after the fork)."""
    import urllib.request

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=60).read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing answers on {port}")


def start_gunicorn(env, port, processes, log):
    env = dict(env, PORT=str(port), WEB_CONCURRENCY=str(processes), GUNICORN_ACCESS_LOG=log,
               GUNICORN_ACCESS_LOG_FORMAT='%(p)s %(s)s %(M)s %({REMOTE_PORT}e)s')
    return subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "gunicorn.conf.py"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def start_haproxy(port, nodes, folder):
    config = Path(folder) / "haproxy.cfg"
    config.write_text((ROOT / "deploy" / "haproxy.cfg").read_text().replace("log stderr format short local0 warning", ""))
    env = dict(os.environ, NOVADESK_LB_BIND=f"127.0.0.1:{port}", NOVADESK_NODE1=f"127.0.0.1:{nodes[0]}", NOVADESK_NODE2=f"127.0.0.1:{nodes[1]}")
    return subprocess.Popen(["haproxy", "-f", str(config), "-db"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def per_process(log, since):
    counts = collections.Counter()
    with open(log) as handle:
        handle.seek(since)
        for line in handle:
            counts[line.split(" ", 1)[0]] += 1
    return sorted(counts.values(), reverse=True)


def wrk(port, cookie, path, seconds, folder):
    """wrk on `path`; a path ending in `{n}` takes a random number from 1 to n on each request."""
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--timeout", "10s", "--latency", "-H", f"Cookie: {cookie}"]
    randomised = re.match(r"(.*)\{(\d+)\}$", path)
    if randomised:
        script = Path(folder) / "random.lua"
        script.write_text(f'request = function() return wrk.format("GET", "{randomised.group(1)}" .. math.random(1, {randomised.group(2)})) end\n')
        command += ["-s", str(script)]
        path = randomised.group(1) + "1"
    output = subprocess.run(command + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True).stdout

    def ms(text):
        value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    latency = {p: ms(re.search(rf"^\s+{p}%\s+(\S+)", output, re.M).group(1)) for p in ("50", "90", "99")}
    maximum = ms(re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", output).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    timeouts = re.search(r"timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"p50": latency["50"], "p90": latency["90"], "p99": latency["99"], "max": maximum, "rps": rps,
            "timeouts": int(timeouts.group(1)) if timeouts else 0, "errors": int(non_2xx.group(1)) if non_2xx else 0}


def own_client(port, password, path_for, seconds):
    """16 threads, each one keep-alive connection signed in as the agent, for `seconds`."""
    sessions = []
    for _ in range(16):
        session = Session(port)
        session.connection.timeout = 120  # a loaded machine: do not give up on a slow sign-in
        session.sign_in(password)
        sessions.append(session)
    latencies, errors, lock = [], [], threading.Lock()
    deadline = time.perf_counter() + seconds

    def work(session, seed):
        rng = random.Random(seed)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            status, _ = session.request("GET", path_for(rng))
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                if status >= 400:
                    errors.append(status)

    threads = [threading.Thread(target=work, args=(s, i)) for i, s in enumerate(sessions)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    ordered = sorted(latencies)

    def pick(q):
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))]

    return {"p50": pick(0.5), "p90": pick(0.9), "p99": pick(0.99), "max": ordered[-1], "rps": len(ordered) / wall, "timeouts": 0,
            "errors": len(errors)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instance", default="/tmp/novadesk-bench")
    parser.add_argument("--database", help="a PostgreSQL URL instead of the instance's SQLite")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--haproxy", action="store_true", help="HAProxy (deploy/haproxy.cfg) in front of two one-process nodes")
    parser.add_argument("--only", choices=["wrk", "own"], help="one client only")
    args = parser.parse_args()
    env = dict(os.environ, NOVADESK_INSTANCE=args.instance, RATELIMIT_ENABLED="0", WORKER_IN_PROCESS="0")
    env.pop("DATABASE_URL", None)
    if args.database:
        env["DATABASE_URL"] = args.database
    password = env.get("DEMO_PASSWORD", "NovaDesk-demo-2026")
    folder = tempfile.mkdtemp(prefix="novadesk-fairness-")
    log = os.path.join(folder, "access.log")
    servers = []
    try:
        if args.haproxy:
            nodes = [free_port(), free_port()]
            servers = [start_gunicorn(env, node, 1, log) for node in nodes]
            for node in nodes:
                wait_port(node)
            port = free_port()
            servers.append(start_haproxy(port, nodes, folder))
        else:
            port = free_port()
            servers = [start_gunicorn(env, port, args.processes, log)]
        wait_port(port)
        probe = Session(port)
        probe.connection.timeout = 120
        probe.sign_in(password)
        cookie = "; ".join(f"{k}={v}" for k, v in probe.cookies.items())
        total = highest_ticket_id(probe)
        setup = "HAProxy + 2 nodes x 1 process" if args.haproxy else f"gunicorn x {args.processes}"
        print(f"{total} tickets, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {setup}, "
              f"reuse_port={os.environ.get('GUNICORN_REUSE_PORT', 'default')}, load {os.getloadavg()[0]:.1f}")
        print(f"{'client':<6}{'page':<8}{'req/s':>8}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>8}{'tmo':>5}{'err':>5}{'p99/p50':>8}  per process")
        pages = [("ticket", lambda rng: f"/tickets/{rng.randint(1, total)}", f"/tickets/{{{total}}}"),
                 ("list", lambda rng: "/tickets/", "/tickets/")]
        clients = [c for c in ("wrk", "own") if args.only in (None, c)]
        for client in clients:
            for name, path_for, fixed in pages:
                wrk(port, cookie, fixed, 5, folder)  # warm-up, not counted: every process compiles its templates, fills its caches
                since = os.path.getsize(log) if os.path.exists(log) else 0
                result = wrk(port, cookie, fixed, args.seconds, folder) if client == "wrk" else own_client(port, password, path_for, args.seconds)
                spread = per_process(log, since)
                print(f"{client:<6}{name:<8}{result['rps']:>8.1f}{result['p50']:>8.0f}{result['p90']:>8.0f}{result['p99']:>8.0f}"
                      f"{result['max']:>8.0f}{result['timeouts']:>5}{result['errors']:>5}{result['p99'] / result['p50']:>8.1f}  {spread}",
                      flush=True)
    finally:
        for server in servers:
            try:
                os.killpg(server.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                server.terminate()
        for server in servers:
            server.wait(30)


if __name__ == "__main__":
    main()
