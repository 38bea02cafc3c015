"""Mail out (T11): who hears about what, once, in their language; nothing about internal
notes; nobody about their own action; the optional kinds can be turned off. Then through a
real SMTP server: threading headers, and an outage that loses and duplicates nothing."""
import email
from email import policy

import pytest

from app.channels.mail_out import deliver_due_mail
from app.models import OutboxMail, OutboxStatus, StatusCategory
from app.services import notifications, tickets
from tests.conftest import login
from tests.test_mail_delivery import smtp  # noqa: F401  (the real SMTP server fixture)
from tests.ticket_helpers import status, user

CLIENT = "client@credit-solidaire.sn"
AGENT = "agent1@novalead.com"


def kinds_to(db, recipient):
    db.session.expire_all()
    return [m.kind for m in db.session.query(OutboxMail).filter_by(recipient=recipient).order_by(OutboxMail.id)]


@pytest.fixture
def ticket(demo):
    ticket = tickets.create_ticket(user(CLIENT), title="Impression des reçus", body="Les reçus ne s'impriment plus.")
    tickets.assign(user("superviseur@novalead.com"), ticket, [user(AGENT).id])
    demo.session.commit()
    return ticket


def test_the_agent_a_new_ticket_is_routed_to_reads_its_first_message(app, demo):
    from tests.ticket_helpers import queue

    queue(1).members = [user(AGENT)]  # the first-level queue routes each new ticket to its member
    demo.session.commit()
    with app.test_request_context():
        ticket = tickets.create_ticket(user(CLIENT), title="Clôture bloquée", body="La clôture du 30 refuse de se lancer.")
        demo.session.commit()
    assert [a.email for a in ticket.assignees] == [AGENT]
    mail = demo.session.query(OutboxMail).filter_by(kind="ticket_assigned", recipient=AGENT).one()
    assert "La clôture du 30 refuse de se lancer." in mail.body_text and ticket.number in mail.subject


def test_the_life_of_a_ticket_in_mail(ticket, demo):
    client, agent = user(CLIENT), user(AGENT)
    assert kinds_to(demo, CLIENT) == ["ticket_created"]
    assert kinds_to(demo, AGENT) == ["ticket_assigned"]

    tickets.add_message(agent, ticket, "Note : voir le pilote d'impression.", internal=True)
    tickets.add_message(agent, ticket, "Pouvez-vous redémarrer le service d'impression ?")
    demo.session.commit()
    assert kinds_to(demo, CLIENT) == ["ticket_created", "agent_reply"]  # the note is never sent
    reply = demo.session.query(OutboxMail).filter_by(recipient=CLIENT, kind="agent_reply").one()
    assert "Pouvez-vous redémarrer" in reply.body_text and "pilote" not in reply.body_text
    assert reply.subject == "[NL-000001] Nouvelle réponse : Impression des reçus"
    assert reply.body_text.startswith("##- Répondez au-dessus de cette ligne -##")
    assert not reply.auto_submitted  # a person's words, not a robot's

    tickets.add_message(client, ticket, "C'est fait, merci.")
    demo.session.commit()
    assert kinds_to(demo, AGENT) == ["ticket_assigned", "client_reply"]
    assert kinds_to(demo, CLIENT)[-1] == "agent_reply"  # nothing about their own reply

    tickets.change_status(agent, ticket, status(StatusCategory.PENDING).id)
    tickets.change_status(agent, ticket, status(StatusCategory.RESOLVED).id)
    demo.session.commit()
    assert kinds_to(demo, CLIENT)[-2:] == ["ticket_status", "ticket_resolved"]
    resolved = demo.session.query(OutboxMail).filter_by(recipient=CLIENT, kind="ticket_resolved").one()
    assert "répondez simplement à ce message" in resolved.body_text


def test_mail_speaks_the_recipients_language(ticket, demo):
    client = user(CLIENT)
    client.locale = "en"
    demo.session.commit()
    tickets.add_message(user(AGENT), ticket, "Could you restart the print service?")
    demo.session.commit()
    mail = demo.session.query(OutboxMail).filter_by(recipient=CLIENT, kind="agent_reply").one()
    assert mail.subject == "[NL-000001] New reply: Impression des reçus"
    assert mail.body_text.startswith("##- Please type your reply above this line -##")
    assert 'lang="en"' in mail.body_html


