"""Incoming mail: record first, then process exactly once (T10).

`record` stores the raw message keyed by its Message-ID and commits: from then on nothing is
lost. `process_batch` claims recorded messages with a conditional update (status received →
processed; on PostgreSQL skipping those another worker holds) in the same transaction as their
effects, each message's effects in a savepoint of its own, so a crash rolls the batch back
(its messages stay recorded, processed again later) and a second worker finds nothing to
claim; a message that fails is kept with its error without undoing the others. Sources: IMAP mailboxes, watched with IDLE where the server
offers it and polled by the worker otherwise, and `flask mail ingest` for mail servers that
deliver to a program. `ImapReader` is what `create_app` installs as the application's mail
reader (app/services/mail_reading.py): the services and the worker reach IMAP only through it.
"""
import imaplib
import logging
import socket
import ssl
import threading
import time
import traceback
from email.parser import BytesHeaderParser
from email.policy import default as default_policy

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.channels.mail_parse import clean_text, message_key, parse
from app.extensions import db
from app.models import InboundMail, InboundStatus, Mailbox, MailboxSecurity
from app.services import clock, job_locks, mail_intake
from app.services.mail import sender_domain

log = logging.getLogger(__name__)
FETCH_BATCH = 200  # messages read from one mailbox per pass
PROCESS_BATCH = 20  # messages processed per transaction (each in a savepoint of its own)


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
    lines = process_batch([inbound_id])
    return lines[0] if lines else None


def _claim(ids):
    """Mark the recorded messages among `ids` as ours (received → processed), in the
    transaction that will hold their effects; those another worker holds are skipped."""
    wanted = select(InboundMail.id).where(InboundMail.id.in_(ids), InboundMail.status == InboundStatus.RECEIVED)
    if db.session.get_bind().dialect.name == "postgresql":
        wanted = wanted.with_for_update(skip_locked=True)  # a batch another worker holds: not waited for
    free = sorted(db.session.execute(wanted).scalars())
    if not free:
        return []
    return sorted(db.session.execute(
        update(InboundMail)
        .where(InboundMail.id.in_(free), InboundMail.status == InboundStatus.RECEIVED)
        .values(status=InboundStatus.PROCESSED, attempts=InboundMail.attempts + 1)
        .returning(InboundMail.id)
        .execution_options(synchronize_session=False)
    ).scalars())


def process_batch(ids):
    """Process several recorded messages in one transaction, each all or nothing in a savepoint
    of its own: one that fails is kept with its error while the others go on, and a crash
    before the commit leaves every one of them recorded and unclaimed, to be processed again
    (nothing lost, nothing done twice). Returns the outcome lines of those claimed."""
    claimed = _claim(ids)
    if not claimed:
        db.session.rollback()
        return []
    rows = {r.id: r for r in db.session.query(InboundMail).filter(InboundMail.id.in_(claimed)).populate_existing()}
    own, domain = mail_intake.own_addresses(), sender_domain()
    lines = []
    for inbound_id in claimed:
        row = rows[inbound_id]
        error = None
        try:
            with db.session.begin_nested():
                parsed = parse(row.raw, own, domain)
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
        lines.append(outcome.line)
    db.session.commit()
    return lines


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
    for offset in range(0, len(ids), PROCESS_BATCH):
        done += len(process_batch(ids[offset:offset + PROCESS_BATCH]))
    return done


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


def test_connection(mailbox, timeout=10):
    """Connect and sign in: (the folder exists, how many messages it holds)."""
    connection = _connect(mailbox, timeout=timeout)
    try:
        typ, data = connection.select(_quoted(mailbox.folder), readonly=True)
    finally:
        connection.logout()
    return typ == "OK", int(data[0] or 0) if typ == "OK" else 0


def _select(connection, mailbox):
    typ, _ = connection.select(_quoted(mailbox.folder))
    if typ != "OK":
        raise imaplib.IMAP4.error(f"dossier introuvable : {mailbox.folder}")
    validity = int(connection.response("UIDVALIDITY")[1][0])
    if mailbox.uid_validity != validity:  # the folder was rebuilt: UIDs start over
        mailbox.uid_validity, mailbox.last_uid = validity, 0
        db.session.commit()


