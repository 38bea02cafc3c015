"""Admin actions on the e-mail channel: mailbox settings checked, messages put back in
processing, outbox mail sent again, a mailbox tested. Each leaves an activity-log entry."""
from flask_babel import gettext as _

from app.extensions import db
from app.models import InboundStatus, MailboxSecurity, OutboxStatus
from app.services import ServiceError, audit, clock, events, mail_reading


def check_mailbox(mailbox):
    mailbox.host = (mailbox.host or "").strip()
    mailbox.folder = (mailbox.folder or "").strip() or "INBOX"
    mailbox.address = (mailbox.address or "").strip().lower() or None
    if mailbox.security not in MailboxSecurity.ALL:
        raise ServiceError(_("Choisissez le chiffrement de la connexion."))
    if not mailbox.port or not 0 < int(mailbox.port) < 65536:
        raise ServiceError(_("Le port doit être compris entre 1 et 65535."))
    if not mailbox.host or " " in mailbox.host:
        raise ServiceError(_("Indiquez le nom du serveur IMAP."))
    if mailbox.address and "@" not in mailbox.address:
        raise ServiceError(_("L'adresse de la boîte doit être une adresse e-mail."))


def retry_inbound(actor, messages):
    """Messages kept aside or that failed go back to processing; processed ones stay as they are."""
    done = 0
    for message in messages:
        if message.status in (InboundStatus.FAILED, InboundStatus.IGNORED):
            message.status = InboundStatus.RECEIVED
            message.error = None
            message.outcome = "Remis en traitement."
            audit.record(db.session, "mail.inbound_retried", actor=actor, target=message)
            done += 1
    db.session.flush()
    if done:
        _wake_worker_on_commit()
    return done


def retry_outbox(actor, mails):
    """Failed or waiting mail is sent at the next pass, with a fresh set of attempts."""
    done = 0
    for mail in mails:
        if mail.status in (OutboxStatus.FAILED, OutboxStatus.QUEUED):
            mail.status = OutboxStatus.QUEUED
            mail.attempts = 0
            mail.next_attempt_on = clock.now()
            audit.record(db.session, "mail.outbox_retried", actor=actor, target=mail)
            done += 1
    db.session.flush()
    if done:
        _wake_worker_on_commit()
    return done


def _wake_worker_on_commit():
    events.publish("worker.wake")


def test_mailbox(mailbox):
    """Connect and log in; a readable refusal on failure."""
    try:
        folder_found, count = mail_reading.reader().test(mailbox, timeout=10)
    except Exception as error:
        raise ServiceError(_("Connexion impossible à %(name)s : %(error)s", name=mailbox.name, error=str(error)[:200]))
    if not folder_found:
        raise ServiceError(_("Le dossier « %(folder)s » n'existe pas dans %(name)s.", folder=mailbox.folder, name=mailbox.name))
    return count
