"""Incoming mail: record first, then process exactly once (T10).

`record` stores the raw message keyed by its Message-ID and commits: from then on nothing is
lost. `process` claims a recorded message with a conditional update (status received →
processed) in the same transaction as its effects, so a crash rolls both back and a second
worker finds nothing to claim. Sources: IMAP mailboxes polled by the worker, and
`flask mail ingest` for mail servers that deliver to a program.
"""
import imaplib
import logging
import ssl
import traceback
from email.parser import BytesHeaderParser
from email.policy import default as default_policy

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from app.channels.mail_parse import clean_text, message_key, parse
from app.extensions import db
from app.models import InboundMail, InboundStatus, Mailbox, MailboxSecurity
from app.services import clock, job_locks, mail_intake
from app.services.mail import sender_domain

log = logging.getLogger(__name__)
FETCH_BATCH = 200  # messages read from one mailbox per pass


def _envelope(raw):
    """Message-ID, sender and subject from the headers alone, never failing."""
    try:
        headers = BytesHeaderParser(policy=default_policy).parsebytes(raw[:256 * 1024])
        message_id = clean_text(headers.get("Message-ID", "")).strip() or None
        sender = clean_text(headers.get("From", "")).strip()
        subject = clean_text(headers.get("Subject", "")).strip()
    except Exception:
        message_id, sender, subject = None, "", ""
    from email.utils import parseaddr

    address = parseaddr(sender)[1].lower()
    return message_id, (address if "@" in address else None), subject


def record(raw, source="pipe", mailbox=None, size=None):
    """Store the message and commit. Returns (InboundMail, created); an already known
    Message-ID returns the existing row. Raises only when the database cannot store it."""
    message_id, sender, subject = _envelope(raw)
    key = message_key(message_id, raw)
    existing = db.session.query(InboundMail).filter_by(message_key=key).first()
    if existing is not None:
        return existing, False
    row = InboundMail(
        message_key=key,
        message_id=message_id,
        mailbox_id=getattr(mailbox, "id", None),
        source=source[:120],
        sender=(sender or "")[:320] or None,
        subject=(subject or "")[:300] or None,
        size=size or len(raw),
        raw=raw,
        received_on=clock.now(),
        status=InboundStatus.RECEIVED,
    )
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:  # another worker recorded it a moment ago
        db.session.rollback()
        return db.session.query(InboundMail).filter_by(message_key=key).one(), False
    return row, True


