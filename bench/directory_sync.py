"""Directory sync of 10,000 contacts (U6; target: under 30 s): a fresh SQLite instance with
the demo data, then one sync through the service (the JSON API's and the worker's door) of
500 organisations and 10,000 contacts — all created —, the same payload again (all
unchanged), and the same with 1,000 contacts changed and 500 gone in a full sync. The same
10,000 contacts as a CSV file go through the file reader too.

    .venv/bin/python bench/directory_sync.py [--contacts 10000] [--instance /tmp/novadesk-bench-sync]
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FIRST = ["Awa", "Moussa", "Fatou", "Ibrahima", "Aïcha", "Koffi", "Mariam", "Serge", "Khady", "Salif", "Oumou", "Yves", "Adjoua", "Paul"]
LAST = ["Diallo", "Traoré", "Ndiaye", "Fall", "Koné", "Mensah", "Sow", "Kouassi", "Sarr", "Compaoré", "Keïta", "Bamba", "Yao", "Ngono"]


def payload(contacts, organisations, seed=7, changed=0, dropped=0):
    rng = random.Random(seed)
    orgs = [{"external_id": f"B-{n:04d}", "name": f"IMF de banc {n:04d}", "kind": "client", "email_domains": f"imf{n:04d}.bench"} for n in range(organisations)]
    people = []
    for n in range(contacts - dropped):
        org = n % organisations
        people.append({
            "external_id": f"P-{n:06d}", "organisation_external_id": f"B-{org:04d}", "first_name": rng.choice(FIRST),
            "last_name": rng.choice(LAST) + ("-2" if n < changed else ""), "email": f"contact{n:06d}@imf{org:04d}.bench",
            "phone": f"+221 77 {n % 1000:03d} {n % 100:02d} {n % 97:02d}",
        })
    return {"organisations": orgs, "contacts": people}


def to_csv(data):
    orgs = {o["external_id"]: o for o in data["organisations"]}
    lines = ["id_organisation;organisation;type;domaines;id_contact;prenom;nom;email;telephone"]
    for c in data["contacts"]:
        o = orgs[c["organisation_external_id"]]
        lines.append(";".join([o["external_id"], o["name"], "client", o["email_domains"], c["external_id"], c["first_name"], c["last_name"], c["email"], c["phone"]]))
    return ("\n".join(lines) + "\n").encode("utf-8")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--organisations", type=int, default=500)
    parser.add_argument("--instance", default="/tmp/novadesk-bench-sync")
    args = parser.parse_args()
    shutil.rmtree(args.instance, ignore_errors=True)
    env = dict(os.environ, NOVADESK_INSTANCE=args.instance)
    env.pop("DATABASE_URL", None)
    subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "novadesk", "init"], cwd=ROOT, env=env, check=True, capture_output=True)
    os.environ.update(NOVADESK_INSTANCE=args.instance)
    os.environ.pop("DATABASE_URL", None)

    from app import create_app
    from app.extensions import db
    from app.models import NovaUser
    from app.services import directory_sync

    app = create_app()

    def run(label, data, full=False, from_csv=False):
        with app.app_context():
            started = time.perf_counter()
            if from_csv:
                orgs, contacts = directory_sync.entries_from_file("annuaire.csv", to_csv(data))
            else:
                orgs, contacts = directory_sync.entries_from_json(data)
            the_plan, _ = directory_sync.sync(None, orgs, contacts, full=full, origin="api", source_label="bench")
            db.session.commit()
            spent = time.perf_counter() - started
            s = the_plan.summary
            print(f"{label:<46} {spent:6.2f} s  created {s['create']:>6}  updated {s['update']:>5}  unchanged {s['unchanged']:>6}  "
                  f"deactivated {s['deactivate']:>4}  errors {s['error']}")
            return spent

    n, orgs = args.contacts, args.organisations
    print(f"{n} contacts in {orgs} organisations, SQLite at {args.instance}")
    first = run("first sync (JSON, all new)", payload(n, orgs))
    run("same payload again (nothing to do)", payload(n, orgs))
    run("1,000 changed, 500 gone (full sync)", payload(n, orgs, changed=1000, dropped=500), full=True)
    run("same contacts from a CSV file", payload(n, orgs, changed=1000, dropped=500), full=True, from_csv=True)
    with app.app_context():
        print(f"partner accounts now: {db.session.query(NovaUser).filter(NovaUser.external_id.isnot(None)).count()}")
    print(f"target: 10,000 contacts under 30 s — {'met' if first < 30 else 'MISSED'} ({first:.1f} s)")


if __name__ == "__main__":
    main()
