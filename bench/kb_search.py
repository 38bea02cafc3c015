"""Measure the help centre on 10,000 articles: search (anonymous visitor and signed-in client)
and article pages, served by run.py on embedded SQLite, at concurrency 1 and 8. Prints
p50 / p95 latency and requests per second.

The articles are written in bulk (the services would be slow for this) with the same search
documents the services compute: French text from a microfinance vocabulary, every type, every
visibility, 90 % published, and client wiki pages. With --tickets N, bench/generate_tickets.py
first fills the instance with N tickets (the issue asks for 100,000 tickets present).

    .venv/bin/python bench/kb_search.py --instance /tmp/novadesk-kb-bench [--articles 10000] [--tickets 100000]
    .venv/bin/python bench/kb_search.py --instance /tmp/novadesk-kb-bench --skip-generate
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
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CLIENT = "client@credit-solidaire.sn"

SUBJECTS = [
    "remboursement", "échéance", "crédit", "épargne", "compte courant", "clôture journalière", "clôture mensuelle",
    "journal de caisse", "intérêts", "pénalités de retard", "provision", "état réglementaire", "balance", "grand livre",
    "synchronisation", "tablette", "agent de terrain", "collecte", "mot de passe", "double authentification", "utilisateur",
    "agence", "membre", "adhésion", "virement", "prélèvement", "chéquier", "garantie", "caution solidaire", "groupe solidaire",
    "taux effectif global", "tableau d'amortissement", "rééchelonnement", "impayé", "recouvrement", "dépôt à terme",
    "carte bancaire", "mobile money", "rapprochement bancaire", "sauvegarde", "imprimante", "reçu", "export tableur",
]
VERBS = ["saisir", "corriger", "annuler", "valider", "paramétrer", "consulter", "imprimer", "exporter", "calculer", "vérifier",
         "relancer", "clôturer", "synchroniser", "importer", "rembourser", "débloquer", "transférer", "archiver"]
# Verbs of instructions: every article uses them (the domain verbs above name what it is about).
STEPS = ["ouvrir", "choisir", "sélectionner", "enregistrer", "modifier", "afficher", "compléter", "contrôler", "confirmer", "noter"]
FILLER = [  # neutral phrases: every article has some, so they hold no word a reader searches for
    "depuis le menu principal", "dans l'onglet dédié", "avant la fin de la journée", "en cas de doute",
    "sans quitter l'écran", "lorsque la connexion revient", "comme indiqué plus haut", "une fois la saisie terminée",
    "au besoin", "dans la plupart des cas", "si nécessaire", "dès l'ouverture",
]
KINDS = ["faq"] * 4 + ["guide"] * 3 + ["incident"] * 2 + ["release_note"]
VISIBILITIES = ["public"] * 12 + ["partners"] * 4 + ["organisations"] * 2 + ["internal"] * 2

QUERIES = [
    "remboursement en retard", "échéances impayées", "cloture mensuelle", "journal de caisse déséquilibré", "mot de passe oublié",
    "synchroniser la tablette", "intérêts épargne", "tableau d'amortissement", "rééchelonner un crédit", "mobile money virement",
    "imprimer reçu", "export tableur balance", "caution solidaire groupe", "pénalités", "paramétrer agence",
    "double authentification", "dépôt à terme", "rapprochement bancaire", "carte bancaire bloquée", "provision créances",
]


# Words of everyday support prose, so that a text is not only made of subjects.
COMMON = """écran bouton fenêtre message champ liste valeur date montant période fichier rapport ligne colonne
total solde client dossier numéro code référence statut étape option paramètre profil droit accès session
serveur réseau connexion version module traitement contrôle erreur alerte notification historique recherche
filtre tri modèle document signature photo adresse téléphone responsable caissier guichet siège direction
comité décision demande réponse délai semaine trimestre exercice budget objectif indicateur portefeuille
encours risque qualité audit inspection conformité procédure règle exception cas exemple détail""".split()


def sentence(rng, topics):
    """A sentence about one of the article's topics, with ordinary words around it."""
    words = rng.sample(COMMON, 4)
    return (f"{rng.choice(STEPS).capitalize()} {rng.choice(['le', 'la', 'les', 'un', 'une'])} {rng.choice(topics)} "
            f"{rng.choice(FILLER)} : {words[0]}, {words[1]} et {words[2]} du {words[3]}.")


def prepare(instance):
    env = dict(os.environ, NOVADESK_INSTANCE=instance)
    env.pop("DATABASE_URL", None)
    subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "novadesk", "init", "--no-demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    os.environ.update(NOVADESK_INSTANCE=instance)
    os.environ.pop("DATABASE_URL", None)