def process(inbound_id):
    """Process one recorded message if nobody has; returns its outcome line, or None."""
    claimed = db.session.execute(
        update(InboundMail)
        .where(InboundMail.id == inbound_id, InboundMail.status == InboundStatus.RECEIVED)
        .values(status=InboundStatus.PROCESSED, attempts=InboundMail.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.rollback()
        return None
    row = db.session.get(InboundMail, inbound_id, populate_existing=True)
    error = None
    try:
        with db.session.begin_nested():
            parsed = parse(row.raw, mail_intake.own_addresses(), sender_domain())
            outcome = mail_intake.apply(row, parsed)
    except Exception as failure:  # kept with its error; an admin retries it after a fix
        log.exception("mail %s could not be processed", row.id)
        error = "".join(traceback.format_exception_only(type(failure), failure)).strip()
        outcome = mail_intake.Outcome(InboundStatus.FAILED, f"Non traitable : {error[:300]}", "error")
        error = traceback.format_exc()[-4000:]
    row.status = outcome.status
    row.reason = outcome.reason
    row.outcome = outcome.line[:500]
    row.error = error
    row.processed_on = clock.now()
    row.ticket_id = outcome.ticket.id if outcome.ticket is not None else None
    db.session.commit()
    return outcome.line


def ingest(raw, source="pipe"):
    """Record then process one message; the line says what became of it."""
    row, created = record(raw, source)
    if not created:
        return f"Déjà reçu (message n° {row.id}) : {row.outcome or 'en attente de traitement'}"
    line = process(row.id)
    return line or f"Message n° {row.id} enregistré, traité par ailleurs."


def process_pending(limit=100):
    """Process what was recorded and not yet processed (including after a crash)."""
    ids = [
        i
        for (i,) in db.session.query(InboundMail.id)
        .filter(InboundMail.status == InboundStatus.RECEIVED)
        .order_by(InboundMail.id)
        .limit(limit)
    ]
    db.session.rollback()
    done = 0
    for inbound_id in ids:
        if process(inbound_id) is not None:
            done += 1
    return done


def retry(inbound):
    """Put a message back in the queue (after a fix, or to override a flood or size refusal)."""
    inbound.status = InboundStatus.RECEIVED
    inbound.error = None
    inbound.outcome = "Remis en traitement."


# --- IMAP -------------------------------------------------------------------------------


def _connect(mailbox, timeout=30):
    if mailbox.security == MailboxSecurity.SSL:
        connection = imaplib.IMAP4_SSL(mailbox.host, mailbox.port, ssl_context=ssl.create_default_context(), timeout=timeout)
    else:
        connection = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=timeout)
        if mailbox.security == MailboxSecurity.STARTTLS:
            connection.starttls(ssl.create_default_context())
    connection.login(mailbox.username, mailbox.password)
    return connection


def fetch_mailbox(mailbox, max_bytes):
    """Record every new message of one mailbox; returns how many were new. Each message is
    committed before the mailbox's cursor moves on, so a crash re-reads, never skips."""
    connection = _connect(mailbox)
    new = 0
    try:
        typ, _ = connection.select(_quoted(mailbox.folder))
        if typ != "OK":
            raise imaplib.IMAP4.error(f"dossier introuvable : {mailbox.folder}")
        validity = int(connection.response("UIDVALIDITY")[1][0])
        if mailbox.uid_validity != validity:  # the folder was rebuilt: UIDs start over
            mailbox.uid_validity, mailbox.last_uid = validity, 0
            db.session.commit()
        typ, data = connection.uid("SEARCH", None, f"UID {mailbox.last_uid + 1}:*")
        uids = sorted(int(u) for u in (data[0] or b"").split() if int(u) > mailbox.last_uid)[:FETCH_BATCH]
        for uid in uids:
            raw, size = _fetch(connection, uid, max_bytes)
            _, created = record(raw, f"imap:{mailbox.name}", mailbox, size=size)
            new += created
            connection.uid("STORE", str(uid), "+FLAGS", "(\\Seen)")
            mailbox.last_uid = uid
            db.session.commit()
        mailbox.last_error = None
    finally:
        mailbox.last_checked_on = clock.now()
        db.session.commit()
        try:
            connection.logout()
        except Exception:
            pass
    return new


def _quoted(folder):
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fetch(connection, uid, max_bytes):
    """The raw message; above `max_bytes`, only its headers (the message stays on the server)."""
    typ, data = connection.uid("FETCH", str(uid), "(RFC822.SIZE)")
    size = 0
    if typ == "OK" and data and data[0]:
        text = data[0].decode() if isinstance(data[0], bytes) else str(data[0])
        digits = text.split("RFC822.SIZE")[-1].strip(" )")
        size = int(digits) if digits.isdigit() else 0
    part = "BODY.PEEK[HEADER]" if size > max_bytes else "BODY.PEEK[]"
    typ, data = connection.uid("FETCH", str(uid), f"({part})")
    raw = next((item[1] for item in data if isinstance(item, tuple)), b"")
    return raw, max(size, len(raw))


def fetch_all(max_bytes):
    """Poll every active mailbox; an unreachable one is noted on it and the others go on."""
    total = 0
    for mailbox in db.session.query(Mailbox).filter_by(active=True).order_by(Mailbox.id).all():
        try:
            with job_locks.held(f"mailbox-{mailbox.id}") as mine:
                if mine:  # else another worker is reading this mailbox right now
                    total += fetch_mailbox(mailbox, max_bytes)
        except Exception as error:
            db.session.rollback()
            mailbox = db.session.get(Mailbox, mailbox.id)
            mailbox.last_error = str(error)[:1000]
            mailbox.last_checked_on = clock.now()
            db.session.commit()
            log.warning("mailbox %s not read: %s", mailbox.name, error)
    return total