def test_optional_mail_can_be_turned_off_and_security_mail_cannot(ticket, demo, client):
    login(client, demo, CLIENT)
    page = client.get("/novauserinfoeditview/form").get_data(as_text=True)
    assert "Réponses du support à mes demandes" in page and "Tickets qui me sont attribués" not in page
    response = client.post(
        "/novauserinfoeditview/form",
        data={"first_name": "Ibrahima", "last_name": "Fall", "phone": "", "locale": "fr", "timezone": "Africa/Dakar", "notifications": ["agent_reply"]},
    )
    assert response.status_code == 302
    demo.session.expire_all()
    assert set(user(CLIENT).muted_notifications) == {"ticket_created", "ticket_status"}
    tickets.change_status(user(AGENT), ticket, status(StatusCategory.PENDING).id)
    tickets.add_message(user(AGENT), ticket, "Une question.")
    demo.session.commit()
    assert [k for k in kinds_to(demo, CLIENT) if k != "two_factor_code"] == ["ticket_created", "agent_reply"]  # no status mail
    notifications.set_muted(user(CLIENT), list(notifications.OPTIONAL_KINDS) + ["two_factor_code"])
    demo.session.commit()
    assert "two_factor_code" not in user(CLIENT).muted_notifications


def test_staff_choices_include_assignment_and_sla(demo, client):
    login(client, demo, AGENT)
    page = client.get("/novauserinfoeditview/form").get_data(as_text=True)
    assert "Tickets qui me sont attribués" in page and "délai (SLA)" in page


def test_nobody_is_told_of_their_own_assignment(demo):
    supervisor = user("superviseur@novalead.com")
    ticket = tickets.create_ticket(user(CLIENT), title="Sauvegarde", body="La sauvegarde échoue.")
    tickets.assign(supervisor, ticket, [supervisor.id, user(AGENT).id])
    demo.session.commit()
    assert "ticket_assigned" not in kinds_to(demo, "superviseur@novalead.com")
    assert kinds_to(demo, AGENT).count("ticket_assigned") == 1


def subject_of(message):
    """The subject as a mail client shows it (RFC 2047 words decoded by the modern parser)."""
    return str(email.message_from_bytes(message.as_bytes(), policy=policy.default)["Subject"])


def test_threading_headers_through_a_real_smtp_server(ticket, demo, smtp, app):  # noqa: F811
    inbox, _ = smtp
    for mail in demo.session.query(OutboxMail):
        mail.status = OutboxStatus.QUEUED  # written before the relay was configured
    app.config["MAIL_REPLY_TO"] = "support@novalead.com"
    try:
        tickets.add_message(user(AGENT), ticket, "Pouvez-vous redémarrer le service d'impression ?")
        demo.session.commit()
    finally:
        app.config["MAIL_REPLY_TO"] = ""
    sent, failed = deliver_due_mail()
    assert (sent, failed) == (3, 0)
    by_subject = {subject_of(m): m for _, m in inbox.messages}
    reply = by_subject["[NL-000001] Nouvelle réponse : Impression des reçus"]
    outbox = demo.session.query(OutboxMail).filter_by(kind="agent_reply").one()
    assert reply["Message-ID"] == outbox.message_id
    assert "<ticket-1@novadesk.local>" in reply["References"]
    assert reply["Reply-To"] == "support@novalead.com"
    assert reply["Auto-Submitted"] is None and reply["X-Auto-Response-Suppress"] == "All"
    created = by_subject["[NL-000001] Demande reçue : Impression des reçus"]
    assert created["Auto-Submitted"] == "auto-generated"
    html = next(p for p in reply.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert "Pouvez-vous redémarrer" in html and "Répondez au-dessus de cette ligne" in html


def test_relay_down_for_a_while_then_every_mail_arrives_once(ticket, demo, smtp):  # noqa: F811
    inbox, controller = smtp
    controller.stop()
    for mail in demo.session.query(OutboxMail):
        mail.status = OutboxStatus.QUEUED
    demo.session.commit()
    agent = user(AGENT)
    for n in range(3):
        tickets.add_message(agent, ticket, f"Réponse {n}")
    tickets.add_message(user(CLIENT), ticket, "Merci")
    demo.session.commit()
    assert deliver_due_mail() == (0, 1)  # the relay is down: one try, the rest waits
    demo.session.expire_all()
    waiting = demo.session.query(OutboxMail).filter_by(status=OutboxStatus.QUEUED).count()
    assert waiting == 6
    from aiosmtpd.controller import Controller

    restarted = Controller(controller.handler, hostname=controller.hostname, port=controller.port)
    restarted.start()
    for mail in demo.session.query(OutboxMail):
        mail.next_attempt_on = mail.created_on  # time passes: every retry is due
    demo.session.commit()
    try:
        assert deliver_due_mail() == (6, 0)
        assert deliver_due_mail() == (0, 0)
    finally:
        restarted.stop()
    subjects = sorted(subject_of(m) for _, m in inbox.messages)
    assert len(subjects) == 6 and len({m["Message-ID"] for _, m in inbox.messages}) == 6
    assert subjects.count("[NL-000001] Nouvelle réponse : Impression des reçus") == 3
    assert email.utils.parseaddr(inbox.messages[0][1]["From"])[1] == "support@novadesk.local"