def _read_new(connection, mailbox, max_bytes):
    """Record the selected folder's messages past the mailbox's cursor; how many were new.
    Each message is committed before the cursor moves on, so a crash re-reads, never skips."""
    new = 0
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
    return new


def fetch_mailbox(mailbox, max_bytes):
    """Record every new message of one mailbox; returns how many were new."""
    connection = _connect(mailbox)
    try:
        _select(connection, mailbox)
        new = _read_new(connection, mailbox, max_bytes)
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


# --- IMAP IDLE (RFC 2177) ---------------------------------------------------------------


class IdleUnsupported(Exception):
    """The server does not offer IDLE: the mailbox stays with polling."""


class MailboxWatch(threading.Thread):
    """One mailbox watched with IDLE, under the mailbox's job lock for as long as the watch
    lasts: a second worker finds the lock taken and neither polls nor watches it, and a
    worker that dies frees it at once (job_locks.py), so another takes over at its next try.

    The loop: read what is new, then IDLE until the server tells of a new message
    (`* n EXISTS`) or `renew` seconds pass (servers drop an IDLE after 30 minutes), then read
    again. Errors are noted on the mailbox, and the watch tries again after `retry` seconds
    (polling reads the mailbox meanwhile: the lock is free)."""

    BUSY_RETRY_SECONDS = 5  # the lock is tried again this often while another holds it (cheap)

    def __init__(self, app, mailbox_id, on_new):
        super().__init__(name=f"novadesk-imap-idle-{mailbox_id}", daemon=True)
        self.app = app
        self.mailbox_id = mailbox_id
        self.on_new = on_new
        self.renew = app.config["MAIL_IDLE_RENEW_SECONDS"]
        self.retry = app.config["MAIL_POLL_SECONDS"]
        self.max_bytes = app.config["MAIL_MAX_MESSAGE_MB"] * 2 * 1024 * 1024
        self.stopping = threading.Event()
        self.idling = threading.Event()  # set while the server is told to report new mail
        self.unsupported = False
        self.ended_at = None
        self._connection = None
        self._done_sent = threading.Lock()

    def stop(self):
        self.stopping.set()
        connection = self._connection
        if connection is not None:
            try:  # wakes the read that waits for the server
                connection.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def run(self):
        try:
            while not self.stopping.is_set():
                wait = self.retry
                try:
                    with self.app.app_context():
                        if self._watch_once() == "busy":
                            wait = self.BUSY_RETRY_SECONDS
                except IdleUnsupported:
                    self.unsupported = True
                    log.info("mailbox %s: no IMAP IDLE on its server, it is polled", self.mailbox_id)
                    return
                except _Gone:
                    return
                except Exception as error:
                    if self.stopping.is_set():
                        return
                    log.warning("mailbox %s not watched: %s", self.mailbox_id, error)
                    self._note_error(error)
                self.stopping.wait(wait)
        finally:
            self.idling.clear()
            self.ended_at = time.monotonic()

    def _note_error(self, error):
        with self.app.app_context():
            try:
                db.session.rollback()
                mailbox = db.session.get(Mailbox, self.mailbox_id)
                if mailbox is not None:
                    mailbox.last_error = str(error)[:1000]
                    mailbox.last_checked_on = clock.now()
                    db.session.commit()
            except Exception:
                db.session.rollback()

    def _watch_once(self):
        with job_locks.held(f"mailbox-{self.mailbox_id}") as mine:
            if not mine:  # another worker (or this one's poll) reads this mailbox; try again soon
                return "busy"
            mailbox = db.session.get(Mailbox, self.mailbox_id)
            if mailbox is None or not mailbox.active:
                raise _Gone()
            connection = _connect(mailbox)
            self._connection = connection
            try:
                typ, data = connection.capability()
                if typ != "OK" or b"IDLE" not in b" ".join(data).upper().split():
                    raise IdleUnsupported()
                _select(connection, mailbox)
                while not self.stopping.is_set():
                    new = _read_new(connection, mailbox, self.max_bytes)
                    mailbox.last_checked_on = clock.now()
                    db.session.commit()
                    if new:
                        self.on_new()
                    # Nothing of the database is held while waiting (no open read transaction).
                    db.session.close()
                    self._idle(connection)
                    mailbox = db.session.get(Mailbox, self.mailbox_id)
                    if mailbox is None or not mailbox.active:
                        raise _Gone()
            finally:
                self._connection = None
                try:
                    connection.logout()
                except Exception:
                    pass

    def _idle(self, connection):
        """IDLE until the server reports a new message, `renew` seconds pass, or stop()."""
        tag = connection._new_tag()
        connection.tagged_commands.pop(tag, None)  # answered here, not by imaplib
        connection.sock.settimeout(self.renew + 60)  # a server gone silent is noticed
        connection.send(tag + b" IDLE\r\n")
        line = connection.readline()
        if not line.startswith(b"+"):
            raise imaplib.IMAP4.error(f"IDLE refusé : {line[:200]!r}")
        done = {"sent": False}

        def send_done():
            with self._done_sent:
                if not done["sent"]:
                    done["sent"] = True
                    connection.send(b"DONE\r\n")

        timer = threading.Timer(self.renew, send_done)
        timer.daemon = True
        self.idling.set()
        timer.start()
        try:
            while True:
                line = connection.readline()
                if not line:
                    raise imaplib.IMAP4.abort("connexion fermée par le serveur")
                if line.startswith(tag):
                    if not line[len(tag):].strip().upper().startswith(b"OK"):
                        raise imaplib.IMAP4.error(f"IDLE terminé en erreur : {line[:200]!r}")
                    return
                words = line.upper().split()
                if words[:1] == [b"*"] and words[2:3] == [b"EXISTS"]:
                    send_done()  # new mail: leave IDLE and read it
                elif words[:2] == [b"*", b"BYE"]:
                    raise imaplib.IMAP4.abort(line.decode("ascii", "replace").strip())
        finally:
            timer.cancel()
            self.idling.clear()
            connection.sock.settimeout(30)


