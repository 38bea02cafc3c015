"""Sending the outbox through Flask-Mail, with retries and backoff.

Each message is committed as sent or rescheduled on its own, so a crash mid-batch neither
loses a message nor sends one twice more than the one in flight.
"""
import logging
from datetime import timedelta
from email.utils import make_msgid
from smtplib import SMTPRecipientsRefused

from flask_mail import Message

from app.extensions import db, mail
from app.models import OutboxMail, OutboxStatus
from app.models.types import utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 30  # with the backoff below: about a day and a half of trying


def backoff(attempts):
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def deliver_due_mail(limit=200):
    """Send what is due over one SMTP connection; returns (sent, failed) counts.
    The caller needs an app context."""
    sent = failed = 0
    due = (
        db.session.query(OutboxMail.id)
        .filter(OutboxMail.status == OutboxStatus.QUEUED, OutboxMail.next_attempt_on <= utcnow())
        .order_by(OutboxMail.id)
        .limit(limit)
        .all()
    )
    if not due:
        return sent, failed
    relay = _Relay()
    try:
        for (mail_id,) in due:
            message = db.session.get(OutboxMail, mail_id, with_for_update={"skip_locked": True})
            if message is None or message.status != OutboxStatus.QUEUED:
                db.session.commit()
                continue
            ok = _attempt(relay, message)
            sent, failed = sent + ok, failed + (not ok)
            db.session.commit()
            if not ok and relay.down:
                break  # the relay is unreachable: the rest waits for the next pass
    finally:
        relay.close()
    return sent, failed


class _Relay:
    """One SMTP connection for a batch, opened on first use and reopened after an error."""

    def __init__(self):
        self.connection = None
        self.down = False

    def send(self, msg):
        if self.connection is None:
            try:
                self.connection = mail.connect()
                self.connection.__enter__()
            except Exception:
                self.connection, self.down = None, True
                raise
        try:
            self.connection.send(msg)
        except SMTPRecipientsRefused:
            raise  # the connection is still good: only this address was refused
        except Exception:
            self.close()
            raise

    def close(self):
        if self.connection is not None:
            try:
                self.connection.__exit__(None, None, None)
            except Exception:  # the relay went away: nothing left to close
                pass
            self.connection = None


def _attempt(relay, message):
    """Send one message; True when sent, else it is rescheduled (or given up) with the error."""
    try:
        relay.send(_build(message))
    except Exception as error:  # the relay is down or refused: try again later
        message.attempts += 1
        message.last_error = str(error)[:1000]
        if message.attempts >= MAX_ATTEMPTS:
            message.status = OutboxStatus.FAILED
        else:
            message.next_attempt_on = utcnow() + backoff(message.attempts)
        log.warning("Mail %s to %s not sent (attempt %s): %s", message.id, message.recipient, message.attempts, error)
        return False
    message.status = OutboxStatus.SENT
    message.sent_on = utcnow()
    message.attempts += 1
    message.last_error = None
    if message.carries_secret:  # delivered: the code or link has no business staying here
        message.subject = message.screen_subject
        message.body_text = message.screen_body
        message.body_html = None
    return True


def _build(outbox_mail):
    from app.services.mail import sender_domain

    headers = {
        # Out-of-office and other robots: do not answer (Exchange reads the second one).
        "X-Auto-Response-Suppress": "All",
        "X-Loop": f"novadesk@{sender_domain()}",
        "X-NovaDesk-Outbox": str(outbox_mail.id),
    }
    if outbox_mail.auto_submitted:
        headers["Auto-Submitted"] = "auto-generated"
    if outbox_mail.references_header:
        headers["References"] = outbox_mail.references_header
        headers["In-Reply-To"] = outbox_mail.references_header.split()[-1]
    message = Message(
        subject=outbox_mail.subject,
        recipients=[outbox_mail.recipient],
        body=outbox_mail.body_text,
        html=outbox_mail.body_html,
        reply_to=outbox_mail.reply_to,
        extra_headers=headers,
    )
    # Fixed when queued: a retry resends the same message, and replies quote this id.
    message.msgId = outbox_mail.message_id or make_msgid(idstring=f"outbox-{outbox_mail.id}", domain=sender_domain())
    return message
