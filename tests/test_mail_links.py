"""Links in mail point home (T10, T11): every link of every mail — sent from a page, the worker
or the command line — starts with PUBLIC_URL, or, without it, with the address the server
listens on (HOST and PORT). Never 127.0.0.1:5000 by default, never a forged Host header."""
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from app import worker
from app.models import OutboxMail, StatusCategory, Ticket
from app.services import accounts, clock, tickets
from tests.ticket_helpers import org, priority, status, user

PUBLIC = "https://support.example.test"
_URL = re.compile(r"https?://[^\s\"'<>]+")
_TEMPLATES = Path(__file__).resolve().parent.parent / "app" / "templates" / "mail"
# Every mail that carries a link, by the template's own word for it.
KINDS_WITH_LINKS = sorted({p.stem for p in (_TEMPLATES / "fr").glob("*.txt") if "link }}" in p.read_text()})
MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def served_at(app, monkeypatch):
    """The application configured as `run.py` would be: no SERVER_NAME, an address to serve on."""

    def configure(public_url="", host="127.0.0.1", port=5000):
        monkeypatch.setitem(app.config, "SERVER_NAME", None)
        monkeypatch.setitem(app.config, "PUBLIC_URL", public_url)
        monkeypatch.setitem(app.config, "HOST", host)
        monkeypatch.setitem(app.config, "PORT", port)

    return configure


