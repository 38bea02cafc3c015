"""Dashboard and report figures against a hand-computed week (P1, P3).

Calendar: Monday to Friday 08:00–12:00 and 13:00–17:00 in Paris (UTC+1 in November), so
business hours are 07:00–11:00 and 12:00–16:00 UTC. Every ticket below is made through the
services with a frozen clock; the expected numbers are worked out by hand in the comments.
The period is Monday 16 to Friday 20 November 2026; figures are read on Monday 23 at 12:00 UTC.

Crédit Solidaire has one ticket (T7); every other ticket is Baobab's:
  T1 normal, Mon 16 08:00: answered 10:00 (120 min), resolved Tue 17 09:00
     (Mon 180 + 240, Tue 120 = 540 min), due Thu: on time. Rated 5.
  T2 urgent, Fri 20 15:00 (16:00 Paris): first answer due Fri 17:00 Paris, answered Mon 23
     08:00 UTC (Fri 60 + Mon 60 = 120 min): LATE. Resolved Mon 23 09:30 (60 + 150 = 210 min),
     due Mon 11:00 Paris: on time. Rated 2.
  T3 high, Tue 17 08:00: answered 09:00 (60 min), resolved 12:00 (180 min), REOPENED by the
     client Wed 18 08:00, resolved again 10:00: Tue 180 + 240 + Wed 180 = 600 min; resolution
     was due Wed 09:00 Paris: LATE.
  T4 low, Wed 18 08:00, never answered: first answer due Mon 23 09:00 Paris: LATE at noon.
  T5 normal, Thu 19 08:00, merged into T4: counted nowhere.
  T6 urgent, Thu 19 08:00, answered 08:30 (30 min) and waiting for the client since: its
     resolution was due Thu 14:00 Paris, but a ticket waiting for the client is not late.
  T7 (Crédit Solidaire) normal, Mon 16 09:00, never answered: LATE.
  T8 normal, Fri 13 10:00: before the period, still new.
  T9 normal, Mon 23 09:00: today, new.
Agents: T1, T2, T6 to Fatou (agent1); T3, T4 to agent2; T7 to nobody.
"""
from datetime import date, datetime, timezone

import pytest

from app.models import Ticket
from app.services import clock, figures, rollups, satisfaction, sla_watch, ticket_links, tickets
from tests.ticket_helpers import org, priority, status, user

PERIOD = figures.Period(date(2026, 11, 16), date(2026, 11, 20), "Europe/Paris")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def utc(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=timezone.utc)


def at(moment, action):
    with clock.frozen(moment):
        return action()


