"""The per-day figures the reports sum (ticket_day_figures) agree with the tickets.

Random changes go through the services over ten weeks across a month's end (tickets created,
assigned, answered, resolved, reopened, rated, merged, given another priority, one moved to
another organisation), each committed separately as a request would (and, apart, a bulk
update the ORM cannot follow row by row). Then every role's summary, breakdowns, report and
daily flow over periods in several time zones (whole months, month edges, a single day, a half-hour
offset) are compared with the same figures read directly from the tickets, and the rows kept
change by change with the rows counted again from scratch.

The SLA watch runs between the changes as the worker would (every few hours of the frozen
clock, and on to the moment of reading): the running tickets' lateness is kept in the rows and
counted again by the watch when a deadline passes, so no report reads them."""
import random
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.models import NovaUser, Organisation, Ticket, TicketDayFigures
from app.services import ServiceError, clock, figures, rollups, satisfaction, sla_watch, ticket_links, tickets
from tests.conftest import restore_data, snapshot_data
from tests.ticket_helpers import priority, status, user

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
READERS = ["superviseur@novalead.com", "commercial1@novalead.com", "client@baobab-mc.tg", "client@credit-solidaire.sn"]
PERIODS = [
    figures.Period(date(2026, 10, 1), date(2026, 10, 31), "Europe/Paris"),
    figures.Period(date(2026, 9, 28), date(2026, 11, 27), "Asia/Kolkata"),
    figures.Period(date(2026, 11, 10), date(2026, 11, 10), "UTC"),
    figures.Period(date(2026, 11, 2), date(2026, 11, 3), "America/New_York"),
    figures.Period(date(2026, 9, 1), date(2026, 12, 31), "Pacific/Chatham"),
]


def _mean(value):
    return None if value is None else pytest.approx(float(value))


def _row(f):
    return (
        f.key, f.label, f.tickets, f.answered, _mean(f.first_response_minutes), f.resolved,
        _mean(f.resolution_minutes), f.breached, f.ratings, _mean(f.mean_score), f.satisfied,
    )


def _stored(db):
    c = TicketDayFigures.__table__.c
    sums = defaultdict(lambda: [0] * len(rollups.MEASURES))
    for row in db.session.execute(select(c.span, c.day, c.organisation_id, c.dimension, c.item_id, c.item, *[c[m] for m in rollups.MEASURES])):
        rollups.add(sums[tuple(row[:6])], list(row[6:]))
    return {key: values for key, values in sums.items() if any(values)}


_CHANGED = {}  # per database engine: the tickets made and the database once changed


@pytest.fixture
def changes(app, demo):
    """The same changes for every test: made once per database engine, then put back as they
    were left (the demo data's own snapshot and restore), which saves their minutes of services."""
    backend = demo.engine.dialect.name
    if backend not in _CHANGED:
        made = _make_changes(app, demo)
        _CHANGED[backend] = (made, snapshot_data(demo))
    else:
        restore_data(demo, _CHANGED[backend][1])
        demo.session.expire_all()
    return list(_CHANGED[backend][0])


