"""Mail through a real SMTP server (aiosmtpd): delivery, relay outage, no duplicates."""
import email
import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller

from app.channels.mail_out import deliver_due_mail
from app.extensions import mail
from app.models import OutboxMail, OutboxStatus
from app.models.types import utcnow
from tests.conftest import DEMO_PASSWORD

CLIENT = "client@credit-solidaire.sn"


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content)))
        return "250 OK"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(app, demo):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    saved = {key: app.config[key] for key in ("MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    mail.init_app(app)
    yield inbox, controller
    try:
        controller.stop()
    except Exception:
        pass
    app.config.update(saved)
    mail.init_app(app)


def test_two_factor_code_is_delivered_by_smtp(client, demo, smtp):
    inbox, _ = smtp
    client.post("/login/", data={"email": CLIENT, "password": DEMO_PASSWORD})
    queued = demo.session.query(OutboxMail).filter_by(recipient=CLIENT).one()
    assert queued.status == OutboxStatus.QUEUED
    assert deliver_due_mail() == (1, 0)
    (recipients, message), = inbox.messages
    assert recipients == [CLIENT]
    assert message["Auto-Submitted"] == "auto-generated"
    assert "Votre code de connexion" in str(email.header.make_header(email.header.decode_header(message["Subject"])))
    parts = {part.get_content_type() for part in message.walk()}
    assert {"text/plain", "text/html"} <= parts
    code = next(part for part in message.walk() if part.get_content_type() == "text/plain").get_payload(decode=True).decode()
    import re

    sent_code = re.search(r"\b(\d{6})\b", code).group(1)
    client.post("/login/verify", data={"code": sent_code})
    assert client.get("/").status_code == 200
    # Delivered: the code no longer sits in the outbox, nor on the admins' screen.
    demo.session.expire_all()
    kept = demo.session.query(OutboxMail).filter_by(recipient=CLIENT).one()
    assert sent_code not in kept.subject + kept.body_text and kept.body_html is None


def test_relay_down_loses_nothing_and_sends_once(client, demo, smtp):
    inbox, controller = smtp
    controller.stop()
    client.post("/login/", data={"email": CLIENT, "password": DEMO_PASSWORD})
    assert deliver_due_mail() == (0, 1)
    demo.session.expire_all()
    waiting = demo.session.query(OutboxMail).filter_by(recipient=CLIENT).one()
    assert waiting.status == OutboxStatus.QUEUED
    assert waiting.attempts == 1 and waiting.last_error
    assert waiting.next_attempt_on > utcnow()
    assert deliver_due_mail() == (0, 0)  # not due yet: no hammering of the relay
    relay_back = Controller(inbox, hostname="127.0.0.1", port=controller.port)
    relay_back.start()
    waiting.next_attempt_on = utcnow() - timedelta(seconds=1)
    demo.session.commit()
    assert deliver_due_mail() == (1, 0)
    assert deliver_due_mail() == (0, 0)
    assert len(inbox.messages) == 1
    relay_back.stop()
