"""Make a NovaDesk instance holding 100,000 tickets, for bench/ticket_desk.py.

A realistic mix: the demo organisations and people plus 40 more partner organisations with
3 people each, tickets over two years in every status, priority, type and channel, about
three messages per ticket (some internal notes) and a few history lines each, assignees,
business minutes of first answer and resolution, and satisfaction ratings on 40% of the
resolved tickets.
Rows are written in bulk (the services would take an hour for this): multi-row INSERTs on
SQLite, COPY on PostgreSQL; the numbers, SLA fields and denormalised columns are filled as the
services would, and the reports' per-day figures are counted once at the end (the services
keep them; bulk rows go around them).

    .venv/bin/python bench/generate_tickets.py --instance /tmp/novadesk-bench [--tickets 100000]
    .venv/bin/python bench/generate_tickets.py --database postgresql://novadesk:novadesk@127.0.0.1/novadesk_bench6 --tickets 1000000
"""
import argparse
import csv
import io
import os
import random
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def prepare(instance, database=None):
    env = dict(os.environ, NOVADESK_INSTANCE=instance)
    env.pop("DATABASE_URL", None)
    if database:
        env["DATABASE_URL"] = database
    subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "novadesk", "init", "--no-demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    os.environ.update(NOVADESK_INSTANCE=instance)
    os.environ.pop("DATABASE_URL", None)
    if database:
        os.environ["DATABASE_URL"] = database


def _csv_value(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def write(session, table, rows):
    """Many rows at once: COPY on PostgreSQL, a multi-row INSERT elsewhere."""
    from sqlalchemy import insert

    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    columns = list(rows[0])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["\\N" if row[c] is None else _csv_value(row[c]) for c in columns])
    buffer.seek(0)
    names = ", ".join(f'"{c}"' for c in columns)
    cursor = connection.connection.driver_connection.cursor()
    cursor.copy_expert(f'COPY "{table.name}" ({names}) FROM STDIN WITH (FORMAT csv, NULL \'\\N\')', buffer)