def _make_changes(app, demo):
    rng = random.Random(18)
    supervisor = user("superviseur@novalead.com")
    agents = [user("agent1@novalead.com"), user("agent2@novalead.com")]
    organisations = demo.session.query(Organisation).filter(Organisation.kind != "vendor").order_by(Organisation.id).all()
    members = {o.id: demo.session.query(NovaUser).filter_by(organisation_id=o.id).order_by(NovaUser.id).all() for o in organisations}
    statuses = [status(c).id for c in ("open", "pending", "resolved", "closed")]
    priorities = [priority(k).id for k in ("urgent", "high", "normal", "low")]
    moment = datetime(2026, 9, 22, 6, 0, tzinfo=timezone.utc)
    made = []
    with app.test_request_context():
        for _step in range(140):
            moment += timedelta(minutes=rng.randint(20, 1000))
            with clock.frozen(moment):
                try:
                    action = rng.random() if made else 0
                    if action < 0.3:
                        organisation = rng.choice(organisations)
                        requester = rng.choice(members[organisation.id] + [None])
                        ticket = tickets.create_ticket(
                            supervisor, title="Écart", body="b", organisation_id=organisation.id,
                            requester_id=requester.id if requester else None, priority_id=rng.choice(priorities),
                        )
                        made.append(ticket.id)
                        if rng.random() < 0.7:
                            tickets.assign(supervisor, ticket, [a.id for a in rng.sample(agents, rng.choice([1, 1, 2]))])
                    else:
                        ticket = demo.session.get(Ticket, rng.choice(made))
                        agent = rng.choice(agents)
                        if action < 0.5:
                            tickets.add_message(agent, ticket, "Réponse")
                        elif action < 0.7:
                            tickets.change_status(agent, ticket, rng.choice(statuses))
                        elif action < 0.78 and ticket.requester is not None:
                            satisfaction.rate_ticket(ticket.requester, ticket, rng.randint(1, 5), "")
                        elif action < 0.84 and ticket.requester is not None:
                            tickets.add_message(ticket.requester, ticket, "Toujours en erreur")  # may reopen
                        elif action < 0.9:
                            tickets.change_priority(agent, ticket, rng.choice(priorities))
                        elif action < 0.94:
                            target = demo.session.get(Ticket, rng.choice(made))
                            ticket_links.merge(agent, ticket, target.number)
                        else:
                            tickets.assign(supervisor, ticket, [a.id for a in rng.sample(agents, rng.choice([0, 1, 2]))])
                    demo.session.commit()
                except ServiceError:
                    demo.session.rollback()
                _watch(demo)
        moved = demo.session.get(Ticket, made[3])  # another organisation: it leaves its old buckets
        moved.organisation_id = organisations[-1].id if moved.organisation_id != organisations[-1].id else organisations[0].id
        with clock.frozen(moment):
            demo.session.commit()
        while moment < NOW:  # the worker keeps watching until the figures are read
            moment = min(NOW, moment + timedelta(hours=12))
            with clock.frozen(moment):
                _watch(demo)
    return made


def _watch(db):
    """One pass of the worker's SLA watch at the frozen moment, committed as the worker does."""
    sla_watch.check_deadlines()
    db.session.commit()


def test_the_kept_figures_are_those_counted_again_from_scratch(app, db, changes):
    kept = _stored(db)
    assert any(key[0] == rollups.MONTH for key in kept) and any(key[3] == "resolved" for key in kept)
    with clock.frozen(NOW):
        rollups.rebuild(db.session.connection())
    again = _stored(db)
    db.session.rollback()
    assert kept == again


def test_a_bulk_update_has_everything_counted_again(app, db, changes):
    supervisor = user("superviseur@novalead.com")
    period = figures.Period(date(2026, 9, 1), date(2026, 11, 30), "Europe/Paris")
    db.session.query(Ticket).filter(Ticket.id.in_(changes[:12])).update({Ticket.first_response_minutes: 777}, synchronize_session=False)
    with clock.frozen(NOW):
        db.session.commit()
        assert _row(figures.summary(supervisor, period)) == _row(figures.summary_direct(supervisor, period))
        assert figures.summary(supervisor, period).first_response_minutes > 0


@pytest.mark.parametrize("email", READERS)
def test_summed_figures_agree_with_the_tickets(app, db, changes, email):
    reader = user(email)
    with clock.frozen(NOW):
        for period in PERIODS:
            assert _row(figures.summary(reader, period)) == _row(figures.summary_direct(reader, period)), period
            report = figures.report(reader, period)
            assert _row(report["previous"]) == _row(figures.summary_direct(reader, period.previous()))
            for dimension in figures.dimensions_for(reader):
                direct = figures.breakdown_direct(reader, period, dimension)
                assert [_row(f) for f in figures.breakdown(reader, period, dimension)] == [_row(f) for f in direct], (period, dimension)
                assert [_row(f) for f in report["breakdowns"][dimension][0]] == [_row(f) for f in direct]
                before = {f.key: f.tickets for f in figures.breakdown_direct(reader, period.previous(), dimension) if f.tickets}
                assert report["breakdowns"][dimension][1] == before