@pytest.fixture
def week(app, demo):
    agent1, agent2 = user("agent1@novalead.com"), user("agent2@novalead.com")
    supervisor, client = user("superviseur@novalead.com"), user("client@baobab-mc.tg")
    baobab, solidaire = org("Baobab Microcrédit"), org("Crédit Solidaire du Sahel")
    resolved = status("resolved").id

    def new(moment, key, organisation=baobab, requester=client, title="t"):
        ticket = at(moment, lambda: tickets.create_ticket(
            supervisor, title=title, body="b", organisation_id=organisation.id,
            requester_id=requester.id if requester else None, priority_id=priority(key).id,
        ))
        at(moment, lambda: tickets.assign(supervisor, ticket, []))
        return ticket

    def answer(moment, agent, ticket):
        at(moment, lambda: tickets.add_message(agent, ticket, "Réponse"))

    def resolve(moment, agent, ticket):
        at(moment, lambda: tickets.change_status(agent, ticket, resolved))

    with app.test_request_context():
        t1 = new(utc(16, 8), "normal", title="T1")
        at(utc(16, 8), lambda: tickets.assign(supervisor, t1, [agent1.id]))
        answer(utc(16, 10), agent1, t1)
        resolve(utc(17, 9), agent1, t1)
        at(utc(17, 10), lambda: satisfaction.rate_ticket(client, t1, 5, "Très bien"))

        t2 = new(utc(20, 15), "urgent", title="T2")
        at(utc(20, 15), lambda: tickets.assign(supervisor, t2, [agent1.id]))
        answer(utc(23, 8), agent1, t2)
        resolve(utc(23, 9, 30), agent1, t2)
        at(utc(23, 10), lambda: satisfaction.rate_ticket(client, t2, 2, "Trop lent"))

        t3 = new(utc(17, 8), "high", title="T3")
        at(utc(17, 8), lambda: tickets.assign(supervisor, t3, [agent2.id]))
        answer(utc(17, 9), agent2, t3)
        resolve(utc(17, 12), agent2, t3)
        assert t3.resolution_minutes == 180
        at(utc(18, 8), lambda: tickets.add_message(client, t3, "Toujours en erreur"))  # reopens
        assert t3.resolution_minutes is None and t3.status_category == "open"
        resolve(utc(18, 10), agent2, t3)

        t4 = new(utc(18, 8), "low", title="T4")
        at(utc(18, 8), lambda: tickets.assign(supervisor, t4, [agent2.id]))

        t5 = new(utc(19, 8), "normal", title="T5")
        at(utc(19, 9), lambda: ticket_links.merge(agent1, t5, t4.number))

        t6 = new(utc(19, 8), "urgent", title="T6")
        at(utc(19, 8), lambda: tickets.assign(supervisor, t6, [agent1.id]))
        answer(utc(19, 8, 30), agent1, t6)
        at(utc(19, 8, 30), lambda: tickets.change_status(agent1, t6, status("pending").id))

        t7 = new(utc(16, 9), "normal", organisation=solidaire, requester=None, title="T7")
        t8 = new(utc(13, 10), "normal", title="T8")
        t9 = new(utc(23, 9), "normal", title="T9")
        with clock.frozen(NOW):  # committed when the figures are read (the worker ran until then)
            demo.session.commit()
    return {"t1": t1, "t2": t2, "t3": t3, "t4": t4, "t5": t5, "t6": t6, "t7": t7, "t8": t8, "t9": t9}


def test_business_minutes_kept_on_the_tickets(week):
    assert [week[k].first_response_minutes for k in ("t1", "t2", "t3", "t4", "t6")] == [120, 120, 60, None, 30]
    assert [week[k].resolution_minutes for k in ("t1", "t2", "t3", "t4", "t6")] == [540, 210, 600, None, None]


def test_period_summary_for_the_client_and_for_staff(app, week):
    with clock.frozen(NOW):
        baobab = figures.summary(user("client@baobab-mc.tg"), PERIOD)
        staff = figures.summary(user("superviseur@novalead.com"), PERIOD)
    assert (baobab.tickets, baobab.answered, baobab.first_response_minutes) == (5, 4, pytest.approx(82.5))  # (120+120+60+30)/4
    assert (baobab.resolved, baobab.resolution_minutes) == (3, pytest.approx(450))  # (540+210+600)/3
    assert (baobab.breached, baobab.sla_rate) == (3, 40.0)  # T2, T3, T4
    assert (baobab.ratings, baobab.mean_score, baobab.satisfaction_rate) == (2, pytest.approx(3.5), 50.0)
    assert (staff.tickets, staff.breached, staff.sla_rate) == (6, 4, 33.3)  # + T7, late


def test_a_waiting_deadline_counts_only_once_passed(app, db, week):
    """As the figures stood on Friday 20 at 12:00 UTC, T4's first answer (due Monday) is not
    late yet; answers and resolutions already given late stay late. Once the deadline has
    passed, the SLA watch's pass has T4's day counted again: late."""
    supervisor = user("superviseur@novalead.com")
    with app.test_request_context(), clock.frozen(utc(20, 12)):
        rollups.rebuild_in_sql(db.session.connection())  # the figures as counted on Friday
        staff = figures.summary(supervisor, PERIOD)
        assert (staff.tickets, staff.breached) == (6, 3)  # T2, T3, T7
        db.session.commit()
    with app.test_request_context(), clock.frozen(NOW):
        sla_watch.check_deadlines()
        db.session.commit()
        staff = figures.summary(supervisor, PERIOD)
    assert (staff.tickets, staff.breached) == (6, 4)  # + T4


