"""The agents' workspace at /tickets/ (T5–T9, T12, C2): the queue's saved views with their
counts, the ticket pane, and the JSON doors behind its inline controls and its composer —
each through the ticket services, each refusal said in words with nothing changed."""
import html as html_module
import re
from datetime import datetime, timezone

from app import clock
from app.models import StatusCategory, Ticket, TicketEvent, TicketMessage
from app.services import tickets
from tests.conftest import login
from tests.ticket_helpers import org, priority, queue, status, user

AGENT = "agent1@novalead.com"
AGENT2 = "agent2@novalead.com"
SUPERVISOR = "superviseur@novalead.com"
COMMERCIAL = "commercial1@novalead.com"
CLIENT = "client@credit-solidaire.sn"


def signed_in(app, db, email):
    client = app.test_client()
    login(client, db, email)
    return client


def make(app, db, title, organisation="Crédit Solidaire du Sahel", urgent=False, by=SUPERVISOR):
    with app.test_request_context():
        ticket = tickets.create_ticket(
            user(by), title=title, body="Le module de clôture échoue.", organisation_id=org(organisation).id,
            priority_id=priority("urgent").id if urgent else None,
        )
        db.session.commit()
        return ticket.id


def html_text(fragment):
    return html_module.unescape(fragment)


def csrf(client):
    html = client.get("/tickets/").get_data(as_text=True)
    return re.search(r'data-csrf="([^"]+)"', html).group(1)


def post_json(client, path, payload, token):
    return client.post(path, json=payload, headers={"X-CSRFToken": token})


def queue_of(client, **args):
    response = client.get("/tickets/queue", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()


def test_the_inbox_is_a_split_view_with_saved_views_and_counts(app, demo):
    # Opened on a Saturday: the urgent ticket's first answer is due on Monday, « Dans les délais »
    # whatever the hour the test runs at (an urgent one opened in business hours is due within
    # the hour: « Bientôt dû »).
    with clock.frozen(datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc)):
        _split_view_with_saved_views_and_counts(app, demo)


def _split_view_with_saved_views_and_counts(app, demo):
    unassigned = make(app, demo, "Impression des reçus impossible", urgent=True)
    mine = make(app, demo, "Export comptable incomplet")
    with app.test_request_context():
        tickets.assign(user(SUPERVISOR), demo.session.get(Ticket, mine), [user(AGENT).id])
        demo.session.commit()
    agent = signed_in(app, demo, AGENT)
    html = agent.get("/tickets/").get_data(as_text=True)
    for label in ("À traiter", "Mes tickets", "Non attribués", "En retard", "En attente du client"):
        assert label in html
    assert 'id="ws-pane"' in html and "Choisissez un ticket dans la liste." in html
    data = queue_of(agent, box="unassigned")
    assert "Impression des reçus impossible" in data["html"] and "Export comptable incomplet" not in data["html"]
    assert data["title"] == "Non attribués"
    counted = agent.get("/tickets/counts").get_json()
    assert counted["counts"]["unassigned"] == 1 and counted["counts"]["mine"] == 1 and counted["counts"]["todo"] == 2
    assert counted["figures"] == {"new": 1, "closed": 0}  # T9: new and closed requests (one was assigned)
    # Priority and SLA state in words on every row (not colour alone).
    row = html_text(re.search(r'<li class="ws-row[^"]*" data-ticket-id="%d".*?</li>' % unassigned, data["html"], re.S).group(0))
    assert "Urgente" in row or "Urgent" in row
    assert "Dans les délais" in row and ("il y a" in row or "à l'instant" in row)
    mine_box = queue_of(agent, box="mine")
    assert "Export comptable incomplet" in mine_box["html"] and "Impression" not in mine_box["html"]
    # A queue has its own box.
    level1 = queue(1)
    assert f"queue-{level1.id}" in counted["counts"]


def test_a_ticket_opened_directly_shows_the_same_split_view(app, demo):
    ticket_id = make(app, demo, "Impression des reçus impossible")
    agent = signed_in(app, demo, AGENT)
    response = agent.get(f"/tickets/{ticket_id}?box=unassigned")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    html = html_text(html)
    assert 'id="ws-queue"' in html and 'id="ws-ticket"' in html and "Me l'attribuer" in html
    assert 'aria-current="page"' in html
    pane = agent.get(f"/tickets/{ticket_id}/pane").get_data(as_text=True)
    assert "Impression des reçus impossible" in pane and "<html" not in pane


def test_partners_keep_the_simple_desk(app, demo):
    ticket_id = make(app, demo, "Impression des reçus impossible")
    client = signed_in(app, demo, CLIENT)
    listing = client.get("/tickets/").get_data(as_text=True)
    assert "Impression des reçus impossible" in listing and 'id="workspace"' not in listing
    page = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    page = html_text(page)
    assert "Impression des reçus impossible" in page and "Me l'attribuer" not in page and "Note interne" not in page
    assert client.get("/tickets/queue").status_code == 404
    assert client.get(f"/tickets/{ticket_id}/pane").status_code == 404