def generate(count, seed=7):
    from sqlalchemy import text

    from app import create_app
    from app.extensions import db
    from app.models import (
        NovaUser,
        Organisation,
        Priority,
        Product,
        Queue,
        RequestType,
        SatisfactionRating,
        StatusCategory,
        Ticket,
        TicketEvent,
        TicketMessage,
        TicketStatus,
    )
    from app.models.tickets import ticket_assignee
    from app.services import business_hours
    from seeds import factories
    from seeds.demo import load_demo

    app = create_app({"FAB_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    rng = random.Random(seed)
    with app.app_context():
        load_demo(with_tickets=False)
        password = app.config["DEMO_PASSWORD"]
        for n in range(40):
            organisation = factories.organisation(f"IMF Banc d'essai {n:02d}", email_domains=f"imf{n:02d}.bench")
            for k in range(3):
                factories.user(f"agent{k}@imf{n:02d}.bench", "Utilisateur", f"{n:02d}-{k}", "Client", password, organisation=organisation)
        # The benchmark signs in without the e-mailed code: its agent has the e-mail factor off.
        db.session.query(NovaUser).filter(NovaUser.email == "agent1@novalead.com").update({NovaUser.two_factor_email: False})
        db.session.commit()
        organisations = db.session.query(Organisation).filter(Organisation.kind != "vendor").all()
        members = {o.id: [u.id for u in o.members] for o in organisations}
        agents = [u.id for u in db.session.query(NovaUser).filter(NovaUser.email.like("agent%@novalead.com"))]
        statuses = db.session.query(TicketStatus).all()
        weights = {StatusCategory.NEW: 5, StatusCategory.OPEN: 12, StatusCategory.PENDING: 5, StatusCategory.RESOLVED: 18, StatusCategory.CLOSED: 60}
        status_weights = [weights[s.category] for s in statuses]
        priorities = db.session.query(Priority).all()
        types = [t.id for t in db.session.query(RequestType)]
        products = [p.id for p in db.session.query(Product)]
        queues = [q.id for q in db.session.query(Queue)]
        prefix = app.config["TICKET_PREFIX"]
        now = datetime.now(timezone.utc)
        channels = ["web"] * 5 + ["email"] * 3 + ["phone", "chat", "api"]
        calendar = business_hours.Calendar()  # the default calendar, as the demo data uses
        minutes = lambda start, end: None if end is None else round(business_hours.business_minutes_between(calendar, start, end))  # noqa: E731
        batch = 5000
        started = time.perf_counter()
        next_id = 1
        for offset in range(0, count, batch):
            tickets, messages, events, assignees, ratings = [], [], [], [], []
            for _ in range(min(batch, count - offset)):
                ticket_id = next_id
                next_id += 1
                organisation = rng.choice(organisations)
                requester = rng.choice(members[organisation.id]) if members[organisation.id] else None
                status = rng.choices(statuses, status_weights)[0]
                priority = rng.choice(priorities)
                created = now - timedelta(days=rng.uniform(0, 730), seconds=rng.uniform(0, 86400))
                last = min(now, created + timedelta(hours=rng.uniform(0.1, 200)))
                agent = rng.choice(agents)
                responded = created + timedelta(hours=rng.uniform(0.1, 30)) if status.category != StatusCategory.NEW else None
                resolved = last if status.category in StatusCategory.DONE else None
                tickets.append({
                    "id": ticket_id, "number": f"{prefix}-{ticket_id:06d}", "title": f"Demande {ticket_id} : écart sur l'état des remboursements",
                    "organisation_id": organisation.id, "requester_id": requester, "type_id": rng.choice(types),
                    "product_id": rng.choice(products), "priority_id": priority.id, "status_id": status.id,
                    "status_category": status.category, "channel": rng.choice(channels), "queue_id": rng.choice(queues),
                    "created_by_id": requester or agent, "created_on": created, "last_activity_on": last, "last_activity_by_id": agent,
                    "first_response_due": created + timedelta(minutes=priority.first_response_minutes * 3),
                    "resolution_due": created + timedelta(minutes=priority.resolution_minutes * 3),
                    "first_responded_on": responded, "first_response_minutes": minutes(created, responded),
                    "resolved_on": resolved, "resolution_minutes": minutes(created, resolved),
                    "closed_on": last if status.category == StatusCategory.CLOSED else None, "sla_paused_minutes": 0,
                    "assigned": status.category != StatusCategory.NEW,
                })
                if status.category != StatusCategory.NEW:
                    assignees.append({"ticket_id": ticket_id, "user_id": agent})
                if resolved is not None and requester is not None and rng.random() < 0.4:
                    ratings.append({"ticket_id": ticket_id, "score": rng.choices([5, 4, 3, 2, 1], [40, 30, 15, 10, 5])[0], "rated_by_id": requester,
                                    "via": "email", "rated_on": resolved + timedelta(hours=rng.uniform(1, 48)), "comment": None})
                for position in range(rng.choice([2, 3, 3, 4])):
                    author = requester if position % 2 == 0 else agent
                    messages.append({
                        "ticket_id": ticket_id, "author_id": author, "internal": position == 3,
                        "body": "Bonjour, l'état des remboursements du mois présente un écart avec le grand livre. " * 3,
                        "channel": "web", "created_on": created + timedelta(hours=position),
                    })
                events.append({"ticket_id": ticket_id, "at": created, "actor_id": requester or agent, "action": "created", "new_value": f"{prefix}-{ticket_id:06d}", "internal": False})
                events.append({"ticket_id": ticket_id, "at": last, "actor_id": agent, "action": "status", "field": "status", "new_value": status.name, "internal": False})
            write(db.session, Ticket.__table__, tickets)
            write(db.session, TicketMessage.__table__, messages)
            write(db.session, TicketEvent.__table__, events)
            write(db.session, ticket_assignee, assignees)
            write(db.session, SatisfactionRating.__table__, ratings)
            db.session.commit()
            if (offset // batch) % 10 == 0 or offset + batch >= count:
                print(f"  {offset + len(tickets):>7} tickets ({time.perf_counter() - started:.0f} s)", flush=True)
        if db.session.connection().dialect.name == "postgresql":
            db.session.execute(text("SELECT setval(pg_get_serial_sequence('ticket', 'id'), (SELECT max(id) FROM ticket))"))
            db.session.commit()
        print(f"rows written in {time.perf_counter() - started:.0f} s", flush=True)
        from app.services import rollups

        counted = time.perf_counter()
        rollups.rebuild_in_sql(db.session.connection())
        db.session.commit()
        print(f"per-day figures counted in {time.perf_counter() - counted:.0f} s", flush=True)
        if db.session.connection().dialect.name == "postgresql":
            analysed = time.perf_counter()
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
            print(f"VACUUM ANALYZE in {time.perf_counter() - analysed:.0f} s", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instance", default="/tmp/novadesk-bench")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--database", help="a PostgreSQL URL of an empty database (else SQLite in --instance)")
    args = parser.parse_args()
    Path(args.instance).mkdir(parents=True, exist_ok=True)
    database = Path(args.instance) / "novadesk.db"
    if database.exists() and not args.database:
        raise SystemExit(f"{database} exists: choose an empty --instance")
    started = time.perf_counter()
    prepare(args.instance, args.database)
    generate(args.tickets)
    if args.database:
        print(f"ready: {args.database} in {time.perf_counter() - started:.0f} s")
    else:
        print(f"ready: {database} ({database.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
