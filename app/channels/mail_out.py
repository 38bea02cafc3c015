"""Sending the outbox through Flask-Mail, with retries and backoff.

Each message is committed as sent or rescheduled on its own, so a crash mid-batch neither
loses a message nor sends one twice more than the one in flight.
"""
import logging
from datetime import timedelta
from email.utils import make_msgid

from flask import current_app
from flask_mail import Message

from app.extensions import db, mail
from app.models import OutboxMail, OutboxStatus
from app.models.types import utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 30  # with the backoff below: about a day and a half of trying


def backoff(attempts):
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def deliver_due_mail(limit=50):
    """Send what is due; returns (sent, failed) counts. The caller needs an app context."""
    sent = failed = 0
    due = (
        db.session.query(OutboxMail.id)
        .filter(OutboxMail.status == OutboxStatus.QUEUED, OutboxMail.next_attempt_on <= utcnow())
        .order_by(OutboxMail.id)
        .limit(limit)
        .all()
    )
    for (mail_id,) in due:
        message = db.session.get(OutboxMail, mail_id, with_for_update={"skip_locked": True})
        if message is None or message.status != OutboxStatus.QUEUED:
            db.session.commit()
            continue
        try:
            _send(message)
        except Exception as error:  # the relay is down or refused: try again later
            message.attempts += 1
            message.last_error = str(error)[:1000]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = OutboxStatus.FAILED
            else:
                message.next_attempt_on = utcnow() + backoff(message.attempts)
            failed += 1
            log.warning("Mail %s to %s not sent (attempt %s): %s", message.id, message.recipient, message.attempts, error)
        else:
            message.status = OutboxStatus.SENT
            message.sent_on = utcnow()
            message.attempts += 1
            message.last_error = None
            sent += 1
        db.session.commit()
    return sent, failed


def _send(outbox_mail):
    domain = current_app.config["MAIL_DEFAULT_SENDER"].rsplit("@", 1)[-1].strip("> ")
    msg = Message(
        subject=outbox_mail.subject,
        recipients=[outbox_mail.recipient],
        body=outbox_mail.body_text,
        html=outbox_mail.body_html,
        extra_headers={
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
            "Message-ID": make_msgid(idstring=f"outbox-{outbox_mail.id}", domain=domain),
        },
    )
    mail.send(msg)
