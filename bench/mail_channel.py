"""The e-mail channel's throughput on this machine (issue targets: 50 messages/s into tickets,
100 mails/s out of the outbox).

In: generated messages (new requests from known users, from unknown people of known domains,
replies threaded by reference, an HTML-only one, an auto-reply in ten) go through exactly the
path the IMAP fetcher uses: `mail_in.record` (stored, committed) then `process_pending` (parsed,
identified, threaded, ticket written with its notifications, committed one by one).
Out: that many queued mails sent by `deliver_due_mail` to a local SMTP server (aiosmtpd).

    .venv/bin/python bench/mail_channel.py --instance /tmp/novadesk-mailbench [--messages 1000]
"""
import argparse
import cProfile
import io
import os
import pstats
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SENDERS = ["client@credit-solidaire.sn", "comptable@credit-solidaire.sn", "client@epargneplus.ci", "client@mf-horizon.cm", "client@cpavenir.bj"]


def prepare(instance):
    shutil.rmtree(instance, ignore_errors=True)
    env = dict(os.environ, NOVADESK_INSTANCE=instance)
    env.pop("DATABASE_URL", None)
    subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "novadesk", "init"], cwd=ROOT, env=env, check=True, capture_output=True)
    os.environ.update(NOVADESK_INSTANCE=instance)
    os.environ.pop("DATABASE_URL", None)


def message(n, first_ticket_number):
    kind = n % 10
    if kind == 9:
        return (
            f"From: {SENDERS[n % 5]}\r\nSubject: Absence\r\nMessage-ID: <bench-{n}@bench>\r\nAuto-Submitted: auto-replied\r\n\r\nAbsent.\r\n"
        ).encode()
    if kind in (3, 6):
        return (
            f"From: {SENDERS[n % 5]}\r\nSubject: Re: [{first_ticket_number}] Suivi\r\nMessage-ID: <bench-{n}@bench>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\nMerci, toujours bloqué de notre côté.\r\n\r\n"
            "Le jeu. 26 nov. 2026 à 10:02, Support <support@novadesk.local> a écrit :\r\n> ##- Répondez au-dessus de cette ligne -##\r\n> texte\r\n"
        ).encode()
    if kind == 5:
        return (
            f"From: Personne {n} <p{n}@credit-solidaire.sn>\r\nSubject: Demande {n}\r\nMessage-ID: <bench-{n}@bench>\r\n"
            "Content-Type: text/html; charset=utf-8\r\n\r\n<div><p>Bonjour,</p><p>L'état <b>des prêts</b> ne s'affiche plus.</p></div>\r\n"
        ).encode()
    return (
        f"From: {SENDERS[n % 5]}\r\nSubject: Incident n° {n} sur l'agence\r\nMessage-ID: <bench-{n}@bench>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour,\r\n\r\nLa saisie des remboursements échoue depuis ce matin.\r\n\r\n--\r\nService informatique\r\n"
    ).encode()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--instance", default="/tmp/novadesk-mailbench")
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1, help="worker processes sharing the batch (`flask mail fetch` each)")
    parser.add_argument("--profile", type=int, default=0, help="print the cProfile of the intake, this many lines (one worker)")
    parser.add_argument("--no-outbox", action="store_true", help="measure the intake only")
    args = parser.parse_args()
    with open("/proc/loadavg") as f:
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} UTC, {os.cpu_count()} cores, load average {' '.join(f.read().split()[:3])}")
    prepare(args.instance)

    import logging

    from aiosmtpd.controller import Controller
    from sqlalchemy import event

    from app import create_app
    from app.channels import mail_in
    from app.channels.mail_out import deliver_due_mail
    from app.extensions import db, mail
    from app.models import InboundMail, OutboxMail, OutboxStatus, Ticket
    from app.services import tickets
    from tests.ticket_helpers import user

    logging.getLogger("app.services.mail").setLevel(logging.WARNING)
    app = create_app({"MAIL_FLOOD_PER_HOUR": 10**6})
    with app.app_context():
        first = tickets.create_ticket(user("client@credit-solidaire.sn"), title="Suivi", body="Premier message.")
        db.session.commit()
        raws = [message(n, first.number) for n in range(args.messages)]
        tickets_before = db.session.query(Ticket).count()
        start, cpu_start = time.perf_counter(), time.process_time()
        for raw in raws:
            mail_in.record(raw, "bench")
        recorded = time.perf_counter() - start
        if args.workers > 1:  # several workers claim messages from the same table, none twice
            env = dict(os.environ, MAIL_FLOOD_PER_HOUR=str(10**6), WORKER_IN_PROCESS="0")
            workers = [subprocess.Popen([str(ROOT / ".venv" / "bin" / "flask"), "mail", "fetch"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(args.workers)]
            for worker in workers:
                worker.wait()
            processed = db.session.query(InboundMail).filter(InboundMail.status != "received").count()
        else:
            statements = []
            event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2].split(None, 1)[0].upper()))
            profiler = cProfile.Profile() if args.profile else None
            intake_cpu = time.process_time()
            if profiler:
                profiler.enable()
            processed = mail_in.process_pending(limit=args.messages)
            if profiler:
                profiler.disable()
            intake_cpu = time.process_time() - intake_cpu
            kinds = {k: statements.count(k) for k in set(statements)}
            print(f"intake: {1000 * intake_cpu / args.messages:.1f} ms CPU per message{' (under cProfile)' if profiler else ''}, "
                  f"{len(statements) / args.messages:.1f} statements per message: "
                  + ", ".join(f"{k} {v / args.messages:.1f}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])))
        total, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        made = db.session.query(Ticket).count() - tickets_before
        print(f"in:  {args.messages} messages recorded in {recorded:.2f} s, processed ({processed}) in {total - recorded:.2f} s")
        print(f"     {args.messages / total:.1f} messages/s end to end ({made} new tickets, the rest replies or kept aside)")
        if args.workers == 1:
            print(f"     {1000 * cpu / args.messages:.1f} ms of CPU per message in this process: {args.messages / cpu:.0f} messages/s for one core")
        assert db.session.query(InboundMail).filter_by(status="received").count() == 0
        if args.workers == 1 and args.profile:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.profile)
            print(out.getvalue())
        if args.no_outbox:
            return

        # Out: the notifications the intake queued, plus more, to a local SMTP server.
        class Sink:
            count = 0

            async def handle_DATA(self, server, session, envelope):
                Sink.count += 1
                return "250 OK"

        port = free_port()
        controller = Controller(Sink(), hostname="127.0.0.1", port=port)
        controller.start()
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
        mail.init_app(app)
        db.session.query(OutboxMail).update({OutboxMail.status: OutboxStatus.QUEUED})
        db.session.commit()
        queued = db.session.query(OutboxMail).count()
        start, cpu_start = time.perf_counter(), time.process_time()
        sent = 0
        while True:
            batch, _ = deliver_due_mail()
            if not batch:
                break
            sent += batch
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        controller.stop()
        print(f"out: {sent} of {queued} mails sent in {elapsed:.2f} s: {sent / elapsed:.1f} mails/s (server received {Sink.count})")
        print(f"     {1000 * cpu / max(sent, 1):.1f} ms of CPU per mail (sender and the SMTP server share this process)")


if __name__ == "__main__":
    main()