def _mail(sender, subject, body, key, extra=""):
    return (
        f"From: {sender}\r\nTo: support@novalead.com\r\nSubject: {subject}\r\nMessage-ID: <links-{key}@partner.example>\r\n"
        f"{extra}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def _links(db):
    db.session.expire_all()
    found = {}
    for mail in db.session.query(OutboxMail):
        found.setdefault(mail.kind, []).extend(_URL.findall(mail.body_text) + _URL.findall(mail.body_html or ""))
    return found


def _every_mail_outside_a_request(app, db):
    """Mail from the command line (`flask mail ingest`, account and ticket work done by scripts)
    and from the worker (intake of recorded mail, SLA watch), none of it inside a request."""
    from app.channels import mail_in

    db.session.query(OutboxMail).delete()
    db.session.commit()
    runner = app.test_cli_runner()
    # Command line: a new request by pipe, from a partner's address (acknowledged) …
    result = runner.invoke(args=["mail", "ingest"], input=_mail("Ibrahima Fall <client@credit-solidaire.sn>", "Clôture bloquée", "La clôture de novembre ne passe pas.", "1"))
    assert result.exit_code == 0, result.output
    ticket = db.session.query(Ticket).order_by(Ticket.id.desc()).first()
    assert ticket.requester.email == "client@credit-solidaire.sn"
    # … assigned by a script, then replied to by mail: the assignee hears of it.
    agent, supervisor = user("agent1@novalead.com"), user("superviseur@novalead.com")
    tickets.assign(supervisor, ticket, [agent.id])
    db.session.commit()
    reply = _mail("Ibrahima Fall <client@credit-solidaire.sn>", f"Re: [{ticket.number}] Clôture bloquée", "Toujours bloqué ce matin, voici le détail.", "2")
    assert runner.invoke(args=["mail", "ingest"], input=reply).exit_code == 0
    # A mail the intake refuses (here: too large) is answered with a link to the web form.
    app.config["MAIL_MAX_MESSAGE_MB"], limit = 0, app.config["MAIL_MAX_MESSAGE_MB"]
    try:
        assert runner.invoke(args=["mail", "ingest"], input=_mail("client@epargneplus.ci", "Gros fichier", "x" * 2000, "4")).exit_code == 0
    finally:
        app.config["MAIL_MAX_MESSAGE_MB"] = limit
    tickets.add_message(agent, ticket, "Pouvez-vous joindre le journal ?")
    tickets.change_status(agent, ticket, status(StatusCategory.PENDING).id)  # waiting for the client
    tickets.change_status(agent, ticket, status(StatusCategory.RESOLVED).id)  # resolved: satisfaction link
    db.session.commit()
    # Accounts, as a script or the API's background work would do them.
    accounts.request_account(first_name="Awa", last_name="Ba", email="awa@nouvelle-imf.example", organisation_name="Nouvelle IMF", password="Un-mot-de-passe-42")
    accounts.request_account(first_name="I", last_name="F", email="client@credit-solidaire.sn", organisation_name="CSS", password="Un-mot-de-passe-42")
    pending = db.session.query(accounts.AccountRequest).filter_by(email="awa@nouvelle-imf.example").one()
    token = "known-token"
    pending.token_hash = accounts._token_digest(token)
    accounts.confirm_account_request(token)  # nobody's domain: the admins review it
    accounts.approve_account_request(user("admin@novalead.com"), pending, org("Baobab Microcrédit"))
    accounts.request_password_reset("client@epargneplus.ci")
    db.session.commit()
    # Worker: recorded mail processed in the worker's pass, refused (an unknown address
    # answering a partner's ticket), then the SLA watch on an urgent ticket left alone.
    mail_in.record(_mail("intrus@ailleurs.example", f"Re: [{ticket.number}] Clôture bloquée", "Je réponds aussi.", "3"), "pipe")
    db.session.commit()
    with clock.frozen(MONDAY):
        urgent = tickets.create_ticket(supervisor, title="Caisse à l'arrêt", body="b", organisation_id=org("Baobab Microcrédit").id, priority_id=priority("urgent").id)
        tickets.assign(supervisor, urgent, [agent.id])
        db.session.commit()
    for minutes in (35, 61, 300):  # warning, first-response breach, resolution breach
        with clock.frozen(MONDAY + timedelta(minutes=minutes)):
            worker.run_once(app)
    return _links(db)


def test_every_mail_outside_a_request_links_to_public_url(app, demo, served_at):
    served_at(public_url=PUBLIC + "/")  # a trailing slash is forgiven
    links = _every_mail_outside_a_request(app, demo)
    assert [kind for kind in KINDS_WITH_LINKS if not links.get(kind)] == []
    assert "satisfaction" in " ".join(links["ticket_resolved"])  # the rating link too
    everything = [url for urls in links.values() for url in urls]
    assert len(everything) >= 10
    wrong = [url for url in everything if not url.startswith(PUBLIC + "/")]
    assert wrong == []
    assert not any("127.0.0.1" in url or "localhost" in url for url in everything)


def test_without_public_url_links_use_the_served_host_and_port(app, demo, served_at):
    served_at(host="10.20.30.40", port=8123)
    links = _every_mail_outside_a_request(app, demo)
    everything = [url for urls in links.values() for url in urls]
    assert everything and all(url.startswith("http://10.20.30.40:8123/") for url in everything), everything


def test_listening_everywhere_names_the_machine_not_0_0_0_0(app, db, served_at):
    from app.services.public_address import base_url, external_url

    served_at(host="0.0.0.0", port=80)
    assert "0.0.0.0" not in base_url() and not base_url().endswith(":80")
    served_at(public_url="https://desk.example.test/support")
    assert external_url("NovaAuthView.login") == "https://desk.example.test/support/login/"


def test_a_forged_host_header_never_reaches_a_password_reset_mail(app, demo, served_at):
    served_at(public_url=PUBLIC)
    client = app.test_client()
    response = client.post("/forgot-password/", data={"email": "client@epargneplus.ci"}, headers={"Host": "attacker.example"})
    assert response.status_code in (200, 302)
    demo.session.expire_all()
    mail = demo.session.query(OutboxMail).filter_by(kind="password_reset").order_by(OutboxMail.id.desc()).first()
    assert mail is not None
    urls = _URL.findall(mail.body_text)
    assert urls and all(u.startswith(PUBLIC + "/reset-password/") or u.startswith(PUBLIC + "/") for u in urls)
    assert "attacker.example" not in mail.body_text + (mail.body_html or "")


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)  # seeds, not storage: one database is enough
def test_the_demo_data_loaded_from_the_command_line_links_home(app, db, served_at):
    served_at(public_url=PUBLIC)
    result = app.test_cli_runner().invoke(args=["novadesk", "seed"])
    assert result.exit_code == 0, result.output
    everything = [url for urls in _links(db).values() for url in urls]
    assert everything and all(url.startswith(PUBLIC + "/") for url in everything), everything
