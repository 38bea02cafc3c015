"""Background work: incoming mail (IMAP IDLE watches or polling, processing what was recorded), the SLA
watch, the outbox sender, the webhook sender, the scheduled directory sync, the personal-data
retention, the live chat's housekeeping.

In the embedded default it runs as a greenlet inside the server (`run.py`); scaled out,
`flask novadesk worker` runs it as its own process.
"""
import logging
import threading
import time

log = logging.getLogger(__name__)
_wake = threading.Event()
_last_poll = {"at": 0.0}


def wake():
    """Ask the worker to look at the outbox now rather than at its next tick."""
    _wake.set()


def on_event(event):
    """Event sink: a service recorded work that is due now."""
    if event.kind == "worker.wake":
        wake()


def run_once(app, watch_mail=False):
    """One pass: keep mailboxes watched (IMAP IDLE) when asked, read the others when due,
    process recorded mail, watch SLA deadlines (their mails then leave in the same pass), send
    the outbox. Each step is guarded alone: a failing mailbox never holds up the outbox.
    Mailboxes are reached through the application's mail reader (app/services/mail_reading.py)."""
    from app.channels.mail_out import deliver_due_mail
    from app.services.mail_reading import reader

    with app.app_context():
        mail = reader()
        if watch_mail:
            _guarded(mail.watch, app, wake)  # a watched mailbox's lock is held: polling skips it
        if time.monotonic() - _last_poll["at"] >= app.config["MAIL_POLL_SECONDS"]:
            _last_poll["at"] = time.monotonic()
            _guarded(mail.fetch_all, app.config["MAIL_MAX_MESSAGE_MB"] * 2 * 1024 * 1024)
        _guarded(mail.process_pending)
        _guarded(_watch_sla)
        _guarded(_deliver_webhooks)
        _guarded(_chat_housekeeping)
        _guarded(_sync_directory)
        _guarded(_apply_retention)
        return _guarded(deliver_due_mail) or (0, 0)


def _deliver_webhooks():
    from app.channels.webhook_out import deliver_due_webhooks

    return deliver_due_webhooks()


def _exclusive(name):
    """Run the step only where nobody else runs it now (several workers, A2)."""

    def wrap(step):
        def guarded_step(*args):
            from app.services.job_locks import held

            with held(name) as mine:
                return step(*args) if mine else None

        guarded_step.__name__ = step.__name__
        return guarded_step

    return wrap


@_exclusive("sla-watch")
def _watch_sla():
    from app.extensions import db
    from app.services.sla_watch import check_deadlines

    raised = check_deadlines()
    db.session.commit()
    return raised


def _chat_housekeeping():
    """Console connections of a process that stopped without saying goodbye."""
    from app.extensions import db
    from app.services.chat import forget_stale_presence

    forget_stale_presence()
    db.session.commit()
@_exclusive("directory-sources")
def _sync_directory():
    from app.services.directory_sources import run_due_sources

    return run_due_sources()


@_exclusive("retention")
def _apply_retention():
    from app.extensions import db
    from app.services.personal_data import apply_retention

    done = apply_retention()
    db.session.commit()
    return done


def _guarded(step, *args):
    from app.extensions import db

    try:
        return step(*args)
    except Exception:
        log.exception("worker step %s failed", step.__name__)
        db.session.rollback()
        return None


def run_forever(app, stop=None):
    interval = app.config["WORKER_INTERVAL_SECONDS"]
    log.info("worker started (every %ss)", interval)
    try:
        while stop is None or not stop.is_set():
            run_once(app, watch_mail=True)
            _wake.wait(interval)
            _wake.clear()
    finally:
        from app.services.mail_reading import reader

        with app.app_context():
            reader().stop_watching()


def maybe_start_in_process(app):
    """Start the worker beside the server when the server asked for it (run.py does)."""
    if not (app.config.get("START_WORKER") and app.config.get("WORKER_IN_PROCESS")):
        return None
    thread = threading.Thread(target=run_forever, args=(app,), name="novadesk-worker", daemon=True)
    thread.start()
    return thread
