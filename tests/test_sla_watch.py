"""The SLA watch (T13) with a frozen clock: a warning before the deadline and an alert at
breach, each once, to the assignee and the supervisors through the outbox; escalation rules;
nothing for tickets waiting for the client, nor for breaches older than the lookback.

Monday 30 November 2026, 08:00 UTC (09:00 in Paris): an urgent ticket's first answer is due
at 09:00 UTC (60 business minutes), its resolution at 13:00 UTC (240: 09–12 and 13–14 Paris)."""
from datetime import datetime, timezone

import pytest

from app import worker
from app.models import EscalationRule, OutboxMail, SlaAlert, TicketEvent
from app.services import ServiceError, clock, sla_watch, tickets
from tests.ticket_helpers import org, priority, status, user

CREATED = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)


def utc(hour, minute=0, day=30):
    return datetime(2026, 11, day, hour, minute, tzinfo=timezone.utc)


@pytest.fixture
def urgent(app, demo, monkeypatch):
    monkeypatch.setitem(app.config, "SLA_WARNING_MINUTES", 30)
    demo.session.query(EscalationRule).delete()  # the demo's rule: each test sets its own
    supervisor = user("superviseur@novalead.com")
    with app.test_request_context(), clock.frozen(CREATED):
        ticket = tickets.create_ticket(supervisor, title="Clôture bloquée", body="b", organisation_id=org("Baobab Microcrédit").id, priority_id=priority("urgent").id)
        tickets.assign(supervisor, ticket, [user("agent1@novalead.com").id])
        demo.session.commit()
    assert ticket.first_response_due == utc(9) and ticket.resolution_due == utc(13)
    return ticket


def watch(app, at):
    with app.test_request_context(), clock.frozen(at):
        raised = sla_watch.check_deadlines()
        from app.extensions import db

        db.session.commit()
        return raised


def mails(db, kind):
    db.session.expire_all()
    return sorted(m.recipient for m in db.session.query(OutboxMail).filter_by(kind=kind))


def test_warning_then_breach_each_once(app, demo, urgent):
    assert watch(app, utc(8, 10)) == 0  # 50 minutes left: nothing yet
    assert watch(app, utc(8, 35)) == 1  # 25 minutes left: warning
    assert watch(app, utc(8, 40)) == 0  # already warned
    assert mails(demo, "sla_warning") == ["agent1@novalead.com", "superviseur@novalead.com"]
    warning = demo.session.query(OutboxMail).filter_by(kind="sla_warning", recipient="agent1@novalead.com").one()
    assert urgent.number in warning.subject and "30/11/2026 10:00" in warning.body_text  # due, in the agent's time zone
    assert watch(app, utc(9, 1)) == 1  # breach
    assert watch(app, utc(9, 30)) == 0
    assert mails(demo, "sla_breach") == ["agent1@novalead.com", "superviseur@novalead.com"]
    stages = [(a.deadline, a.stage) for a in demo.session.query(SlaAlert).order_by(SlaAlert.id)]
    assert stages == [("first_response", "warning"), ("first_response", "breach")]
    history = [e.action for e in demo.session.query(TicketEvent).filter_by(ticket_id=urgent.id, internal=True)]
    assert history.count("sla_warning") == 1 and history.count("sla_breach") == 1


def test_an_answer_stops_the_first_response_watch(app, demo, urgent):
    with app.test_request_context(), clock.frozen(utc(8, 20)):
        tickets.add_message(user("agent1@novalead.com"), urgent, "On regarde")
        demo.session.commit()
    assert watch(app, utc(9, 30)) == 0
    assert watch(app, utc(12, 40)) == 1  # resolution due at 13:00: warning
    assert [a.deadline for a in demo.session.query(SlaAlert)] == ["resolution"]


def test_waiting_for_the_client_is_not_watched(app, demo, urgent):
    with app.test_request_context(), clock.frozen(utc(8, 20)):
        tickets.add_message(user("agent1@novalead.com"), urgent, "Pouvez-vous préciser ?")
        tickets.change_status(user("agent1@novalead.com"), urgent, status("pending").id)
        demo.session.commit()
    assert watch(app, utc(13, 30)) == 0


def test_old_breaches_are_not_mailed(app, demo, urgent):
    """First seen three days after its deadlines (worker stopped): recorded nowhere, mailed to nobody."""
    assert watch(app, datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)) == 0
    assert mails(demo, "sla_breach") == []


def test_escalation_rule_raises_level_and_tells_the_commercial(app, demo, urgent):
    demo.session.add(EscalationRule(name="Urgent en retard", stage="breach", priority_id=priority("urgent").id, raise_level=True, notify_commercial=True))
    demo.session.commit()
    level_before = urgent.queue.support_level if urgent.queue else 0
    watch(app, utc(9, 1))
    demo.session.expire_all()
    assert urgent.queue.support_level > level_before
    commercial = urgent.organisation.account_manager.email
    assert commercial in mails(demo, "sla_breach")
    breach = demo.session.query(OutboxMail).filter_by(kind="sla_breach", recipient=commercial).one()
    assert "transmis au support de niveau" in breach.body_text


