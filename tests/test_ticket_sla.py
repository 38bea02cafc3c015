"""SLA deadlines through the ticket service, with a frozen clock (T4): nights, weekends,
holidays, pause while waiting for the client, priority change. Default calendar: Monday to
Friday 08:00–12:00 and 13:00–17:00, Europe/Paris (UTC+1 in winter)."""
from datetime import date, datetime, timezone

from app.models import BusinessCalendar, Holiday
from app.services import clock, sla, tickets
from tests.ticket_helpers import org, priority, status, user


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def make(app, at, key="normal"):
    agent = user("agent1@novalead.com")
    with clock.frozen(at):
        return tickets.create_ticket(agent, title="t", body="b", organisation_id=org("Baobab Microcrédit").id, priority_id=priority(key).id)


def test_urgent_on_friday_evening_is_due_monday_morning(app, demo):
    with app.test_request_context():
        ticket = make(app, utc(2026, 11, 27, 15, 30), "urgent")  # Friday 16:30 in Paris
        # first response: 60 min = Fri 16:30–17:00 (30) + Mon 08:00–08:30 (30)
        assert ticket.first_response_due == utc(2026, 11, 30, 7, 30)
        # resolution: 240 min = 30 on Friday + Mon 08:00–11:30 (210)
        assert ticket.resolution_due == utc(2026, 11, 30, 10, 30)


def test_a_holiday_is_skipped(app, demo):
    calendar = demo.session.query(BusinessCalendar).one()
    demo.session.add(Holiday(calendar=calendar, day=date(2026, 11, 30), name="Jour férié de test"))
    demo.session.commit()
    with app.test_request_context():
        ticket = make(app, utc(2026, 11, 27, 15, 30), "urgent")
        assert ticket.first_response_due == utc(2026, 12, 1, 7, 30)  # Tuesday 08:30 in Paris


def test_pause_while_waiting_for_the_client_pushes_the_deadline(app, demo):
    agent, client = user("agent1@novalead.com"), user("client@baobab-mc.tg")
    with app.test_request_context():
        ticket = make(app, utc(2026, 11, 30, 8, 0))  # Monday 09:00 in Paris, normal priority
        assert ticket.first_response_due == utc(2026, 12, 1, 8, 0)  # 480 min: Tuesday 09:00
        assert ticket.resolution_due == utc(2026, 12, 3, 8, 0)  # 1440 min: Thursday 09:00
        with clock.frozen(utc(2026, 11, 30, 9, 0)):  # Monday 10:00: answer, then wait for the client
            tickets.add_message(agent, ticket, "Pouvez-vous préciser ?")
            tickets.change_status(agent, ticket, status("pending").id)
        with clock.frozen(utc(2026, 12, 1, 16, 0)):  # Tuesday 17:00, still waiting: not late
            assert not sla.is_late(ticket)
        with clock.frozen(utc(2026, 12, 2, 9, 0)):  # Wednesday 10:00: the client answers
            tickets.add_message(client, ticket, "Voici les précisions.")
        # paused: Mon 10–12 (120) + 13–17 (240) + Tue (480) + Wed 08–10 (120) = 960 business minutes
        assert ticket.sla_paused_minutes == 960
        # 1440 + 960 = 2400 from Monday 09:00: Mon 420, Tue–Fri 4 × 480 = 1920, then Mon 7 Dec 08:00 + 60
        assert ticket.resolution_due == utc(2026, 12, 7, 8, 0)
        demo.session.rollback()


def test_priority_change_recomputes_from_creation(app, demo):
    agent = user("agent1@novalead.com")
    with app.test_request_context():
        ticket = make(app, utc(2026, 11, 30, 8, 0))  # Monday 09:00 in Paris
        with clock.frozen(utc(2026, 11, 30, 8, 30)):
            tickets.change_priority(agent, ticket, priority("urgent").id)
        assert ticket.first_response_due == utc(2026, 11, 30, 9, 0)  # 09:00 + 60 min
        assert ticket.resolution_due == utc(2026, 11, 30, 13, 0)  # 09:00–12:00 (180) + 13:00–14:00 (60)
        with clock.frozen(utc(2026, 11, 30, 13, 1)):
            assert sla.is_late(ticket)
        demo.session.rollback()


def test_late_tickets_show_in_the_overdue_filter(app, demo):
    from tests.conftest import login

    with app.test_request_context():
        late = make(app, utc(2026, 11, 2, 8, 0), "urgent")
        late.title = "Vraiment en retard"
        on_time = make(app, utc(2026, 11, 2, 8, 0), "low")
        on_time.title = "Dans les temps"
        tickets.add_message(user("agent1@novalead.com"), on_time, "Réponse rapide")
        demo.session.commit()
    agent = app.test_client()
    login(agent, demo, "agent1@novalead.com")
    with clock.frozen(utc(2026, 11, 3, 12, 0)):
        text = agent.get("/tickets/?overdue=1&view=all").get_data(as_text=True)
    assert "Vraiment en retard" in text and "Dans les temps" not in text
