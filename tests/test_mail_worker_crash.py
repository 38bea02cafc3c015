"""Kill the mail worker in the middle of a batch and start it again (T10): every recorded
message is processed exactly once, whatever the moment of the kill. The worker runs as its
own process (`flask mail fetch`) on the test database, and is killed with SIGKILL."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from app.channels import mail_in
from app.models import InboundMail, InboundStatus, Ticket, TicketMessage

ROOT = Path(__file__).resolve().parent.parent
COUNT = 120


def message(n):
    return (
        f"From: Agent {n} <agent{n}@credit-solidaire.sn>\r\nTo: support@novalead.test\r\n"
        f"Subject: Incident agence {n}\r\nMessage-ID: <crash-{n}@credit-solidaire.sn>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"L'agence {n} ne peut plus saisir de remboursements.\r\n"
    ).encode()


def worker(app):
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], MAIL_SERVER="", UPLOAD_FOLDER=app.config["UPLOAD_FOLDER"])
    flask = str(Path(sys.executable).parent / "flask")
    return subprocess.Popen([flask, "mail", "fetch"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def processed(url):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM inbound_mail WHERE status = 'processed'")).scalar()
    finally:
        engine.dispose()


def test_killed_mid_batch_then_restarted_processes_each_message_once(app, demo):
    for n in range(COUNT):
        mail_in.record(message(n))
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    first = worker(app)
    deadline = time.monotonic() + 120
    while processed(url) < 20 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    done_before_kill = processed(url)
    assert 0 < done_before_kill < COUNT, "the kill must land in the middle of the batch"

    second = worker(app)
    output, _ = second.communicate(timeout=300)
    assert second.returncode == 0, output

    demo.session.expire_all()
    rows = demo.session.query(InboundMail).all()
    assert len(rows) == COUNT and {r.status for r in rows} == {InboundStatus.PROCESSED}
    assert len({r.ticket_id for r in rows}) == COUNT
    assert demo.session.query(Ticket).count() == COUNT
    assert demo.session.query(TicketMessage).count() == COUNT