class _Gone(Exception):
    """The mailbox was deleted or switched off: its watch ends."""


class ImapReader:
    """The application's mail reader (app/services/mail_reading.py) for IMAP mailboxes."""

    UNSUPPORTED_RETRY_SECONDS = 3600  # a server without IDLE is asked again after this long

    def __init__(self):
        self._watches = {}
        self._lock = threading.Lock()

    def test(self, mailbox, timeout=10):
        return test_connection(mailbox, timeout)

    def fetch_all(self, max_bytes):
        return fetch_all(max_bytes)

    def process_pending(self, limit=100):
        return process_pending(limit)

    def watch(self, app, on_new):
        """Start a watch for each active mailbox that has none (or whose watch ended), end the
        watches of mailboxes removed or switched off. Called on every pass of the worker."""
        if not app.config["MAIL_IDLE"]:
            return
        wanted = {i for (i,) in db.session.query(Mailbox.id).filter_by(active=True)}
        db.session.rollback()
        with self._lock:
            for mailbox_id, watch in list(self._watches.items()):
                if mailbox_id not in wanted:
                    watch.stop()
                    del self._watches[mailbox_id]
            for mailbox_id in wanted:
                watch = self._watches.get(mailbox_id)
                if watch is not None and (watch.is_alive() or (
                        watch.unsupported and time.monotonic() - watch.ended_at < self.UNSUPPORTED_RETRY_SECONDS)):
                    continue
                watch = MailboxWatch(app, mailbox_id, on_new)
                self._watches[mailbox_id] = watch
                watch.start()

    def watching(self, mailbox_id):
        """True while the mailbox's server is told to report new mail (IDLE in progress)."""
        watch = self._watches.get(mailbox_id)
        return watch is not None and watch.idling.is_set()

    def stop_watching(self, wait=5):
        with self._lock:
            watches, self._watches = list(self._watches.values()), {}
        for watch in watches:
            watch.stop()
        for watch in watches:
            watch.join(wait)
