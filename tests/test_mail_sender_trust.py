"""Mail sender trust (T10, U7): `From:` is believed only when our own mail server (its
authserv-id, MAIL_TRUSTED_AUTHSERV_ID) vouched for the sender's domain with a DMARC or DKIM
pass. Anything else is marked « expéditeur non vérifié » for agents, and an organisation that
requires authenticated mail gets none filed in its name. Messages go through the pipe command
`flask mail ingest`, as a mail server delivers them."""
import html

import pytest

from app.models import InboundMail, Organisation, OutboxMail, Ticket, TicketMessage
from tests.conftest import login

CLIENT = "client@credit-solidaire.sn"
TRUSTED = "mx.novalead.test"
UNVERIFIED = "expéditeur non vérifié"


def eml(key, results=(), sender=CLIENT, subject="Reçus bloqués", in_reply_to=None):
    lines = [f"Authentication-Results: {value}" for value in results]
    lines += [f"From: Ibrahima Fall <{sender}>", "To: support@novalead.test", f"Subject: {subject}", f"Message-ID: <{key}@credit-solidaire.sn>"]
    if in_reply_to:
        lines.append(f"In-Reply-To: {in_reply_to}")
    lines += ["Date: Mon, 30 Nov 2026 09:00:00 +0000", "Content-Type: text/plain; charset=utf-8", "", "Les reçus ne s'impriment plus depuis ce matin.", ""]
    return "\r\n".join(lines).encode()


def pipe(app, demo, raw):
    result = app.test_cli_runner().invoke(args=["mail", "ingest"], input=raw)
    assert result.exit_code == 0, result.output
    demo.session.expire_all()
    return demo.session.query(InboundMail).order_by(InboundMail.id.desc()).first(), result.output


@pytest.fixture
def trusted(app, demo, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_TRUSTED_AUTHSERV_ID", TRUSTED)
    return demo


def page(client, path):
    return html.unescape(client.get(path).get_data(as_text=True))


def test_a_sender_no_trusted_server_vouched_for_is_marked_for_agents(app, trusted):
    # A pass from some other server (the forger's own) counts for nothing.
    row, _ = pipe(app, trusted, eml("forged", ["evil.example; dmarc=pass header.from=credit-solidaire.sn", f"{TRUSTED}; spf=pass smtp.mailfrom=x@evil.example"]))
    ticket = row.ticket
    assert ticket.organisation.name == "Crédit Solidaire du Sahel"  # the client asked for nothing more
    assert ticket.sender_unverified and ticket.messages[0].sender_unverified
    agent = app.test_client()
    login(agent, trusted, "agent1@novalead.com")
    assert UNVERIFIED in page(agent, f"/tickets/{ticket.id}")
    listing = page(agent, "/tickets/?view=all")
    assert UNVERIFIED in listing and ticket.title in listing
    partner = app.test_client()
    login(partner, trusted, CLIENT)
    shown = page(partner, f"/tickets/{ticket.id}")
    assert ticket.title in shown and UNVERIFIED not in shown  # a warning for the support, not for the client


@pytest.mark.parametrize("verdict, vouched", [
    (f"{TRUSTED}; dkim=pass header.d=credit-solidaire.sn; dmarc=pass (p=reject) header.from=credit-solidaire.sn", True),
    (f"{TRUSTED}; dkim=pass header.i=@credit-solidaire.sn", True),
    (f"{TRUSTED}; dkim=pass header.d=mailer.example; dmarc=none header.from=credit-solidaire.sn", False),  # someone else's signature
    (f"{TRUSTED.upper()}; dmarc=fail header.from=credit-solidaire.sn", False),
    (f"{TRUSTED}; dmarc=pass header.from=credit-solidaire.sn.evil.example", False),
    ("(: junk ;;; dmarc=pass", False),
])
def test_only_our_servers_pass_for_the_from_domain_vouches(app, trusted, verdict, vouched):
    row, _ = pipe(app, trusted, eml("verdict", [verdict]))
    assert row.ticket.sender_unverified is (not vouched)


def test_a_follow_up_is_marked_on_its_own(app, trusted):
    first, _ = pipe(app, trusted, eml("first", [f"{TRUSTED}; dmarc=pass header.from=credit-solidaire.sn"]))
    ticket = first.ticket
    assert not ticket.sender_unverified
    reply, _ = pipe(app, trusted, eml("second", subject=f"Re: [{ticket.number}] Reçus bloqués", in_reply_to="<first@credit-solidaire.sn>"))
    assert reply.ticket_id == ticket.id
    messages = sorted(trusted.session.query(TicketMessage).filter_by(ticket_id=ticket.id), key=lambda m: m.id)
    assert [m.sender_unverified for m in messages] == [False, True]
    agent = app.test_client()
    login(agent, trusted, "agent1@novalead.com")
    assert page(agent, f"/tickets/{ticket.id}").count(UNVERIFIED) == 1


def test_without_a_trusted_server_configured_nobody_is_vouched_for(app, demo):
    row, _ = pipe(app, demo, eml("nobody", ["mx.novalead.test; dmarc=pass header.from=credit-solidaire.sn"]))
    assert row.ticket.sender_unverified


def test_an_organisation_that_requires_authenticated_mail(app, trusted):
    organisation = trusted.session.query(Organisation).filter_by(name="Crédit Solidaire du Sahel").one()
    admin = app.test_client()
    login(admin, trusted, "admin@novalead.com")
    form = page(admin, f"/organisations/edit/{organisation.id}")
    assert "Exiger des e-mails authentifiés" in form
    organisation.require_authenticated_mail = True
    trusted.session.commit()
    acknowledgements = trusted.session.query(OutboxMail).filter_by(recipient=CLIENT).count()

    row, line = pipe(app, trusted, eml("spoofed"))
    ticket = row.ticket
    assert ticket.organisation.holds_unidentified and ticket.requester is None
    assert ticket.sender_unverified and "n'accepte que les e-mails authentifiés" in line
    trusted.session.expire_all()
    assert trusted.session.query(OutboxMail).filter_by(recipient=CLIENT).count() == acknowledgements  # nobody mailed in the client's name
    agent = app.test_client()
    login(agent, trusted, "agent1@novalead.com")
    shown = page(agent, f"/tickets/{ticket.id}")
    assert "Crédit Solidaire du Sahel n'accepte que les e-mails authentifiés" in shown and UNVERIFIED in shown

    row, _ = pipe(app, trusted, eml("genuine", [f"{TRUSTED}; dmarc=pass header.from=credit-solidaire.sn"]))
    assert row.ticket.organisation_id == organisation.id and row.ticket.requester.email == CLIENT
    assert not row.ticket.sender_unverified
    assert trusted.session.query(Ticket).count() == 2