def generate(count, seed=11):
    from sqlalchemy import insert

    from app import create_app
    from app.extensions import db
    from app.models import KbArticle, KbCategory, NovaUser, Organisation, Product
    from app.models.kb import kb_article_organisation
    from app.services import search
    from seeds.demo import load_demo

    app = create_app({"FAB_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    rng = random.Random(seed)
    with app.app_context():
        if db.session.query(NovaUser).count() == 0:
            load_demo(with_tickets=False)
        # The benchmark signs in without the e-mailed code: its client has the e-mail factor off.
        db.session.query(NovaUser).filter(NovaUser.email == CLIENT).update({NovaUser.two_factor_email: False})
        db.session.commit()
        existing = db.session.query(KbArticle).count()
        if existing >= count:
            print(f"{existing} articles already there")
            return
        author = db.session.query(NovaUser).filter_by(email="agent1@novalead.com").one().id
        categories = [c.id for c in db.session.query(KbCategory)]
        public = [c.id for c in db.session.query(KbCategory).filter(KbCategory.visibility == "public", KbCategory.parent_id.is_(None))]
        for n in range(30):  # more themes, as a real base grows
            category = KbCategory(name=f"Thème {n:02d}", visibility="public", position=20 + n, parent_id=rng.choice(public + [None]))
            db.session.add(category)
        db.session.flush()
        categories = [c.id for c in db.session.query(KbCategory).filter(KbCategory.visibility.in_(["public", "partners"]))]
        products = [p.id for p in db.session.query(Product)]
        clients = [o.id for o in db.session.query(Organisation).filter(Organisation.kind != "vendor")]
        now = datetime.now(timezone.utc)
        started = time.perf_counter()
        batch, rows, links = 1000, [], []
        next_id = (db.session.query(db.func.max(KbArticle.id)).scalar() or 0) + 1
        for n in range(count - existing):
            # An article is about one subject, touching two others, as in a real base.
            topics = rng.sample(SUBJECTS, 3)
            subject = topics[0]
            title = f"{rng.choice(VERBS).capitalize()} {subject} {rng.choice(FILLER)} ({n})"
            weighted = [subject] * 4 + topics[1:]
            paragraphs = ["\n\n".join(" ".join(sentence(rng, weighted) for _ in range(rng.randint(3, 6))) for _ in range(rng.randint(2, 5)))]
            body = f"## {subject.capitalize()}\n\n" + "\n\n".join(paragraphs)
            tags = ", ".join(topics)
            wiki = rng.random() < 0.05
            visibility = "organisations" if wiki else rng.choice(VISIBILITIES)
            created = now - timedelta(days=rng.uniform(0, 700))
            row = {
                "id": next_id, "title": title[:200], "slug": search.normalise(title)[:80].replace(" ", "-"), "summary": sentence(rng, [subject])[:300],
                "body": body, "kind": "wiki" if wiki else rng.choice(KINDS), "category_id": None if wiki else rng.choice(categories),
                "product_id": rng.choice(products), "tags": tags, "language": "fr", "status": "published" if rng.random() < 0.9 else "draft",
                "visibility": visibility, "wiki_organisation_id": rng.choice(clients) if wiki else None, "author_id": author,
                "version": 1, "view_count": rng.randint(0, 5000), "helpful_yes": rng.randint(0, 50), "helpful_no": rng.randint(0, 10),
                "created_on": created, "updated_on": created, "published_on": created,
                "search_title": search.document(title), "search_body": search.document(body), "search_tags": search.document(tags),
            }
            rows.append(row)
            if visibility == "organisations":
                for organisation in ([row["wiki_organisation_id"]] if wiki else rng.sample(clients, 2)):
                    links.append({"article_id": next_id, "organisation_id": organisation})
            next_id += 1
            if len(rows) >= batch:
                db.session.execute(insert(KbArticle), rows)
                if links:
                    db.session.execute(insert(kb_article_organisation), links)
                rows, links = [], []
        if rows:
            db.session.execute(insert(KbArticle), rows)
        if links:
            db.session.execute(insert(kb_article_organisation), links)
        db.session.commit()
        db.session.execute(db.text("INSERT INTO kb_article_fts(kb_article_fts) VALUES ('optimize')"))
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        print(f"{count - existing} articles written in {time.perf_counter() - started:.1f} s")


# --- measuring ---------------------------------------------------------------------------


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

    def sign_in(self, email, password):
        _, page = self.request("GET", "/login/")
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
        status, _ = self.request("POST", "/login/", {"csrf_token": token, "email": email, "password": password})
        assert status == 302, status
        status, page = self.request("GET", "/")
        assert status == 200 and "Bonjour" in page, "sign-in failed"


def run(port, password, signed_in, make_request, concurrency, total):
    sessions = []
    for _ in range(concurrency):
        session = Session(port)
        if signed_in:
            session.sign_in(CLIENT, password)
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
    return {"p50": statistics.median(ordered), "p95": ordered[max(0, int(len(ordered) * 0.95) - 1)], "rps": len(ordered) / wall, "errors": len(errors)}


def measure(instance, requests):
    import sqlite3

    database = sqlite3.connect(Path(instance) / "novadesk.db")
    public_ids = [r[0] for r in database.execute("SELECT id FROM kb_article WHERE status='published' AND visibility='public' AND wiki_organisation_id IS NULL AND category_id IN (SELECT id FROM kb_category WHERE visibility='public')")]
    article_total = database.execute("SELECT count(*) FROM kb_article").fetchone()[0]
    ticket_total = database.execute("SELECT count(*) FROM ticket").fetchone()[0]
    database.close()
    port = free_port()
    env = dict(os.environ, NOVADESK_INSTANCE=instance, PORT=str(port), RATELIMIT_ENABLED="0", WORKER_IN_PROCESS="0")
    env.pop("DATABASE_URL", None)
    password = env.get("DEMO_PASSWORD", "NovaDesk-demo-2026")
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "python"), "run.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(0.5)

        def search_page(session, rng):
            query = urllib.parse.quote_plus(rng.choice(QUERIES))
            return session.request("GET", f"/help/search?q={query}")[0]

        def suggest(session, rng):
            query = urllib.parse.quote_plus(rng.choice(QUERIES))
            return session.request("GET", f"/help/suggest?q={query}")[0]

        def article_page(session, rng):
            return session.request("GET", f"/help/articles/{rng.choice(public_ids)}")[0]

        print(f"{article_total} articles, {ticket_total} tickets, {sys.platform}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}, embedded SQLite, run.py (gevent, 1 process)")
        print(f"{'scenario':<34}{'conc.':>6}{'p50 ms':>9}{'p95 ms':>9}{'req/s':>9}{'errors':>8}")
        def health(session, rng):
            return session.request("GET", "/health")[0]

        for name, scenario, signed_in in [
            ("/health (the machine's baseline)", health, False),
            ("search, visitor", search_page, False),
            ("search, signed-in client", search_page, True),
            ("suggestions (ticket title)", suggest, True),
            ("article page, visitor", article_page, False),
            ("article page, signed-in client", article_page, True),
        ]:
            for concurrency in (1, 8):
                result = run(port, password, signed_in, scenario, concurrency, requests)
                print(f"{name:<34}{concurrency:>6}{result['p50']:>9.1f}{result['p95']:>9.1f}{result['rps']:>9.1f}{result['errors']:>8}", flush=True)
    finally:
        server.terminate()
        server.wait()


def profile(instance, rounds, top):
    """In this process, through Flask's test client: each query of QUERIES `rounds` times as a
    visitor, CPU per request (p50 / p95), SQL statements per request, then cProfile's top."""
    import cProfile
    import io
    import pstats
    import urllib.parse

    from sqlalchemy import event

    os.environ.update(NOVADESK_INSTANCE=instance)
    os.environ.pop("DATABASE_URL", None)
    from app import create_app
    from app.extensions import db

    app = create_app({"WORKER_IN_PROCESS": False, "RATELIMIT_ENABLED": False})
    client = app.test_client()
    paths = [f"/help/search?q={urllib.parse.quote_plus(q)}" for q in QUERIES]
    for path in paths:  # warm up
        assert client.get(path).status_code == 200
    with app.app_context():
        engine = db.engine
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(1))
    cpu = []
    for _ in range(rounds):
        for path in paths:
            started = time.process_time()
            assert client.get(path).status_code == 200
            cpu.append((time.process_time() - started) * 1000)
    cpu.sort()
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    print(f"search, visitor, in-process: {len(cpu)} requests, CPU per request p50 {statistics.median(cpu):.1f} ms, "
          f"p95 {cpu[int(len(cpu) * 0.95) - 1]:.1f} ms, max {cpu[-1]:.1f} ms, {len(statements) / len(cpu):.1f} statements per request (load average {load})")
    per_query = {}
    for path in paths:
        samples = []
        for _ in range(3):
            started = time.process_time()
            client.get(path)
            samples.append((time.process_time() - started) * 1000)
        per_query[urllib.parse.unquote_plus(path.split("=", 1)[1])] = min(samples)
    for query, spent in sorted(per_query.items(), key=lambda kv: -kv[1])[:5]:
        print(f"  {spent:6.1f} ms  {query}")
    if top:
        profiler = cProfile.Profile()
        profiler.enable()
        for path in paths:
            client.get(path)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
        print(out.getvalue())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instance", default="/tmp/novadesk-kb-bench")
    parser.add_argument("--articles", type=int, default=10000)
    parser.add_argument("--tickets", type=int, default=0, help="fill the instance with this many tickets first (bench/generate_tickets.py)")
    parser.add_argument("--requests", type=int, default=320, help="per scenario and concurrency")
    parser.add_argument("--skip-generate", action="store_true")
    parser.add_argument("--profile", type=int, default=0, help="instead of HTTP: each query this many times in-process (CPU per request)")
    parser.add_argument("--top", type=int, default=0, help="with --profile: cProfile's top lines")
    args = parser.parse_args()
    if not args.skip_generate:
        if args.tickets:
            subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "bench/generate_tickets.py", "--instance", args.instance, "--tickets", str(args.tickets)], cwd=ROOT, check=True)
        else:
            prepare(args.instance)
        os.environ.update(NOVADESK_INSTANCE=args.instance)
        os.environ.pop("DATABASE_URL", None)
        generate(args.articles)
    if args.profile:
        profile(args.instance, args.profile, args.top)
    else:
        measure(args.instance, args.requests)


if __name__ == "__main__":
    main()
