"""Import from the previous help desk (target: at least 200 tickets/s with 3 messages each,
SQLite): a fresh instance with the demo data, a generated JSON export of N closed and open
tickets over three years (3 messages each, requesters with and without accounts, every
status, priority and type name of the old tool), imported through the service the CLI and
the admin screen use; then the same export again (everything already imported).

    .venv/bin/python bench/ticket_import.py [--tickets 5000] [--instance /tmp/novadesk-bench-import]
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ORGS = ["ERP-0101", "ERP-0102", "ERP-0103", "ERP-0104", "ERP-0105", "ERP-0201", "ERP-0202"]
REQUESTERS = ["client@credit-solidaire.sn", "comptable@credit-solidaire.sn", "client@epargneplus.ci", "client@mf-horizon.cm", "ancien@cpavenir.bj"]
AGENTS = ["agent1@novalead.com", "agent2@novalead.com", "agent1b@novalead.com"]
STATUSES = ["Fermé", "Fermé", "Fermé", "Résolu", "en cours", "en attente"]
PRIORITIES = ["haute", "normale", "normale", "basse", "urgente"]
TYPES = ["Problème technique / incident", "Question d'utilisation ou formation", "Incident ancien type"]


def export(count, seed=3):
    rng = random.Random(seed)
    start = datetime(2023, 1, 2, 8, tzinfo=timezone.utc)
    tickets = []
    for n in range(count):
        created = start + timedelta(minutes=rng.randrange(0, 3 * 365 * 24 * 60))
        status = rng.choice(STATUSES)
        requester = rng.choice(REQUESTERS)
        messages = [
            {"author_email": requester, "created_on": created.isoformat(), "body": f"Bonjour, l'écran {n} affiche une erreur au moment de la clôture. " * 3},
            {"author_email": rng.choice(AGENTS), "created_on": (created + timedelta(minutes=rng.randrange(5, 600))).isoformat(), "body": "Pouvez-vous nous envoyer le journal du serveur ?"},
            {"author_email": requester, "created_on": (created + timedelta(minutes=rng.randrange(600, 3000))).isoformat(), "body": "Voici le journal, merci."},
        ]
        tickets.append({
            "reference": f"HD-{n:06d}", "title": f"Erreur de clôture n° {n}", "organisation_external_id": rng.choice(ORGS) if requester.startswith("ancien") else None,
            "requester_email": requester, "status": status, "priority": rng.choice(PRIORITIES), "type": rng.choice(TYPES),
            "channel": rng.choice(["mail", "téléphone", "web"]), "created_on": created.isoformat(),
            "resolved_on": (created + timedelta(days=rng.randrange(1, 10))).isoformat() if status in ("Fermé", "Résolu") else None,
            "messages": messages,
        })
    return {"tickets": tickets}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--instance", default="/tmp/novadesk-bench-import")
    args = parser.parse_args()
    shutil.rmtree(args.instance, ignore_errors=True)
    env = dict(os.environ, NOVADESK_INSTANCE=args.instance)
    env.pop("DATABASE_URL", None)
    subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "novadesk", "init"], cwd=ROOT, env=env, check=True, capture_output=True)
    os.environ.update(NOVADESK_INSTANCE=args.instance)
    os.environ.pop("DATABASE_URL", None)

    from app import create_app
    from app.extensions import db
    from app.models import Ticket, TicketMessage
    from app.services import ticket_import

    app = create_app()
    data = json.dumps(export(args.tickets)).encode()
    print(f"{args.tickets} tickets, 3 messages each ({len(data) / 1e6:.1f} MB of JSON), SQLite at {args.instance}")
    rates = []
    for label in ("first import", "same export again"):
        with app.app_context():
            started = time.perf_counter()
            the_plan, _ = ticket_import.import_tickets(None, ticket_import.read_export_bytes("export.json", data), origin="cli")
            db.session.commit()
            spent = time.perf_counter() - started
            s = the_plan.summary
            rates.append(args.tickets / spent)
            print(f"{label:<20} {spent:6.2f} s  {args.tickets / spent:7.0f} tickets/s  created {s['create']}  already imported {s['unchanged']}  errors {s['error']}")
    with app.app_context():
        print(f"in the database: {db.session.query(Ticket).count()} tickets, {db.session.query(TicketMessage).count()} messages")
    print(f"target: at least 200 tickets/s — {'met' if rates[0] >= 200 else 'MISSED'} ({rates[0]:.0f}/s)")


if __name__ == "__main__":
    main()