def test_tickets_in_hand_agree_with_the_tickets(app, db, changes):
    """The team table's running tickets per support member, summed from the month rows."""
    for email in READERS[:2]:
        reader = user(email)
        with clock.frozen(NOW):
            direct = figures.in_hand_direct(reader)
            assert direct and figures.in_hand(reader) == direct, email
            assert {row["key"]: row["active"] for row in figures.agents(reader, PERIODS[0]) if row["active"]} == direct


def test_status_counts_agree_with_the_tickets(app, db, changes):
    for email in READERS:
        reader = user(email)
        with clock.frozen(NOW):
            direct = figures.status_counts_direct(reader)
            assert sum(direct.values()) and figures.status_counts(reader) == direct, email


def test_the_daily_flow_agrees_with_the_tickets(app, db, changes):
    for email in READERS[:3]:
        reader = user(email)
        with clock.frozen(NOW):
            for period in PERIODS:
                flow = figures.daily_flow(reader, period)
                visible = figures._tickets(reader).all()
                for name, column in (("created", "created_on"), ("resolved", "resolved_on")):
                    expected = defaultdict(int)
                    for ticket in visible:
                        moment = getattr(ticket, column)
                        if moment is not None and period.start <= moment < period.end:
                            expected[moment.astimezone(timezone.utc).date().isoformat()] += 1
                    assert {d["day"]: d[name] for d in flow if d[name]} == {k: v for k, v in expected.items() if k in {d["day"] for d in flow}}, (email, period, name)
                waiting = [t for t in visible if t.created_on < period.end and (t.resolved_on is None or t.resolved_on >= period.end)]
                assert flow[-1]["backlog"] == len(waiting), (email, period)  # not resolved at the period's end


def test_a_figure_never_mixes_organisations(app, db, changes):
    """A client's summed figures are those of their organisation's tickets alone."""
    client = user("client@baobab-mc.tg")
    period = figures.Period(date(2026, 9, 1), date(2026, 11, 30), "Europe/Paris")
    with clock.frozen(NOW):
        mine = figures.summary(client, period).tickets
        everyone = figures.summary(user("superviseur@novalead.com"), period).tickets
    own = db.session.query(Ticket).filter(Ticket.organisation_id == client.organisation_id, Ticket.merged_into_id.is_(None),
                                          Ticket.created_on >= period.start, Ticket.created_on < period.end).count()
    assert 0 < mine == own < everyone


def test_the_database_counts_the_same_rows_as_python(app, db, changes):
    """rebuild_in_sql (INSERT … SELECT … GROUP BY, what rebuild-figures and the generator use)
    gives exactly the rows rebuild gives ticket by ticket, late running tickets included."""
    with clock.frozen(NOW):
        rollups.rebuild(db.session.connection())
        by_python = _stored(db)
        rollups.rebuild_in_sql(db.session.connection())
        by_sql = _stored(db)
    db.session.rollback()
    assert any(key[3] == "agent" and key[4] is None for key in by_sql) and any(key[3] == "channel" for key in by_sql)
    assert any(values[5] for key, values in by_sql.items() if key[3] == "all")
    assert by_sql == by_python


