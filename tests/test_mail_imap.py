"""IMAP polling against a real Dovecot server started for the tests (T10): new messages become
tickets once, re-reading changes nothing, a rebuilt folder is read again without duplicates,
and an unreachable mailbox is reported on it while the others go on. Dovecot is installed by
.ci/run; without it these tests skip with the reason (and fail under REQUIRE_ALL=1)."""
import ast
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from app.channels import mail_in
from app.models import InboundMail, InboundStatus, Mailbox, Ticket
from app.services import job_locks
from tests.conftest import login, require_or_skip

CORPUS = Path(__file__).parent / "mail_corpus"
PASSWORD = "imap-test-password"
LIMIT = 10 * 1024 * 1024


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def dovecot():
    yield from _dovecot()


@pytest.fixture(scope="module")
def dovecot_without_idle():
    """A server that does not offer IDLE (RFC 2177 is an extension): its capability list is
    Dovecot's own minus IDLE."""
    yield from _dovecot("imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+ NAMESPACE UIDPLUS")


def _dovecot(extra=""):
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not os.path.exists(binary):
        require_or_skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    if os.geteuid() != 0:
        require_or_skip("Dovecot's test instance needs root to drop its privileges")
    owner = pwd.getpwnam("dovecot")
    root = Path(tempfile.mkdtemp(prefix="novadesk-dovecot-"))
    os.chmod(root, 0o755)
    (root / "home").mkdir()
    (root / "users").write_text(f"support@novalead.test:{{PLAIN}}{PASSWORD}\nsecond@novalead.test:{{PLAIN}}{PASSWORD}\n")
    os.chown(root / "home", owner.pw_uid, owner.pw_gid)
    port = _free_port()
    (root / "dovecot.conf").write_text(
        f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
default_login_user = dovenull
default_internal_user = dovecot
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={owner.pw_uid} gid={owner.pw_gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
{extra}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""
    )
    subprocess.run([binary, "-c", str(root / "dovecot.conf")], check=True)
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    yield port
    subprocess.run([binary, "-c", str(root / "dovecot.conf"), "stop"], check=False)
    shutil.rmtree(root, ignore_errors=True)


def deliver(port, raw, user="support@novalead.test"):
    """Put a message in the mailbox the way a mail server would (IMAP APPEND)."""
    connection = imaplib.IMAP4("127.0.0.1", port)
    connection.login(user, PASSWORD)
    connection.append("INBOX", None, None, raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    connection.logout()


def empty_inbox(port, user="support@novalead.test"):
    connection = imaplib.IMAP4("127.0.0.1", port)
    connection.login(user, PASSWORD)
    _, count = connection.select("INBOX")
    if int(count[0]):
        connection.store("1:*", "+FLAGS", "(\\Deleted)")
        connection.expunge()
    connection.logout()


@pytest.fixture
def mailbox(demo, dovecot):
    empty_inbox(dovecot)
    box = Mailbox(name="Support", address="support@novalead.test", host="127.0.0.1", port=dovecot, security="none", username="support@novalead.test", password=PASSWORD)
    demo.session.add(box)
    demo.session.commit()
    return box


def test_new_messages_become_tickets_once(demo, dovecot, mailbox):
    deliver(dovecot, (CORPUS / "01-latin1-quoted-printable.eml").read_bytes())
    deliver(dovecot, (CORPUS / "03-html-only-base64.eml").read_bytes())
    deliver(dovecot, (CORPUS / "07-out-of-office.eml").read_bytes())
    assert mail_in.fetch_all(LIMIT) == 3
    assert mail_in.process_pending() == 3
    demo.session.expire_all()
    statuses = sorted(m.status for m in demo.session.query(InboundMail))
    assert statuses == [InboundStatus.IGNORED, InboundStatus.PROCESSED, InboundStatus.PROCESSED]
    assert {t.title for t in demo.session.query(Ticket)} == {"Arrêté de caisse impossible à valider", "Montants négatifs sur le tableau de bord"}
    box = demo.session.get(Mailbox, mailbox.id)
    assert box.last_uid == 3 and box.last_error is None and box.last_checked_on is not None

    # Reading again finds nothing new; a message read elsewhere in between is still read.
    assert mail_in.fetch_all(LIMIT) == 0
    deliver(dovecot, (CORPUS / "04-gmail-inline-image-and-pdf.eml").read_bytes())
    assert mail_in.fetch_all(LIMIT) == 1
    mail_in.process_pending()
    assert demo.session.query(Ticket).count() == 3


def test_a_rebuilt_folder_is_read_again_without_duplicates(demo, dovecot, mailbox):
    deliver(dovecot, (CORPUS / "01-latin1-quoted-printable.eml").read_bytes())
    mail_in.fetch_all(LIMIT)
    box = demo.session.get(Mailbox, mailbox.id)
    box.uid_validity = 1  # as if the server had rebuilt the folder: UIDs start over
    demo.session.commit()
    assert mail_in.fetch_all(LIMIT) == 0  # re-read, recognised by Message-ID
    mail_in.process_pending()
    assert demo.session.query(Ticket).count() == 1
    assert demo.session.query(InboundMail).count() == 1


def test_a_crash_after_recording_rereads_and_never_duplicates(demo, dovecot, mailbox):
    deliver(dovecot, (CORPUS / "01-latin1-quoted-printable.eml").read_bytes())
    deliver(dovecot, (CORPUS / "02-windows1252-8bit-domain-sender.eml").read_bytes())
    mail_in.fetch_all(LIMIT)
    box = demo.session.get(Mailbox, mailbox.id)
    box.last_uid = 0  # the cursor never got saved: everything is fetched again
    demo.session.commit()
    assert mail_in.fetch_all(LIMIT) == 0
    assert mail_in.process_pending() == 2
    assert demo.session.query(Ticket).count() == 2


def test_an_unreachable_mailbox_is_reported_and_the_others_are_read(demo, dovecot, mailbox):
    broken = Mailbox(name="Ancienne boîte", host="127.0.0.1", port=_free_port(), security="none", username="x", password="y")
    wrong_password = Mailbox(name="Mauvais mot de passe", host="127.0.0.1", port=dovecot, security="none", username="second@novalead.test", password="wrong")
    demo.session.add_all([broken, wrong_password])
    demo.session.commit()
    deliver(dovecot, (CORPUS / "01-latin1-quoted-printable.eml").read_bytes())
    assert mail_in.fetch_all(LIMIT) == 1
    demo.session.expire_all()
    assert "refused" in demo.session.get(Mailbox, broken.id).last_error.lower()
    assert "authentication failed" in demo.session.get(Mailbox, wrong_password.id).last_error.lower()
    assert demo.session.get(Mailbox, mailbox.id).last_error is None


def test_an_oversized_message_is_recorded_by_its_headers_and_left_on_the_server(demo, dovecot, mailbox):
    big = (CORPUS / "01-latin1-quoted-printable.eml").read_bytes() + b"x" * 200_000 + b"\r\n"
    deliver(dovecot, big)
    mail_in.fetch_all(100_000)
    row = demo.session.query(InboundMail).one()
    assert row.size > 200_000 and len(row.raw) < 10_000  # the headers only
    assert row.subject == "Arrêté de caisse impossible à valider"


def test_admin_tests_a_mailbox_from_its_screen(demo, dovecot, mailbox, client):
    login(client, demo, "admin@novalead.com")
    response = client.post("/mail/mailboxes/action_post", data={"action": "test", "rowid": [mailbox.id]}, follow_redirects=True)
    assert "Connexion réussie" in response.get_data(as_text=True)
    page = client.get(f"/mail/mailboxes/edit/{mailbox.id}").get_data(as_text=True)
    assert PASSWORD not in page  # the stored password never goes back to the browser


def test_a_new_message_is_read_within_two_seconds_by_an_idle_watch(app, demo, dovecot, mailbox):
    """IMAP IDLE: the server tells of the new message, the watch records it and wakes the
    worker at once; meanwhile the mailbox's job lock is held, so no other worker polls it."""
    reader = app.extensions["mail_reader"].__class__()  # a worker's own reader
    woken = threading.Event()
    reader.watch(app, woken.set)
    try:
        deadline = time.monotonic() + 15
        while not reader.watching(mailbox.id):
            assert time.monotonic() < deadline, "the watch never started IDLE"
            time.sleep(0.05)
        with job_locks.held(f"mailbox-{mailbox.id}") as mine:
            assert not mine, "a second worker would read the watched mailbox too"
        assert mail_in.fetch_all(LIMIT) == 0  # polling skips the watched mailbox

        delivered = time.monotonic()
        deliver(dovecot, (CORPUS / "01-latin1-quoted-printable.eml").read_bytes())
        assert woken.wait(5), "the new message was not reported"
        assert time.monotonic() - delivered < 2
        demo.session.expire_all()
        assert [m.subject for m in demo.session.query(InboundMail)] == ["Arrêté de caisse impossible à valider"]

        # The watch goes back to IDLE and reports the next message too.
        woken.clear()
        deadline = time.monotonic() + 10
        while not reader.watching(mailbox.id):
            assert time.monotonic() < deadline, "the watch did not go back to IDLE"
            time.sleep(0.05)
        deliver(dovecot, (CORPUS / "03-html-only-base64.eml").read_bytes())
        assert woken.wait(5)
    finally:
        reader.stop_watching()
    assert mail_in.process_pending() == 2
    demo.session.expire_all()
    assert demo.session.query(Ticket).count() == 2
    assert demo.session.get(Mailbox, mailbox.id).last_error is None
    with job_locks.held(f"mailbox-{mailbox.id}") as mine:
        assert mine, "a stopped watch frees the mailbox for polling"
    deliver(dovecot, (CORPUS / "07-out-of-office.eml").read_bytes())
    assert mail_in.fetch_all(LIMIT) == 1


def test_services_reach_mailboxes_only_through_the_installed_reader(app, demo, dovecot, mailbox):
    """Issue 13: no service imports a channel; create_app installs the IMAP channel as the
    mail reader, and the admin's "test the mailbox" goes through it."""
    from app.channels.mail_in import ImapReader
    from app.services import mailboxes

    assert isinstance(app.extensions["mail_reader"], ImapReader)
    services = Path(mailboxes.__file__).parent
    for module in services.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n.startswith("app.channels") for n in names), f"{module.name} imports {names}"
    deliver(dovecot, (CORPUS / "01-latin1-quoted-printable.eml").read_bytes())
    assert mailboxes.test_mailbox(mailbox) == 1


def test_a_server_without_idle_is_polled(app, demo, dovecot_without_idle):
    """IDLE where the server offers it, polling otherwise: the watch sees no IDLE in the
    server's capabilities, ends without holding the mailbox's lock, is not started again at
    every worker pass (the server is asked again an hour later), and polling reads the mail."""
    empty_inbox(dovecot_without_idle)
    box = Mailbox(name="Sans IDLE", address="support@novalead.test", host="127.0.0.1", port=dovecot_without_idle, security="none", username="support@novalead.test", password=PASSWORD)
    demo.session.add(box)
    demo.session.commit()
    reader = app.extensions["mail_reader"].__class__()
    try:
        reader.watch(app, lambda: None)
        watch = reader._watches[box.id]
        watch.join(15)
        assert not watch.is_alive() and watch.unsupported, "the watch should end on a server without IDLE"
        assert not reader.watching(box.id)
        reader.watch(app, lambda: None)  # the next worker pass
        assert reader._watches[box.id] is watch, "a server without IDLE is not asked at every pass"
        with job_locks.held(f"mailbox-{box.id}") as mine:
            assert mine, "the mailbox is left to polling"
        deliver(dovecot_without_idle, (CORPUS / "01-latin1-quoted-printable.eml").read_bytes())
        assert mail_in.fetch_all(LIMIT) == 1
    finally:
        reader.stop_watching()
    assert mail_in.process_pending() == 1
    demo.session.expire_all()
    assert [t.title for t in demo.session.query(Ticket)] == ["Arrêté de caisse impossible à valider"]
    assert demo.session.get(Mailbox, box.id).last_error is None
