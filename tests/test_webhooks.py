"""Webhooks against a real HTTP receiver that fails, then succeeds: every event delivered once,
in order per ticket, with a valid signature; refused URLs; the admin's "Renvoyer"."""
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.models import DeliveryStatus, NovaUser, Organisation, WebhookDelivery, WebhookEvent, WebhookSubscription
from app.services import ServiceError


class Receiver:
    """A local HTTP server: answers 503 to the first `failures` requests, then 200."""

    def __init__(self, failures):
        self.failures = failures
        self.accepted = []  # (headers, body) of the requests answered 200
        self.requests = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests += 1
                if receiver.requests <= receiver.failures:
                    self.send_response(503)
                    self.end_headers()
                    return
                receiver.accepted.append((dict(self.headers), body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _subscribe(db, url, events=WebhookEvent.ALL, actor=None):
    from app.services import webhooks

    subscription = WebhookSubscription(name="ERP", url=url, events=list(events), active=True)
    webhooks.check_subscription(actor, subscription, created=True)
    db.session.add(subscription)
    db.session.commit()
    return subscription


def _deliver_until_done(app, passes=12):
    from app.channels.webhook_out import deliver_due_webhooks

    for _ in range(passes):
        deliver_due_webhooks()
        from app.extensions import db

        if not db.session.query(WebhookDelivery).filter_by(status=DeliveryStatus.QUEUED).count():
            return
    raise AssertionError("deliveries still queued")


def test_every_event_is_delivered_once_in_order_per_ticket_and_signed(app, demo):
    from app.services import tickets
    from tests.ticket_helpers import priority, status

    app.config["WEBHOOK_RETRY_SECONDS"] = 0  # retry at the next pass
    try:
        with Receiver(failures=3) as receiver:
            subscription = _subscribe(demo, receiver.url)
            agent = demo.session.query(NovaUser).filter_by(email="agent1@novalead.com").one()
            client = demo.session.query(NovaUser).filter_by(email="client@credit-solidaire.sn").one()
            org = demo.session.query(Organisation).filter_by(name="Crédit Solidaire du Sahel").one()
            with app.test_request_context():
                first = tickets.create_ticket(client, title="Premier", body="b", organisation_id=org.id)
                second = tickets.create_ticket(agent, title="Second", body="b", organisation_id=org.id)
                tickets.add_message(agent, first, "Réponse publique")
                tickets.add_message(agent, first, "Note interne", internal=True)  # never leaves
                tickets.change_priority(agent, second, priority("urgent").id)
                tickets.change_status(agent, first, status("closed").id)
                demo.session.commit()
            queued = demo.session.query(WebhookDelivery).order_by(WebhookDelivery.id).all()
            expected = {ticket.id: [d.event_id for d in queued if d.ticket_id == ticket.id] for ticket in (first, second)}
            _deliver_until_done(app)
    finally:
        app.config["WEBHOOK_RETRY_SECONDS"] = 30
    assert receiver.requests == len(queued) + 3  # three refusals retried, nothing sent twice once accepted
    received = [json.loads(body) for _, body in receiver.accepted]
    assert sorted(e["id"] for e in received) == sorted(d.event_id for d in queued)  # each once
    for ticket_id, ids in expected.items():
        assert [e["id"] for e in received if e["data"]["ticket"]["id"] == ticket_id] == ids  # in order
    events_of_first = [e["event"] for e in received if e["data"]["ticket"]["id"] == first.id]
    assert events_of_first == ["ticket.created", "ticket.replied", "ticket.updated", "ticket.updated", "ticket.closed"]
    assert not any("Note interne" in body.decode() for _, body in receiver.accepted)
    for headers, body in receiver.accepted:
        expected_signature = "sha256=" + hmac.new(subscription.secret.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-NovaDesk-Signature"], expected_signature)
        assert headers["X-NovaDesk-Event-Id"] == json.loads(body)["id"]
        assert headers["X-NovaDesk-Timestamp"].isdigit()
    demo.session.expire_all()
    assert {d.status for d in demo.session.query(WebhookDelivery)} == {DeliveryStatus.DELIVERED}


def test_a_rolled_back_change_sends_nothing_and_urls_are_checked(app, demo):
    from app.extensions import db
    from app.services import tickets

    _subscribe(demo, "https://erp.example/hook", events=[WebhookEvent.TICKET_CREATED])
    agent = demo.session.query(NovaUser).filter_by(email="agent1@novalead.com").one()
    org = demo.session.query(Organisation).filter_by(name="Crédit Solidaire du Sahel").one()
    with app.test_request_context():
        tickets.create_ticket(agent, title="Annulé", body="b", organisation_id=org.id)
        db.session.rollback()
    assert demo.session.query(WebhookDelivery).count() == 0
    for url in ("file:///etc/passwd", "gopher://x", "javascript:alert(1)", "http://", "/relative"):
        with pytest.raises(ServiceError):
            _subscribe(demo, url)


def test_a_failing_receiver_is_retried_with_backoff_then_given_up_and_resent(app, demo):
    from datetime import timedelta

    from app.channels.webhook_out import deliver_due_webhooks
    from app.services import clock, webhooks

    with Receiver(failures=1000) as receiver:
        _subscribe(demo, receiver.url)
        admin = demo.session.query(NovaUser).filter_by(email="admin@novalead.com").one()
        webhooks.chat_started({"id": 1, "organisation": None, "visitor_email": "a@b.example", "started_on": "2026-11-27T14:00:00+00:00"})
        demo.session.commit()
        deliver_due_webhooks()
        delivery = demo.session.query(WebhookDelivery).one()
        assert delivery.attempts == 1 and delivery.last_status_code == 503
        wait = delivery.next_attempt_on - clock.now()
        assert timedelta(seconds=20) < wait <= timedelta(seconds=30)
        deliver_due_webhooks()  # not due yet: not retried
        assert receiver.requests == 1
        later = clock.now() + timedelta(hours=2)
        max_attempts = app.config["WEBHOOK_MAX_ATTEMPTS"]
        with clock.frozen(later):
            for _ in range(max_attempts):
                delivery.next_attempt_on = later
                demo.session.commit()
                deliver_due_webhooks()
        demo.session.refresh(delivery)
        assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == max_attempts
        receiver.failures = 0
        with app.test_request_context():
            webhooks.resend(admin, [delivery])
            demo.session.commit()
        deliver_due_webhooks()
        demo.session.refresh(delivery)
        assert delivery.status == DeliveryStatus.DELIVERED
        assert len(receiver.accepted) == 1


def test_admin_screens(app, demo):
    from tests.conftest import login

    client = app.test_client()
    login(client, demo, "admin@novalead.com")
    form = {"name": "CRM", "url": "https://crm.example/novadesk", "events": ["ticket.created", "sla.breached"], "active": "y"}
    assert client.post("/webhooks/add", data=form).status_code == 302
    subscription = demo.session.query(WebhookSubscription).filter_by(name="CRM").one()
    assert subscription.events == ["ticket.created", "sla.breached"] and len(subscription.secret) == 64
    page = client.get(f"/webhooks/show/{subscription.id}").get_data(as_text=True)
    assert subscription.secret in page and "Délai SLA dépassé" in page
    client.post("/webhooks/add", data={**form, "name": "Mauvais", "url": "ftp://crm.example"})
    assert demo.session.query(WebhookSubscription).filter_by(name="Mauvais").count() == 0
    assert client.get("/webhooks/deliveries/list/").status_code == 200
