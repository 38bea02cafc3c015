"""The queries of the ticket list, a ticket page, the dashboard, a one-year report and the
searches on a big PostgreSQL database (made by generate_tickets.py --database): each page
served once in-process as a support agent, a commercial and a client, every SELECT it ran
timed, then EXPLAINed (ANALYZE with --analyze): the page's time, its slowest statements, and
any Seq Scan of a big table (tests/test_pg_plans.py asserts the same on 50,000 tickets).

    .venv/bin/python bench/pg_plans.py --database postgresql://novadesk:novadesk@127.0.0.1/novadesk_bench6
"""
import argparse
import json
import os
import re
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
BIG_TABLES = {"ticket", "ticket_message", "ticket_event", "ticket_assignee", "satisfaction_rating", "ticket_day_figures"}
PEOPLE = {"agent": "agent1@novalead.com", "commercial": "commercial1@novalead.com", "client": "client@credit-solidaire.sn"}


def _nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _shape(plan):
    """The plan's nodes in a line: 'Index Scan ticket', 'Hash Join', …"""
    return ", ".join(f"{n['Node Type']}{' ' + n['Relation Name'] if n.get('Relation Name') else ''}" for n in _nodes(plan))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--instance", default="/tmp/novadesk-pg-plans")
    parser.add_argument("--analyze", action="store_true", help="EXPLAIN ANALYZE (runs each statement once more)")
    parser.add_argument("--slowest", type=int, default=3)
    args = parser.parse_args()
    Path(args.instance).mkdir(parents=True, exist_ok=True)
    os.environ.update(NOVADESK_INSTANCE=args.instance, DATABASE_URL=args.database, WORKER_IN_PROCESS="0")
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}; FIGURES_CACHE_SECONDS={os.environ.get('FIGURES_CACHE_SECONDS', '(default)')}")

    from dashboard import signed_in
    from sqlalchemy import event, func

    from app import create_app
    from app.extensions import db
    from app.models import NovaUser, Ticket
    from app.security import scopes
    from app.services import clock

    app = create_app({"RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False})
    today = clock.now().date()
    year = f"start={(today - timedelta(days=364)).isoformat()}&end={today.isoformat()}"
    with app.app_context():
        db.session.query(NovaUser).filter(NovaUser.email.in_(PEOPLE.values())).update({NovaUser.two_factor_email: False}, synchronize_session=False)
        db.session.commit()
        people = {role: db.session.query(NovaUser).filter_by(email=email).one() for role, email in PEOPLE.items()}
        newest = {role: db.session.query(func.max(Ticket.id)).filter(scopes.tickets_filter(p)).scalar() for role, p in people.items()}
        db.session.remove()
    bad = []
    for role, email in PEOPLE.items():
        client = signed_in(app, email)
        paths = [
            ("list", "/tickets/"), ("list rows", "/tickets/rows?view=all"), ("list rows, running", "/tickets/rows?view=active"),
            ("list, title search", "/tickets/rows?view=all&q=Moyen"), ("ticket page", f"/tickets/{newest[role]}"),
            ("dashboard data", "/dashboard/data"), ("help-centre search", "/help/search?q=remboursement"),
        ] + ([("one-year report", f"/reports/?{year}")] if role != "client" else [])
        for label, path in paths:
            client.get(path)  # warm
            caught = []

            def before(conn, _cursor, statement, parameters, context, _many):
                conn.info["started"] = time.perf_counter()

            def after(conn, _cursor, statement, parameters, context, _many, caught=caught):
                if statement.lstrip().upper().startswith(("SELECT", "WITH")):
                    caught.append(((time.perf_counter() - conn.info["started"]) * 1000, statement, parameters))

            with app.app_context():
                engine = db.engine
            event.listen(engine, "before_cursor_execute", before)
            event.listen(engine, "after_cursor_execute", after)
            started = time.perf_counter()
            try:
                response = client.get(path)
                response.get_data()
            finally:
                event.remove(engine, "before_cursor_execute", before)
                event.remove(engine, "after_cursor_execute", after)
            spent = (time.perf_counter() - started) * 1000
            in_sql = sum(c[0] for c in caught)
            print(f"{role:<10} {label:<20} {response.status_code} {spent:7.0f} ms, {len(caught):3d} SELECTs {in_sql:7.0f} ms")
            raw = engine.raw_connection()
            try:
                cursor = raw.cursor()
                for ms, statement, parameters in sorted(caught, key=lambda c: -c[0]):
                    cursor.execute(("EXPLAIN (ANALYZE, FORMAT JSON) " if args.analyze else "EXPLAIN (FORMAT JSON) ") + statement, parameters)
                    document = cursor.fetchone()[0]
                    plan = (document if isinstance(document, list) else json.loads(document))[0]["Plan"]
                    seq = [n for n in _nodes(plan) if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in BIG_TABLES]
                    one_line = re.sub(r"\s+", " ", statement)[:150]
                    if seq:
                        bad.append((role, label, [(n["Relation Name"], round(n["Total Cost"])) for n in seq], one_line))
                    if ms >= sorted((c[0] for c in caught), reverse=True)[min(args.slowest, len(caught)) - 1]:
                        print(f"      {ms:6.1f} ms  {one_line}\n               plan: {_shape(plan)[:230]}")
                raw.rollback()
            finally:
                raw.close()
    print("Seq Scans of big tables:" if bad else "No Seq Scan of a big table in any plan.")
    for row in bad:
        print("   ", row)


if __name__ == "__main__":
    main()