def test_counts_and_today(app, week):
    client = user("client@baobab-mc.tg")
    with clock.frozen(NOW):
        assert figures.status_counts(client) == {"new": 2, "open": 1, "pending": 1, "resolved": 3, "closed": 0}  # T4 opened when assigned
        flow = figures.new_and_resolved(client, "Europe/Paris")
    assert (flow["created_today"], flow["created_week"], flow["resolved_today"], flow["resolved_week"]) == (1, 1, 1, 1)


def test_per_agent_and_per_client(app, week):
    supervisor = user("superviseur@novalead.com")
    with clock.frozen(NOW):
        per_agent = {row.label: row for row in figures.breakdown(supervisor, PERIOD, "agent")}
        per_client = {row.label: row for row in figures.breakdown(supervisor, PERIOD, "organisation")}
        team = {row["label"]: row for row in figures.agents(supervisor, PERIOD)}
    fatou = user("agent1@novalead.com").full_name
    second = user("agent2@novalead.com").full_name
    assert (per_agent[fatou].tickets, per_agent[fatou].first_response_minutes, per_agent[fatou].resolution_minutes, per_agent[fatou].breached) == (3, pytest.approx(90), pytest.approx(375), 1)
    assert (per_agent[second].tickets, per_agent[second].first_response_minutes, per_agent[second].resolution_minutes, per_agent[second].breached) == (2, pytest.approx(60), pytest.approx(600), 2)
    assert per_agent[""].tickets == 1  # T7, nobody's
    assert (team[fatou]["active"], team[second]["active"]) == (1, 1)  # T6 pending; T4 new
    assert per_client["Baobab Microcrédit"].tickets == 5 and per_client["Crédit Solidaire du Sahel"].tickets == 1


def test_backlog_per_day(app, week):
    with clock.frozen(NOW):
        days = figures.daily_flow(user("client@baobab-mc.tg"), PERIOD)
    assert [(d["created"], d["resolved"], d["backlog"]) for d in days] == [(1, 0, 2), (1, 1, 2), (1, 1, 2), (1, 0, 3), (1, 0, 4)]


def test_previous_period_is_the_week_before(app, week):
    previous = PERIOD.previous()
    assert (previous.first_day, previous.last_day) == (date(2026, 11, 11), date(2026, 11, 15))
    with clock.frozen(NOW):
        assert figures.summary(user("superviseur@novalead.com"), previous).tickets == 1  # T8


def test_partners_get_no_team_figures(app, demo, week):
    client = user("client@baobab-mc.tg")
    with clock.frozen(NOW):
        assert figures.agents(client, PERIOD) == []
        with pytest.raises(ValueError):
            figures.breakdown(client, PERIOD, "agent")
    assert demo.session.query(Ticket).count() == 9


def test_the_report_in_one_pass_matches_each_breakdown(app, week):
    """figures.report (one temporary table) and figures.breakdown (one query each) agree."""
    for email in ("superviseur@novalead.com", "client@baobab-mc.tg", "commercial2@novalead.com"):
        person = user(email)
        with clock.frozen(NOW):
            whole = figures.report(person, PERIOD)
            assert whole["summary"].as_dict() == figures.summary(person, PERIOD).as_dict()
            assert whole["previous"].tickets == figures.summary(person, PERIOD.previous()).tickets
            assert set(whole["breakdowns"]) == set(figures.dimensions_for(person))
            for dimension, (rows, before) in whole["breakdowns"].items():
                assert [r.as_dict() for r in rows] == [r.as_dict() for r in figures.breakdown(person, PERIOD, dimension)], dimension
                assert before == {r.key: r.tickets for r in figures.breakdown(person, PERIOD.previous(), dimension)}, dimension
