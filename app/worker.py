"""Background work: the SLA watch and the outbox sender; later mail fetch, directory sync.

In the embedded default it runs as a greenlet inside the server (`run.py`); scaled out,
`flask novadesk worker` runs it as its own process.
"""
import logging
import threading

log = logging.getLogger(__name__)
_wake = threading.Event()


def wake():
    """Ask the worker to look at the outbox now rather than at its next tick."""
    _wake.set()


def run_once(app):
    """One pass: SLA deadlines first (their mails then leave in the same pass), then the outbox.
    Each job commits on its own; one failing does not stop the other."""
    from app.channels.mail_out import deliver_due_mail
    from app.extensions import db
    from app.services.sla_watch import check_deadlines

    with app.app_context():
        try:
            check_deadlines()
            db.session.commit()
        except Exception:
            log.exception("SLA watch pass failed")
            db.session.rollback()
        try:
            return deliver_due_mail()
        except Exception:
            log.exception("worker pass failed")
            db.session.rollback()
            return (0, 0)


def run_forever(app, stop=None):
    interval = app.config["WORKER_INTERVAL_SECONDS"]
    log.info("worker started (every %ss)", interval)
    while stop is None or not stop.is_set():
        run_once(app)
        _wake.wait(interval)
        _wake.clear()


def maybe_start_in_process(app):
    """Start the worker beside the server when the server asked for it (run.py does)."""
    if not (app.config.get("START_WORKER") and app.config.get("WORKER_IN_PROCESS")):
        return None
    thread = threading.Thread(target=run_forever, args=(app,), name="novadesk-worker", daemon=True)
    thread.start()
    return thread
