"""Several workers at once (A2): jobs that must run in one place — the SLA watch, reading a
mailbox, the directory sources, the retention sweep — run where their lock is free and are
skipped elsewhere; a worker killed while holding one frees it at once (PostgreSQL advisory
lock, or a file lock on the embedded SQLite). Both databases, a real second process."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from app import worker
from app.models import SlaAlert
from app.services import clock, job_locks
from tests.test_sla_watch import mails, urgent, utc  # noqa: F401  (urgent is a fixture)

ROOT = Path(__file__).resolve().parents[1]


def test_the_sla_watch_runs_only_where_its_lock_is_free(app, demo, urgent):  # noqa: F811
    with app.app_context(), job_locks.held("sla-watch") as mine:
        assert mine
        with clock.frozen(utc(9, 5)):
            worker.run_once(app)  # a second worker's pass while the first holds the watch
        demo.session.expire_all()
        assert demo.session.query(SlaAlert).count() == 0
    with clock.frozen(utc(9, 5)):
        worker.run_once(app)
    demo.session.expire_all()
    assert demo.session.query(SlaAlert).count() == 1
    assert len(mails(demo, "sla_breach")) == 2, "each alert mailed once, by one worker"


def test_a_killed_worker_frees_its_jobs_at_once(app, db, tmp_path):
    url = str(db.engine.url.render_as_string(hide_password=False))
    ready = tmp_path / "holding"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from app import create_app
        from app.services import job_locks
        app = create_app({{"SQLALCHEMY_DATABASE_URI": {url!r}, "WORKER_IN_PROCESS": False, "INSTANCE_DIR": {app.config["INSTANCE_DIR"]!r}}})
        with app.app_context(), job_locks.held("retention") as mine:
            assert mine
            open({str(ready)!r}, "w").close()
            time.sleep(120)
    """)], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        deadline = time.time() + 60
        while not ready.exists():
            assert holder.poll() is None and time.time() < deadline, "the other worker did not take the lock"
            time.sleep(0.1)
        with app.app_context(), job_locks.held("retention") as mine:
            assert not mine, "the job is another worker's while it lives"
        with app.app_context(), job_locks.held("sla-watch") as mine:
            assert mine, "other jobs are free"
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        with app.app_context(), job_locks.held("retention") as mine:
            assert mine, "a killed worker's job is taken over at once"
    finally:
        if holder.poll() is None:
            holder.kill()
