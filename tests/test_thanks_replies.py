"""A reply that only thanks leaves a resolved ticket resolved (T5, T11) — by mail and on the
portal, through one rule — and the agents still see it; anything more reopens as before.
Canned responses greet « Madame, Monsieur » when nobody is named (T8)."""
import html
import json
import re

import pytest

from app.channels import mail_in
from app.extensions import db
from app.models import CannedResponse, OutboxMail, StatusCategory, Ticket, TicketEvent
from app.services import tickets
from app.services.thanks import only_thanks
from tests.conftest import login
from tests.ticket_helpers import file_, org, png_bytes, status, user

CLIENT = "client@credit-solidaire.sn"
AGENT = "agent1@novalead.com"

THANKS = [
    "Merci, c'est confirmé",
    "Merci beaucoup !",
    "merci bcp",  # not in the list: see NOT_THANKS
    "Bonjour,\n\nMerci pour votre aide, ça marche maintenant.\n\nCordialement,\nIbrahima Fall\nResponsable informatique",
    "Bonjour Fatou, merci c’est bien réglé. Bonne journée",
    "C'est confirmé, merci à toute l'équipe.",
    "Parfait, merci infiniment",
    "Thanks, confirmed.",
    "Thank you very much, it works now!\n\nBest regards,\nPaul",
    "Great, thanks a lot for your help",
    "Ok merci\n\nEnvoyé de mon iPhone",
]
THANKS.remove("merci bcp")
NOT_THANKS = [
    "Merci, mais ça ne marche toujours pas",
    "Merci ?",
    "Merci, le problème est revenu ce matin.",
    "Merci. Pouvez-vous aussi regarder l'export comptable",
    "Merci, c'est confirmé. Par contre la clôture de décembre échoue avec ERR-2041.",
    "Thanks, but it still fails",
    "Thanks. Could you also reset Khady's password",
    "Pas résolu, merci",
    "Non merci, toujours bloqué",
    "merci bcp",  # an unknown word: when in doubt, the ticket reopens
    "Merci " * 30,  # long
    "Bonjour, la clôture ne passe toujours pas.",
    "",
]


@pytest.mark.parametrize("body", THANKS)
def test_short_thanks_and_confirmations_are_recognised(body):
    assert only_thanks(body)


@pytest.mark.parametrize("body", NOT_THANKS)
def test_near_misses_are_real_replies(body):
    assert not only_thanks(body)


def test_an_attachment_makes_it_a_real_reply():
    assert only_thanks("Merci, c'est confirmé") and not only_thanks("Merci, c'est confirmé", has_attachment=True)


def _resolved_ticket(demo):
    ticket = tickets.create_ticket(user(CLIENT), title="Impression des reçus", body="Les reçus ne s'impriment plus.")
    agent = user(AGENT)
    tickets.assign(user("superviseur@novalead.com"), ticket, [agent.id])
    tickets.add_message(agent, ticket, "Le service d'impression est relancé.")
    tickets.change_status(agent, ticket, status(StatusCategory.RESOLVED).id)
    demo.session.commit()
    return ticket