def test_raising_the_priority_makes_new_deadlines_to_watch(app, demo, urgent):
    demo.session.add(EscalationRule(name="Normale en retard", stage="warning", priority_id=priority("normal").id, raise_priority=True))
    demo.session.commit()
    with app.test_request_context(), clock.frozen(CREATED):
        tickets.change_priority(user("superviseur@novalead.com"), urgent, priority("normal").id)
        demo.session.commit()
    # normal: first answer due 480 business minutes later, Tuesday 09:00 Paris (08:00 UTC)
    assert watch(app, datetime(2026, 12, 1, 7, 35, tzinfo=timezone.utc)) == 1
    demo.session.expire_all()
    assert urgent.priority.key == "high"  # one step up, deadlines recomputed from creation
    assert urgent.first_response_due == utc(13)  # 240 minutes: 09–12 and 13–14 Paris


def test_rules_are_checked_before_they_are_saved(app, demo):
    with pytest.raises(ServiceError):
        sla_watch.check_rule(EscalationRule(name="Rien", stage="breach"))
    with pytest.raises(ServiceError):
        sla_watch.check_rule(EscalationRule(name="Client", stage="breach", reassign_to=user("client@baobab-mc.tg")))
    sla_watch.check_rule(EscalationRule(name="Agent", stage="breach", deadline="", reassign_to=user("agent2@novalead.com")))


def test_the_worker_pass_runs_the_watch(app, demo, urgent):
    with clock.frozen(utc(9, 5)):
        worker.run_once(app)
    demo.session.expire_all()
    assert demo.session.query(SlaAlert).count() == 1
    assert len(mails(demo, "sla_breach")) == 2


def test_admin_configures_a_rule_in_the_admin_screen(app, demo):
    from tests.conftest import login

    demo.session.query(EscalationRule).delete()
    demo.session.commit()
    client = app.test_client()
    login(client, demo, "admin@novalead.com")
    page = client.get("/config/escalation-rules/add").get_data(as_text=True)
    assert "Passer au niveau de support suivant" in page
    client.post("/config/escalation-rules/add", data={"name": "Rien du tout", "stage": "breach", "deadline": "", "position": "0", "active": "y"})
    assert demo.session.query(EscalationRule).count() == 0  # a rule that does nothing is refused
    client.post("/config/escalation-rules/add", data={
        "name": "Résolution urgente manquée", "stage": "breach", "deadline": "resolution", "priority": str(priority("urgent").id),
        "raise_level": "y", "notify_commercial": "y", "position": "1", "active": "y",
    })
    rule = demo.session.query(EscalationRule).one()
    assert (rule.stage, rule.deadline, rule.priority.key, rule.raise_level, rule.notify_commercial, rule.raise_priority) == ("breach", "resolution", "urgent", True, True, False)
    listing = client.get("/config/escalation-rules/list/").get_data(as_text=True)
    assert "Résolution urgente manquée" in listing and "Échéance dépassée" in listing


def test_a_breach_is_announced_to_webhooks_once(app, demo, urgent):
    import json

    from app.models import WebhookDelivery, WebhookSubscription
    from app.services import webhooks

    subscription = WebhookSubscription(name="Supervision", url="https://erp.example/hook", events=["sla.breached"], active=True)
    webhooks.check_subscription(None, subscription, created=True)
    demo.session.add(subscription)
    demo.session.commit()
    watch(app, utc(8, 45))  # a warning only: not a breach
    assert demo.session.query(WebhookDelivery).count() == 0
    watch(app, utc(9, 5))
    watch(app, utc(9, 10))
    deliveries = demo.session.query(WebhookDelivery).all()
    assert [d.event for d in deliveries] == ["sla.breached"]
    data = json.loads(deliveries[0].body)["data"]
    assert data["ticket"]["number"] == urgent.number and data["deadline"] == "first_response"


def test_a_ticket_handed_over_by_a_rule_leaves_new(app, demo, monkeypatch):
    """A rule that gives a late new ticket to an agent puts someone in charge: like a hand or
    routing assignment (T7), the ticket leaves « Nouveau » for the first open status."""
    demo.session.query(EscalationRule).delete()
    demo.session.add(EscalationRule(name="Personne dessus", stage="breach", reassign_to=user("agent2@novalead.com")))
    with app.test_request_context(), clock.frozen(CREATED):
        ticket = tickets.create_ticket(user("superviseur@novalead.com"), title="Relevés introuvables", body="b", organisation_id=org("Baobab Microcrédit").id, priority_id=priority("urgent").id)
        demo.session.commit()
    assert ticket.status.category == "new" and ticket.assignees == []
    watch(app, utc(9, 1))
    demo.session.expire_all()
    assert [member.email for member in ticket.assignees] == ["agent2@novalead.com"]
    assert ticket.status_category == "open" and ticket.status.category == "open"