def test_take_adds_the_agent_without_removing_colleagues(app, demo):
    ticket_id = make(app, demo, "Impression des reçus impossible")
    with app.test_request_context():
        tickets.assign(user(SUPERVISOR), demo.session.get(Ticket, ticket_id), [user(AGENT2).id])
        demo.session.commit()
    agent = signed_in(app, demo, AGENT)
    token = csrf(agent)
    response = agent.post(f"/tickets/{ticket_id}/take", headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.get_json()["message"] == "Ticket attribué à vous."
    demo.session.expire_all()
    ticket = demo.session.get(Ticket, ticket_id)
    assert {a.email for a in ticket.assignees} == {AGENT, AGENT2}
    assert demo.session.query(TicketEvent).filter_by(ticket_id=ticket_id, action="assigned").count() == 2
    # The history shows it without a reload: the pane, read again, has the line.
    pane = agent.get(f"/tickets/{ticket_id}/pane").get_data(as_text=True)
    assert "Vous suivez ce ticket" in pane


def test_inline_controls_save_at_once_and_refusals_say_why(app, demo):
    ticket_id = make(app, demo, "Impression des reçus impossible")
    agent = signed_in(app, demo, AGENT)
    token = csrf(agent)
    path = f"/tickets/{ticket_id}/fields"
    high = priority("high")
    assert post_json(agent, path, {"field": "priority", "value": high.id}, token).status_code == 200
    assert post_json(agent, path, {"field": "queue", "value": queue(2).id}, token).status_code == 200
    both = [user(AGENT).id, user(AGENT2).id]
    assert post_json(agent, path, {"field": "assignees", "value": both}, token).status_code == 200
    pending = status(StatusCategory.PENDING)
    answer = post_json(agent, path, {"field": "status", "value": pending.id}, token)
    assert answer.status_code == 200 and answer.get_json()["message"] == "Statut mis à jour."
    demo.session.expire_all()
    ticket = demo.session.get(Ticket, ticket_id)
    assert ticket.priority_id == high.id and ticket.queue_id == queue(2).id and ticket.status_category == StatusCategory.PENDING
    assert {a.email for a in ticket.assignees} == {AGENT, AGENT2}
    # The status it already has: nothing to do, nothing refused, no new history line.
    def history_lines():
        return demo.session.query(TicketEvent).filter(TicketEvent.ticket_id == ticket_id).count()

    lines = history_lines()
    again = post_json(agent, path, {"field": "status", "value": pending.id}, token)
    assert again.status_code == 200
    assert history_lines() == lines
    # Refused: the service's words, nothing changed.
    refused = post_json(agent, path, {"field": "status", "value": 987654}, token)
    assert refused.status_code == 422 and refused.get_json()["error"] == "Ce changement de statut n'est pas possible."
    outsider = post_json(agent, path, {"field": "assignees", "value": [user(CLIENT).id]}, token)
    assert outsider.status_code == 422 and "membres actifs du support" in outsider.get_json()["error"]
    for bad in ({"field": "title", "value": "x"}, {"field": "status", "value": {"a": 1}}, {"field": "assignees", "value": "x"}, ["x"]):
        response = post_json(agent, path, bad, token)
        assert response.status_code == 400 and response.get_json()["error"] == "Requête invalide."
    garbage = post_json(agent, path, {"field": "priority", "value": "abc"}, token)
    assert garbage.status_code == 422 and "Valeur invalide" in garbage.get_json()["error"]
    demo.session.expire_all()
    ticket = demo.session.get(Ticket, ticket_id)
    assert ticket.status_category == StatusCategory.PENDING and {a.email for a in ticket.assignees} == {AGENT, AGENT2}


def test_a_commercial_works_but_does_not_assign(app, demo):
    ticket_id = make(app, demo, "Impression des reçus impossible")
    commercial = signed_in(app, demo, COMMERCIAL)
    token = csrf(commercial)
    path = f"/tickets/{ticket_id}/fields"
    assert post_json(commercial, path, {"field": "priority", "value": priority("high").id}, token).status_code == 200
    assert post_json(commercial, path, {"field": "assignees", "value": [user(AGENT).id]}, token).status_code == 404
    assert commercial.post(f"/tickets/{ticket_id}/take", headers={"X-CSRFToken": token}).status_code in (302, 403)
    demo.session.expire_all()
    assert demo.session.get(Ticket, ticket_id).assignees == []
    # Outside the commercial's organisations: the same answer as a missing ticket.
    other = make(app, demo, "Chez Baobab", organisation="Baobab Microcrédit")
    assert post_json(commercial, f"/tickets/{other}/fields", {"field": "priority", "value": priority("high").id}, token).status_code == 404


def test_send_and_wait_is_one_action(app, demo):
    ticket_id = make(app, demo, "Impression des reçus impossible")
    agent = signed_in(app, demo, AGENT)
    token = csrf(agent)
    response = agent.post(f"/tickets/{ticket_id}/send", data={"body": "Bonjour, pouvez-vous envoyer le journal ?", "internal": "0", "then": "pending"}, headers={"X-CSRFToken": token})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["message"] == "Réponse envoyée, ticket en attente du client."
    demo.session.expire_all()
    ticket = demo.session.get(Ticket, ticket_id)
    assert ticket.status_category == StatusCategory.PENDING and ticket.sla_paused_since is not None
    assert demo.session.query(TicketMessage).filter_by(ticket_id=ticket_id, body="Bonjour, pouvez-vous envoyer le journal ?").count() == 1
    resolved = agent.post(f"/tickets/{ticket_id}/send", data={"body": "Corrigé.", "then": "resolved"}, headers={"X-CSRFToken": token})
    assert resolved.status_code == 200
    demo.session.expire_all()
    assert demo.session.get(Ticket, ticket_id).status_category == StatusCategory.RESOLVED


def test_a_note_is_internal_and_a_refused_send_changes_nothing(app, demo):
    ticket_id = make(app, demo, "Impression des reçus impossible")
    agent = signed_in(app, demo, AGENT)
    token = csrf(agent)
    note = agent.post(f"/tickets/{ticket_id}/send", data={"body": "Index corrompu.", "internal": "1"}, headers={"X-CSRFToken": token})
    assert note.status_code == 200 and note.get_json()["message"] == "Note interne ajoutée."
    assert demo.session.query(TicketMessage).filter_by(ticket_id=ticket_id, body="Index corrompu.").one().internal
    before = demo.session.query(TicketMessage).filter_by(ticket_id=ticket_id).count()
    empty = agent.post(f"/tickets/{ticket_id}/send", data={"body": "   ", "then": "pending"}, headers={"X-CSRFToken": token})
    assert empty.status_code == 422 and "obligatoire" in empty.get_json()["error"]
    odd = agent.post(f"/tickets/{ticket_id}/send", data={"body": "x", "then": "explode"}, headers={"X-CSRFToken": token})
    assert odd.status_code == 400
    demo.session.expire_all()
    assert demo.session.query(TicketMessage).filter_by(ticket_id=ticket_id).count() == before
    assert demo.session.get(Ticket, ticket_id).status_category == StatusCategory.NEW


def test_canned_responses_are_filled_for_the_ticket(app, demo):
    ticket_id = make(app, demo, "Impression des reçus impossible")
    agent = signed_in(app, demo, AGENT)
    pane = agent.get(f"/tickets/{ticket_id}/pane").get_data(as_text=True)
    canned = re.search(r"data-canned='([^']*)'", pane).group(1)
    number = demo.session.get(Ticket, ticket_id).number
    assert "{ticket}" not in canned and ("Fatou" in canned or number in canned)


def test_the_old_list_filters_still_work_for_the_support(app, demo):
    make(app, demo, "Impression des reçus impossible", urgent=True)
    make(app, demo, "Export comptable incomplet")
    agent = signed_in(app, demo, AGENT)
    html = agent.get("/tickets/?q=Export&view=all").get_data(as_text=True)
    assert "Export comptable incomplet" in html and "Impression des reçus" not in html
    urgent_first = queue_of(agent, box="unassigned")["html"]
    assert urgent_first.index("Impression des reçus impossible") < urgent_first.index("Export comptable incomplet")


def test_the_json_doors_require_the_csrf_token(app, demo):
    ticket_id = make(app, demo, "Impression des reçus impossible")
    agent = signed_in(app, demo, AGENT)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        token = csrf(agent)
        path = f"/tickets/{ticket_id}/fields"
        forged = agent.post(path, json={"field": "priority", "value": priority("high").id})
        assert forged.status_code == 400
        demo.session.expire_all()
        assert demo.session.get(Ticket, ticket_id).priority.key == "normal"
        assert post_json(agent, path, {"field": "priority", "value": priority("high").id}, token).status_code == 200
        assert agent.post(f"/tickets/{ticket_id}/take").status_code == 400
        assert agent.post(f"/tickets/{ticket_id}/take", headers={"X-CSRFToken": token}).status_code == 200
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    demo.session.expire_all()
    ticket = demo.session.get(Ticket, ticket_id)
    assert ticket.priority.key == "high" and [a.email for a in ticket.assignees] == [AGENT]


def test_the_unassigned_box_follows_every_way_the_assignees_change(app, demo):
    """« Non attribués » reads a copy kept on the ticket (Ticket.assigned, for its index): it must
    follow a take, an unassignment by hand, the SLA watch's hand-over and an escalation to a level
    with nobody to route to, in the box and in its count."""
    from app.models import Queue, Routing
    from app.services.tickets import fields as ticket_fields

    ticket_id = make(app, demo, "Relevé d'épargne vide")
    agent = signed_in(app, demo, AGENT)

    def in_box():
        ids = [int(i) for i in re.findall(r'data-ticket-id="(\d+)"', queue_of(agent, box="unassigned")["html"])]
        counted = demo.session.query(Ticket).filter(Ticket.assigned.is_(False), Ticket.id == ticket_id).count()
        assert (ticket_id in ids) == bool(counted)
        return ticket_id in ids

    assert in_box()
    token = csrf(agent)
    assert post_json(agent, f"/tickets/{ticket_id}/take", {}, token).status_code == 200
    assert not in_box()
    assert post_json(agent, f"/tickets/{ticket_id}/fields", {"field": "assignees", "value": []}, token).status_code == 200
    assert in_box()
    with app.test_request_context():
        assert ticket_fields.hand_over(demo.session.get(Ticket, ticket_id), user(AGENT2))
        demo.session.commit()
    assert not in_box()
    for level in demo.session.query(Queue).filter(Queue.support_level > 1):
        level.routing = Routing.MANUAL  # nobody to route to above: escalating leaves it unassigned
    demo.session.commit()
    with app.test_request_context():
        tickets.escalate(user(SUPERVISOR), demo.session.get(Ticket, ticket_id))
        demo.session.commit()
    demo.session.expire_all()
    assert demo.session.get(Ticket, ticket_id).assignees == []
    assert in_box()


def test_the_triage_boxes_page_through_their_tickets_in_order(app, demo, monkeypatch):
    """« Non attribués » (most urgent first, then the oldest) and « En retard » (nearest deadline
    first) are walked one status category and one priority at a time (ticket_queries, T9): page
    after page, in both directions, they must list exactly the plain sort of their tickets."""
    from datetime import timedelta

    from app import clock
    from app.models import Priority
    from app.security import ticket_queries

    monkeypatch.setattr(ticket_queries, "PAGE_SIZE", 3)
    keys = ["urgent", "high", "normal", "low"]
    made = [make(app, demo, f"Incident de caisse {n}") for n in range(11)]
    now = clock.now().replace(microsecond=0)
    running = demo.session.query(Ticket).filter(Ticket.status_category.in_(StatusCategory.ACTIVE), Ticket.merged_into_id.is_(None)).all()
    for n, ticket in enumerate(running):
        # categories new / in progress / waiting, equal ages and deadlines on some (ties by number)
        ticket.priority_id = priority(keys[n % 4]).id
        ticket.created_on = now - timedelta(days=n % 5)
        ticket.resolution_due = now + timedelta(hours=(n % 7) - 3.5)
        ticket.first_response_due, ticket.sla_paused_since = None, None
        if ticket.id in made and n % 3 == 1:
            ticket.status_id, ticket.status_category = status(StatusCategory.OPEN).id, StatusCategory.OPEN
        if ticket.id in made and n % 3 == 2:
            ticket.status_id, ticket.status_category = status(StatusCategory.PENDING).id, StatusCategory.PENDING
    demo.session.commit()
    position = dict(demo.session.query(Priority.id, Priority.position).all())
    running = demo.session.query(Ticket).filter(Ticket.status_category.in_(StatusCategory.ACTIVE), Ticket.merged_into_id.is_(None)).all()
    unassigned = sorted(
        (t for t in running if t.status_category in (StatusCategory.NEW, StatusCategory.OPEN) and not t.assignees),
        key=lambda t: (position[t.priority_id], t.created_on, t.id),
    )
    late = sorted((t for t in running if t.resolution_due < now), key=lambda t: (t.resolution_due, -t.id))
    assert len(unassigned) > 6 and len(late) > 6 and {t.status_category for t in late} >= {StatusCategory.NEW, StatusCategory.PENDING}
    agent = signed_in(app, demo, AGENT)

    def listed(box, direction):
        ids, page = [], 1
        while True:
            rows = [int(i) for i in re.findall(r'data-ticket-id="(\d+)"', queue_of(agent, box=box, dir=direction, page=page)["html"])]
            ids += rows
            if len(rows) < 3:
                return ids
            page += 1

    assert listed("unassigned", "asc") == [t.id for t in unassigned]
    by_urgency_desc = sorted(unassigned, key=lambda t: (-position[t.priority_id], t.created_on, t.id))
    assert listed("unassigned", "desc") == [t.id for t in by_urgency_desc]
    assert listed("late", "asc") == [t.id for t in late]
    assert listed("late", "desc") == [t.id for t in sorted(late, key=lambda t: (t.resolution_due, t.id), reverse=True)]