def _reply_mail(body, key, attachment=False):
    head = f"From: Ibrahima Fall <{CLIENT}>\r\nTo: support@novadesk.local\r\nSubject: Re: [NL-000001] Impression des reçus\r\nMessage-ID: <t{key}@credit-solidaire.sn>\r\nMIME-Version: 1.0\r\n"
    if not attachment:
        return (head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n").encode()
    return (
        head + 'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n' + body
        + '\r\n--b1\r\nContent-Type: text/plain; name="journal.txt"\r\nContent-Disposition: attachment; filename="journal.txt"\r\n\r\nligne 1\r\n--b1--\r\n'
    ).encode()


def _category(demo, ticket):
    demo.session.expire_all()
    return demo.session.get(Ticket, ticket.id).status_category


def test_thanks_by_mail_keeps_the_ticket_resolved_and_the_agent_sees_it(app, demo):
    ticket = _resolved_ticket(demo)
    before = demo.session.query(OutboxMail).filter_by(kind="client_reply", recipient=AGENT).count()
    line = mail_in.ingest(_reply_mail("Merci, c'est confirmé.\r\n\r\nCordialement,\r\nIbrahima Fall\r\n\r\nLe lun. 30 nov. 2026, Support a écrit :\r\n> Le service est relancé ?", "1"))
    assert "rouvert" not in line
    assert _category(demo, ticket) == StatusCategory.RESOLVED
    assert demo.session.query(TicketEvent).filter_by(ticket_id=ticket.id, action="thanks_kept_resolved").count() == 1
    assert demo.session.query(OutboxMail).filter_by(kind="client_reply", recipient=AGENT).count() == before + 1  # the assignee hears of it
    agent = app.test_client()
    login(agent, demo, AGENT)
    shown = agent.get(f"/tickets/{ticket.id}").get_data(as_text=True).replace("&#39;", "'")
    assert "Merci, c'est confirmé." in shown and "Remerciement du client — le ticket reste résolu" in shown


@pytest.mark.parametrize("body,attachment", [("Merci, mais ça ne marche toujours pas", False), ("Merci ?", False), ("Merci, c'est confirmé", True)])
def test_anything_more_by_mail_reopens_as_before(app, demo, body, attachment):
    ticket = _resolved_ticket(demo)
    line = mail_in.ingest(_reply_mail(body, "2", attachment=attachment))
    assert "rouvert" in line and _category(demo, ticket) == StatusCategory.OPEN


def test_thanks_on_the_portal_in_english_keeps_it_resolved_a_real_reply_reopens(app, demo):
    ticket = _resolved_ticket(demo)
    client = app.test_client()
    login(client, demo, CLIENT)
    assert client.post(f"/tickets/{ticket.id}/reply", data={"body": "Thank you very much, it works now!"}).status_code == 302
    assert _category(demo, ticket) == StatusCategory.RESOLVED
    shown = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "Thank you very much, it works now!" in shown
    long_one = "Merci. " + "La clôture de décembre s'arrête à l'étape des intérêts et le journal reste vide. " * 3
    assert client.post(f"/tickets/{ticket.id}/reply", data={"body": long_one}).status_code == 302
    assert _category(demo, ticket) == StatusCategory.OPEN


def test_with_an_attachment_on_the_portal_it_reopens(app, demo):
    ticket = _resolved_ticket(demo)
    client = app.test_client()
    login(client, demo, CLIENT)
    client.post(f"/tickets/{ticket.id}/reply", data={"body": "Merci, c'est confirmé", "attachments": [file_("capture.png", png_bytes())]}, content_type="multipart/form-data")
    assert _category(demo, ticket) == StatusCategory.OPEN


def test_the_rule_can_be_turned_off(app, demo, monkeypatch):
    monkeypatch.setitem(app.config, "THANKS_KEEP_RESOLVED", False)
    ticket = _resolved_ticket(demo)
    mail_in.ingest(_reply_mail("Merci, c'est confirmé", "3"))
    assert _category(demo, ticket) == StatusCategory.OPEN


def test_thanks_to_a_recently_closed_ticket_leave_it_closed(app, demo):
    ticket = _resolved_ticket(demo)
    tickets.change_status(user(AGENT), ticket, status(StatusCategory.CLOSED).id)
    demo.session.commit()
    mail_in.ingest(_reply_mail("Merci beaucoup, bonne journée", "4"))
    assert _category(demo, ticket) == StatusCategory.CLOSED
    assert demo.session.query(TicketEvent).filter_by(ticket_id=ticket.id, action="thanks_kept_closed").count() == 1


# --- greetings (T8) ---------------------------------------------------------------------


def _unidentified_ticket(demo):
    line = mail_in.ingest(
        b"From: inconnu@ailleurs.example\r\nTo: support@novadesk.local\r\nSubject: Caisse bloquee\r\nMessage-ID: <g1@ailleurs.example>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nLa caisse est bloquee.\r\n"
    )
    ticket = demo.session.query(Ticket).order_by(Ticket.id.desc()).first()
    assert ticket.requester is None, line
    return ticket


def test_canned_greeting_without_a_named_requester_is_polite_never_the_organisation(app, demo):
    ticket = _unidentified_ticket(demo)
    tickets.identify_requester(user(AGENT), ticket, org("Crédit Solidaire du Sahel").id)  # the organisation is known, not the person
    demo.session.commit()
    assert ticket.requester is None and ticket.organisation.name == "Crédit Solidaire du Sahel"
    demo.session.add(CannedResponse(title="Welcome", body="Hello {client},\n\nThank you for your request {ticket}.\n\n{agent}", active=True))
    demo.session.commit()
    agent = app.test_client()
    login(agent, demo, AGENT)
    page = agent.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    # The composer's picker holds the filled texts (the workspace's data-canned attribute).
    canned = json.loads(html.unescape(re.search(r"data-canned='([^']*)'", page).group(1)))
    shown = "\n---\n".join(c["text"] for c in canned)
    assert "Bonjour Madame, Monsieur,\n\nNous avons bien reçu votre demande" in shown
    assert "Hello Sir or Madam," in shown
    assert "Bonjour Crédit Solidaire du Sahel" not in shown and "Bonjour {client}" not in shown


def test_canned_greeting_names_the_requester_when_known(app, demo):
    ticket = tickets.create_ticket(user(CLIENT), title="Reçus", body="Les reçus ne s'impriment plus.")
    demo.session.commit()
    canned = db.session.query(CannedResponse).filter(CannedResponse.body.like("Bonjour {client}%")).first()
    assert tickets.fill_canned_response(canned, ticket, user(AGENT)).startswith("Bonjour Ibrahima Fall,")
