"""Measure the dashboards and reports on an instance made by generate_tickets.py (100,000
tickets over two years): the dashboard's data (/dashboard/data) for an agent (all tickets),
a commercial (their clients) and a client (one organisation); a one-year report page (with
its comparison year); the CSV export of every ticket, streamed, and the one-year XLSX.
Requests go through the whole Flask stack in-process (test client, signed in through the
real login page), on SQLite; memory is Python's own allocation peak (tracemalloc) while the
export is read chunk by chunk, next to the size of what was exported.

    .venv/bin/python bench/generate_tickets.py --instance /tmp/novadesk-bench
    .venv/bin/python bench/dashboard.py --instance /tmp/novadesk-bench
"""
import argparse
import os
import resource
import statistics
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PEOPLE = {"agent": "agent1@novalead.com", "commercial": "commercial1@novalead.com", "client": "client@credit-solidaire.sn"}


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


CPU = []  # the process's CPU time of each request measured (ms), beside its wall-clock time


def timed(client, path, runs, profile=None):
    spent = []
    CPU.clear()
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        if profile is not None:
            profile.enable()
        response = client.get(path)
        response.get_data()
        if profile is not None:
            profile.disable()
        spent.append((time.perf_counter() - started) * 1000)
        CPU.append((time.process_time() - cpu) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return spent


def line(label, spent):
    print(f"{label:<30} p50 {statistics.median(spent):6.1f} ms   p95 {percentile(spent, 95):6.1f} ms   CPU per request: median {statistics.median(CPU):6.1f} ms", flush=True)


def signed_in(app, email):
    client = app.test_client()
    response = client.post("/login/", data={"email": email, "password": app.config["DEMO_PASSWORD"]})
    assert response.status_code == 302 and "/login" not in response.headers["Location"], f"sign-in of {email} failed"
    return client


def streamed(client, path):
    """Read a download chunk by chunk, as a slow browser would; returns (bytes, seconds, peak MB)."""
    tracemalloc.start()
    started = time.perf_counter()
    response = client.get(path, buffered=False)
    size = 0
    for chunk in response.response:
        size += len(chunk)
    response.close()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return size, seconds, peak


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instance", default="/tmp/novadesk-bench")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--no-exports", action="store_true", help="dashboards and the report page only")
    parser.add_argument("--database", help="a PostgreSQL URL made by generate_tickets.py --database (else SQLite in --instance)")
    parser.add_argument("--profile", help="write cProfile statistics (CPU time) of the measured dashboard and report requests to PREFIX-*.prof")
    args = parser.parse_args()
    if not args.database and not (Path(args.instance) / "novadesk.db").exists():
        raise SystemExit(f"no database in {args.instance}: run bench/generate_tickets.py first")
    os.environ["NOVADESK_INSTANCE"] = args.instance
    os.environ.pop("DATABASE_URL", None)
    if args.database:
        os.environ["DATABASE_URL"] = args.database
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}; FIGURES_CACHE_SECONDS={os.environ.get('FIGURES_CACHE_SECONDS', '(default)')}")
    os.environ["WORKER_IN_PROCESS"] = "0"

    from app import create_app
    from app.extensions import db
    from app.models import NovaUser, Ticket
    from app.services import clock

    app = create_app({"RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        # The benchmark signs in without the e-mailed code, as generate_tickets.py set for the agent.
        db.session.query(NovaUser).filter(NovaUser.email.in_(PEOPLE.values())).update({NovaUser.two_factor_email: False}, synchronize_session=False)
        db.session.commit()
        total = db.session.query(Ticket).count()
        db.session.remove()
    print(f"{total} tickets in {args.instance}; {args.runs} requests per figure after 3 warm-up requests")

    import cProfile

    def profiler(name):
        return cProfile.Profile(time.process_time) if args.profile else None  # CPU time: fair on a shared machine

    def dump(profile, name):
        if profile is not None:
            profile.dump_stats(f"{args.profile}-{name}.prof")

    for role, email in PEOPLE.items():
        client = signed_in(app, email)
        timed(client, "/dashboard/data", 3)
        profile = profiler(role)
        spent = timed(client, "/dashboard/data", args.runs, profile)
        dump(profile, f"dashboard-{role}")
        line(f"dashboard data, {role}", spent)

    client = signed_in(app, PEOPLE["agent"])
    today = clock.now().date()
    year = f"start={(today - timedelta(days=364)).isoformat()}&end={today.isoformat()}"
    timed(client, f"/reports/?{year}", 1)
    profile = profiler("report")
    spent = timed(client, f"/reports/?{year}", max(5, args.runs // 4), profile)
    dump(profile, "report")
    line("one-year report page, agent", spent)
    print("  (the report compares the year with the one before)")

    if args.no_exports:
        return
    everything = f"start={(today - timedelta(days=800)).isoformat()}&end={today.isoformat()}"
    started = time.perf_counter()
    response = client.get(f"/reports/export.csv?{everything}", buffered=False)
    rows = sum(chunk.count("\n") if isinstance(chunk, str) else chunk.count(b"\n") for chunk in response.response) - 1
    response.close()
    print(f"CSV export of every ticket: {rows} rows in {time.perf_counter() - started:.1f} s")
    size, seconds, peak = streamed(client, f"/reports/export.csv?{everything}")
    print(f"CSV export, memory: {size / 1e6:.1f} MB sent, Python allocation peak {peak:.1f} MB while streaming ({seconds:.1f} s under tracemalloc)")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak memory before the XLSX export: {before:.0f} MB")
    started = time.perf_counter()
    response = client.get(f"/reports/export.xlsx?{year}")
    data = response.get_data()
    print(f"XLSX export, one year: {len(data) / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s")
    print(f"XLSX export, process peak memory so far: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (openpyxl's write-only mode writes rows to a temporary file)")


if __name__ == "__main__":
    main()