def test_a_deadline_passing_makes_the_running_ticket_late_in_the_figures(app, db, demo):
    """No ticket change happens when a deadline passes: the SLA watch has the ticket's bucket
    counted again, and the summed figures (read without the ticket) then say it is late."""
    supervisor = user("superviseur@novalead.com")
    organisation = demo.session.query(Organisation).filter(Organisation.kind != "vendor").order_by(Organisation.id).first()
    opened = datetime(2026, 11, 16, 8, 0, tzinfo=timezone.utc)  # a Monday morning
    period = figures.Period(date(2026, 11, 1), date(2026, 11, 30), "UTC")
    with app.test_request_context():
        with clock.frozen(opened):
            ticket = tickets.create_ticket(supervisor, title="Toujours pas de réponse", body="b", organisation_id=organisation.id,
                                           priority_id=priority("urgent").id)
            db.session.commit()
        due = ticket.first_response_due
        assert due is not None and due > opened
        with clock.frozen(due - timedelta(minutes=1)):
            before = figures.summary(supervisor, period)
            assert before.breached == 0 and _row(before) == _row(figures.summary_direct(supervisor, period))
        with clock.frozen(due + timedelta(minutes=1)):
            assert figures.summary_direct(supervisor, period).breached == 1
            assert figures.summary(supervisor, period).breached == 0  # nobody counted the bucket again yet
            _watch(db)
            after = figures.summary(supervisor, period)
            assert after.breached == 1 and _row(after) == _row(figures.summary_direct(supervisor, period))
            assert figures.breakdown(supervisor, period, "organisation")[0].breached == 1
            _watch(db)  # the next pass counts nothing twice
            assert figures.summary(supervisor, period).breached == 1


def test_a_savepoint_given_up_leaves_the_figures_exact(app, demo):
    """One item of a batch refused (its savepoint rolled back: a ticket changed for the first
    time inside it, a ticket opened inside it) while the rest of the transaction commits."""
    supervisor, agent = user("superviseur@novalead.com"), user("agent1@novalead.com")
    organisation = demo.session.query(Organisation).filter(Organisation.kind != "vendor").order_by(Organisation.id).first()
    with app.test_request_context(), clock.frozen(datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)):
        kept = tickets.create_ticket(supervisor, title="Gardé", body="b", organisation_id=organisation.id, priority_id=priority("low").id)
        other = tickets.create_ticket(supervisor, title="Autre", body="b", organisation_id=organisation.id)
        demo.session.commit()
    with app.test_request_context(), clock.frozen(datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc)):
        tickets.change_status(agent, other, status("resolved").id)  # first changed before the savepoint
        try:
            with demo.session.begin_nested():
                tickets.change_priority(agent, kept, priority("urgent").id)
                tickets.change_status(agent, other, status("open").id)
                tickets.create_ticket(supervisor, title="Abandonné", body="b", organisation_id=organisation.id)
                demo.session.flush()
                raise RuntimeError("refused")
        except RuntimeError:
            pass
        tickets.add_message(agent, kept, "Réponse")
        demo.session.commit()
    stored = _stored(demo)
    assert stored[("day", date(2026, 11, 2), organisation.id, "all", None, None)][0] == 2
    assert stored[("day", date(2026, 11, 3), organisation.id, "resolved", None, None)][0] == 1
    with clock.frozen(datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc)):  # lateness as at the last commit
        rollups.rebuild(demo.session.connection())
    again = _stored(demo)
    demo.session.rollback()
    assert stored == again


def test_a_running_ticket_changed_after_its_deadline_passed_is_counted_late(app, demo):
    """Its bucket held it on time (counted before the deadline) and the SLA watch has not run
    yet: the change's difference alone would carry that on (late before and after, by the
    clock); its bucket is counted whole instead, so the figures say late, as a count from
    scratch does."""
    supervisor, agent = user("superviseur@novalead.com"), user("agent1@novalead.com")
    organisation = demo.session.query(Organisation).filter(Organisation.kind != "vendor").order_by(Organisation.id).first()
    opened = datetime(2026, 11, 16, 8, 0, tzinfo=timezone.utc)  # a Monday morning
    with app.test_request_context():
        with clock.frozen(opened):
            ticket = tickets.create_ticket(supervisor, title="Toujours rien", body="b", organisation_id=organisation.id, priority_id=priority("urgent").id)
            demo.session.commit()
        later = ticket.first_response_due + timedelta(minutes=5)
        with clock.frozen(later):
            tickets.assign(supervisor, ticket, [agent.id])  # its deadlines stay as they are
            demo.session.commit()
    stored = _stored(demo)
    assert stored[("day", date(2026, 11, 16), organisation.id, "all", None, None)][5] == 1  # late
    with clock.frozen(later):
        rollups.rebuild(demo.session.connection())
    again = _stored(demo)
    demo.session.rollback()
    assert stored == again
