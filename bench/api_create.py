"""Ticket creation through the API (issue target: ≥ 100 tickets/s on PostgreSQL).

Two measures on the demo data of a database of its own:
- `--profile N`: N creations in this process through Flask's test client, under cProfile and
  with every SQL statement counted: CPU per request, statements per request, the top functions;
- HTTP: gunicorn (gunicorn.conf.py, `--processes` gevent workers) serving POST /api/v1/ticket/
  with an API key of the agent `agent1@novalead.com`, `--concurrency` keep-alive clients.

    su postgres -c "createdb -O novadesk novadesk_bench"      # once
    .venv/bin/python bench/api_create.py --database postgresql://novadesk:novadesk@127.0.0.1/novadesk_bench --prepare
    .venv/bin/python bench/api_create.py --database postgresql://… --profile 200 --requests 0   # the profile alone
"""
import argparse
import cProfile
import http.client
import io
import json
import os
import pstats
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
AGENT = "agent1@novalead.com"
ADMIN = "admin@novalead.com"
BODY = {"title": "Écart de caisse à l'agence centrale", "body": "Bonjour, un écart de 5 000 FCFA apparaît à la clôture.\n\nMerci."}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(database):
    from sqlalchemy import create_engine, text

    engine = create_engine(database.replace("postgresql://", "postgresql+psycopg2://", 1))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
    engine.dispose()
    env = dict(os.environ, DATABASE_URL=database)
    subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "novadesk", "init"], cwd=ROOT, env=env, check=True, capture_output=True)


def issue_key(app):
    """A read-write key of the agent, and the id of a client organisation to file for."""
    from app.extensions import db
    from app.models import NovaUser, Organisation
    from app.services import api_keys

    with app.app_context(), app.test_request_context():
        admin = db.session.query(NovaUser).filter_by(email=ADMIN).one()
        _, created = api_keys.issue_api_key(admin, AGENT, f"bench-{time.time():.0f}", scopes=api_keys.READ_WRITE)
        organisation = db.session.query(Organisation).filter(Organisation.kind != "vendor", Organisation.active.is_(True)).order_by(Organisation.id).first()
        db.session.commit()
        return created["key"], organisation.id


def profile(app, key, organisation_id, count, top):
    from sqlalchemy import event

    from app.extensions import db

    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    payload = dict(BODY, organisation_id=organisation_id)
    for _ in range(10):  # warm up: first requests load templates, permissions, caches
        assert client.post("/api/v1/ticket/", json=payload, headers=headers).status_code == 201
    statements = []
    with app.app_context():
        engine = db.engine

    timings = {}

    def count_statement(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.split(None, 1)[0].upper())
        conn.info["bench_started"] = time.perf_counter()

    def time_statement(conn, cursor, statement, parameters, context, executemany):
        spent = time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
        shape = " ".join(statement.split())[:110]
        total, calls = timings.get(shape, (0.0, 0))
        timings[shape] = (total + spent, calls + 1)

    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        assert client.post("/api/v1/ticket/", json=payload, headers=headers).status_code == 201
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"in-process: {count} creations, {1000 * cpu / count:.1f} ms CPU and {1000 * wall / count:.1f} ms wall per request "
          f"(this process: client, Flask and the driver; PostgreSQL's own CPU not included)")
    event.listen(engine, "before_cursor_execute", count_statement)
    event.listen(engine, "after_cursor_execute", time_statement)
    profiler = cProfile.Profile()
    cpu, wall = time.process_time(), time.perf_counter()
    profiler.enable()
    for _ in range(count):
        response = client.post("/api/v1/ticket/", json=payload, headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)[:300]
    profiler.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    event.remove(engine, "before_cursor_execute", count_statement)
    event.remove(engine, "after_cursor_execute", time_statement)
    kinds = {}
    for kind in statements:
        kinds[kind] = kinds.get(kind, 0) + 1
    print(f"profile: {count} creations in-process, {1000 * cpu / count:.1f} ms CPU and {1000 * wall / count:.1f} ms wall per request "
          f"(under cProfile), {len(statements) / count:.1f} statements per request: "
          + ", ".join(f"{k} {v / count:.1f}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])))
    print("statements taking the most time (ms per request, calls per request):")
    for shape, (total, calls) in sorted(timings.items(), key=lambda kv: -kv[1][0])[:12]:
        print(f"  {1000 * total / count:7.2f} ms {calls / count:5.1f}×  {shape}")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[-(top + 6) * 200:])


def http_run(database, key, organisation_id, processes, concurrency, total):
    port = free_port()
    env = dict(os.environ, DATABASE_URL=database, PORT=str(port), WORKER_IN_PROCESS="0", WEB_CONCURRENCY=str(processes))
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "gunicorn.conf.py"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        body = json.dumps(dict(BODY, organisation_id=organisation_id))
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        latencies, errors, lock = [], [], threading.Lock()

        def worker(n):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            for _ in range(n):
                started = time.perf_counter()
                connection.request("POST", "/api/v1/ticket/", body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                with lock:
                    latencies.append((time.perf_counter() - started) * 1000)
                    if response.status != 201:
                        errors.append(response.status)

        warm = [threading.Thread(target=worker, args=(5,)) for _ in range(concurrency)]
        for thread in warm:
            thread.start()
        for thread in warm:
            thread.join()
        latencies.clear()
        threads = [threading.Thread(target=worker, args=(total // concurrency,)) for _ in range(concurrency)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        ordered = sorted(latencies)
        print(f"http: gunicorn {processes} gevent worker(s), concurrency {concurrency}, {len(ordered)} creations: "
              f"{len(ordered) / wall:.1f} tickets/s, p50 {statistics.median(ordered):.1f} ms, "
              f"p95 {ordered[max(0, int(len(ordered) * 0.95) - 1)]:.1f} ms, errors {len(errors)} {sorted(set(errors))}")
    finally:
        server.terminate()
        server.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="postgresql://… (emptied by --prepare) or sqlite:///…")
    parser.add_argument("--prepare", action="store_true", help="empty the database and load the demo first")
    parser.add_argument("--profile", type=int, default=100, help="creations profiled in-process (0: none)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--requests", type=int, default=800, help="creations over HTTP (0: none)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    with open("/proc/loadavg") as f:
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} UTC, {os.cpu_count()} cores, load average {' '.join(f.read().split()[:3])}")
    if args.prepare:
        prepare(args.database)
    os.environ["DATABASE_URL"] = args.database
    import logging

    from app import create_app

    app = create_app({"WORKER_IN_PROCESS": False})
    logging.getLogger("app.services.mail").setLevel(logging.WARNING)  # the development mailbox prints every mail
    key, organisation_id = issue_key(app)
    if args.profile:
        profile(app, key, organisation_id, args.profile, args.top)
    if args.requests:
        http_run(args.database, key, organisation_id, args.processes, args.concurrency, args.requests)
    with open("/proc/loadavg") as f:
        print(f"load average at the end {' '.join(f.read().split()[:3])}")


if __name__ == "__main__":
    main()
