"""Kill the mail worker in the middle of a batch and start it again (T10): every recorded
message is processed exactly once. The worker runs as its own process (`flask mail fetch`) on
the test database and is killed with SIGKILL.

Where the kill lands is not left to chance: a trigger in the database stalls the claim of one
message of the batch (a long query on SQLite, `pg_sleep` on PostgreSQL). The messages before it
are processed 20 per transaction (each in a savepoint of its own): the batches before it are
committed, the worker sits inside the open transaction of the stalled one's batch, the rest
wait; the test checks that this is the state it kills, then removes the trigger and restarts
the worker."""
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.channels import mail_in
from app.models import InboundMail, InboundStatus, Ticket, TicketMessage

ROOT = Path(__file__).resolve().parent.parent
COUNT = 120
STALLED = 2 * mail_in.PROCESS_BATCH + 5  # inside the third transaction's batch (messages are processed 20 per transaction)
DONE = 2 * mail_in.PROCESS_BATCH  # committed when the kill lands: the two batches before; none of the third
WORKER_NAME = "novadesk-crash-test-worker"  # its PostgreSQL sessions, found in pg_stat_activity

# SQLite cannot sleep in a trigger (nor use a WITH clause there): a count over a five-fold cross
# join of the 120 messages (25 billion rows) keeps the worker busy for hours.
SQLITE_STALL = """
CREATE TRIGGER stall_one_claim BEFORE UPDATE ON inbound_mail WHEN OLD.id = {id}
BEGIN
    SELECT count(*) FROM inbound_mail a, inbound_mail b, inbound_mail c, inbound_mail d, inbound_mail e;
END
"""
POSTGRES_STALL = [
    """CREATE FUNCTION stall_one_claim() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
           IF OLD.id = {id} THEN PERFORM pg_sleep(3600); END IF;
           RETURN NEW;
       END $$""",
    "CREATE TRIGGER stall_one_claim BEFORE UPDATE ON inbound_mail FOR EACH ROW EXECUTE FUNCTION stall_one_claim()",
]
POSTGRES_UNSTALL = ["DROP TRIGGER IF EXISTS stall_one_claim ON inbound_mail", "DROP FUNCTION IF EXISTS stall_one_claim()"]


def message(n):
    return (
        f"From: Agent {n} <agent{n}@credit-solidaire.sn>\r\nTo: support@novalead.test\r\n"
        f"Subject: Incident agence {n}\r\nMessage-ID: <crash-{n}@credit-solidaire.sn>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"L'agence {n} ne peut plus saisir de remboursements.\r\n"
    ).encode()


def worker(app):
    env = dict(
        os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], MAIL_SERVER="", UPLOAD_FOLDER=app.config["UPLOAD_FOLDER"],
        PGAPPNAME=WORKER_NAME,
    )
    flask = str(Path(sys.executable).parent / "flask")
    return subprocess.Popen([flask, "mail", "fetch"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


class Database:
    """The test's own connection to the database the worker uses."""

    def __init__(self, url):
        self.url = make_url(url)
        self.engine = create_engine(url)
        self.postgres = self.url.get_backend_name() == "postgresql"

    def run(self, *statements):
        with self.engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))

    def scalar(self, statement, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(statement), params).scalar()

    def processed(self):
        return self.scalar("SELECT count(*) FROM inbound_mail WHERE status = 'processed'")

    def stall_claim_of(self, inbound_id):
        if self.postgres:
            self.run(*(statement.replace("{id}", str(int(inbound_id))) for statement in POSTGRES_STALL))
        else:
            self.run(SQLITE_STALL.replace("{id}", str(int(inbound_id))))

    def worker_inside_stalled_claim(self):
        """True while the worker is in the middle of the stalled message: its claim (an UPDATE
        of inbound_mail) has started and its transaction is neither committed nor rolled back."""
        if self.postgres:
            return bool(self.scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name AND state = 'active'"
                " AND wait_event = 'PgSleep' AND query LIKE 'UPDATE inbound_mail%'",
                name=WORKER_NAME,
            ))
        # SQLite has one writer at a time: the worker holds the write lock only inside a claim.
        probe = sqlite3.connect(self.url.database, timeout=0)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.rollback()
            return False
        except sqlite3.OperationalError as error:
            if "locked" not in str(error):
                raise
            return True
        finally:
            probe.close()

    def unstall(self):
        if self.postgres:
            # The killed worker's server session would sleep on; end it, then drop the trigger.
            self.scalar("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = :name", name=WORKER_NAME)
            self.run(*POSTGRES_UNSTALL)
        else:
            self.run("DROP TRIGGER IF EXISTS stall_one_claim")

    def close(self):
        self.engine.dispose()


def test_killed_mid_batch_then_restarted_processes_each_message_once(app, demo):
    ids = [mail_in.record(message(n))[0].id for n in range(COUNT)]
    demo.session.rollback()  # reading the ids opened a transaction; PostgreSQL's DROP TRIGGER would wait for it
    database = Database(app.config["SQLALCHEMY_DATABASE_URI"])
    first = None
    try:
        database.stall_claim_of(ids[STALLED - 1])
        first = worker(app)
        deadline = time.monotonic() + 180
        while not (database.processed() == DONE and database.worker_inside_stalled_claim()):
            assert first.poll() is None, "the worker stopped before reaching the stalled message: " + first.communicate()[1].decode()[-2000:]
            assert time.monotonic() < deadline, f"the worker never reached the stalled message ({database.processed()} processed)"
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait()
        # The kill landed inside the third batch: the two batches before it, and nothing of it.
        assert database.processed() == DONE
        assert first.returncode == -signal.SIGKILL
    finally:
        if first is not None and first.poll() is None:
            first.kill()
            first.wait()
        database.unstall()
        database.close()

    second = worker(app)
    output, errors = second.communicate(timeout=300)
    assert second.returncode == 0, errors.decode()[-2000:]
    assert f"{COUNT - DONE} traité(s)" in output.decode()  # the rest, the stalled batch included

    demo.session.expire_all()
    rows = demo.session.query(InboundMail).all()
    assert len(rows) == COUNT and {r.status for r in rows} == {InboundStatus.PROCESSED}
    assert all(r.attempts == 1 for r in rows)  # the stalled claim was never committed
    assert len({r.ticket_id for r in rows}) == COUNT
    assert demo.session.query(Ticket).count() == COUNT
    assert demo.session.query(TicketMessage).count() == COUNT
