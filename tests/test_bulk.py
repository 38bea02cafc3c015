"""Bulk actions from the desk (POST /tickets/bulk): each ticket through its own service, one
history line per ticket changed, refused tickets listed with the reason and left untouched,
the others done all the same; desks told of each change once."""
import pytest

from app.models import StatusCategory, Ticket, TicketEvent
from app.services import events, ticket_links, tickets
from tests.conftest import login
from tests.ticket_helpers import org, priority, queue, status, user

AGENT = "agent1@novalead.com"
SUPERVISOR = "superviseur@novalead.com"
COMMERCIAL = "commercial1@novalead.com"  # Crédit Solidaire, Fonds Épargne Plus, MF Horizon
CLIENT = "client@credit-solidaire.sn"


def make_tickets(db, count, organisation="Crédit Solidaire du Sahel", title="Export en erreur"):
    agent = user(AGENT)
    made = [
        tickets.create_ticket(agent, title=f"{title} {n}", body="Le fichier reste vide.", organisation_id=org(organisation).id)
        for n in range(count)
    ]
    db.session.commit()
    return [t.id for t in made]


def signed_in(app, db, email):
    client = app.test_client()
    login(client, db, email)
    return client


def history(db, ticket_id, action):
    return db.session.query(TicketEvent).filter_by(ticket_id=ticket_id, action=action).count()


@pytest.fixture
def told(app):
    heard = []
    undo = events.watch(lambda e: heard.append(e) if e.kind == "ticket.changed" else None)
    yield heard
    undo()


def test_bulk_status_of_twenty_tickets_with_one_refused(app, demo, told):
    ids = make_tickets(demo, 21)
    target, ids = ids[0], ids[1:]
    ticket_links.merge(user(AGENT), demo.session.get(Ticket, ids[7]), str(target))  # a merged ticket stays closed
    demo.session.commit()
    waiting = status(StatusCategory.PENDING)
    before = {i: history(demo, i, "status") for i in ids}
    told.clear()

    response = signed_in(app, demo, AGENT).post("/tickets/bulk", json={"ticket_ids": ids, "action": "status", "value": waiting.id})

    assert response.status_code == 200
    answer = response.get_json()
    assert [d["id"] for d in answer["done"]] == [i for i in ids if i != ids[7]]
    assert len(answer["refused"]) == 1
    refused = answer["refused"][0]
    assert refused["id"] == ids[7] and refused["number"].startswith("NL-")
    assert refused["reason"] == "Ce changement de statut n'est pas possible."
    demo.session.expire_all()
    for ticket_id in ids:
        ticket = demo.session.get(Ticket, ticket_id)
        if ticket_id == ids[7]:
            assert ticket.status_category == StatusCategory.CLOSED
            assert history(demo, ticket_id, "status") == before[ticket_id]  # nothing written
        else:
            assert ticket.status_id == waiting.id
            assert history(demo, ticket_id, "status") == before[ticket_id] + 1  # one line each
    assert sorted(e.payload["ticket_id"] for e in told) == sorted(d["id"] for d in answer["done"])  # told once each
    assert all(e.payload["change"] == "fields" and ("/desk", "desk:staff") in e.rooms for e in told)


def test_bulk_assign_of_twenty_with_one_unknown_ticket(app, demo):
    ids = make_tickets(demo, 19)
    koffi = user("agent1b@novalead.com")
    selection = ids[:10] + [987654] + ids[10:]

    answer = signed_in(app, demo, SUPERVISOR).post("/tickets/bulk", json={"ticket_ids": selection, "action": "assign", "value": [koffi.id]}).get_json()

    assert len(answer["done"]) == 19
    assert answer["refused"] == [{"id": 987654, "number": None, "reason": "Ce ticket n'existe pas ou ne vous est pas accessible."}]
    demo.session.expire_all()
    for ticket_id in ids:
        ticket = demo.session.get(Ticket, ticket_id)
        assert [a.email for a in ticket.assignees] == ["agent1b@novalead.com"]
        assert ticket.status_category != StatusCategory.NEW  # assigned by hand, it leaves « Nouveau »


def test_take_adds_oneself_and_keeps_colleagues(app, demo):
    ids = make_tickets(demo, 3)
    koffi = user("agent1b@novalead.com")
    tickets.assign(user(SUPERVISOR), demo.session.get(Ticket, ids[0]), [koffi.id])
    demo.session.commit()

    answer = signed_in(app, demo, AGENT).post("/tickets/bulk", json={"ticket_ids": ids, "action": "take"}).get_json()

    assert len(answer["done"]) == 3 and answer["refused"] == []
    demo.session.expire_all()
    assert sorted(a.email for a in demo.session.get(Ticket, ids[0]).assignees) == ["agent1@novalead.com", "agent1b@novalead.com"]
    assert all(AGENT in [a.email for a in demo.session.get(Ticket, i).assignees] for i in ids)


def test_priority_queue_and_merge(app, demo):
    ids = make_tickets(demo, 4)
    client = signed_in(app, demo, AGENT)
    urgent, level2 = priority("urgent"), queue(2)

    assert len(client.post("/tickets/bulk", json={"ticket_ids": ids, "action": "priority", "value": urgent.id}).get_json()["done"]) == 4
    assert len(client.post("/tickets/bulk", json={"ticket_ids": ids, "action": "queue", "value": level2.id}).get_json()["done"]) == 4
    merged = client.post("/tickets/bulk", json={"ticket_ids": ids, "action": "merge", "value": ids[0]}).get_json()

    assert [d["id"] for d in merged["done"]] == ids and merged["refused"] == []
    demo.session.expire_all()
    assert all(demo.session.get(Ticket, i).priority_id == urgent.id for i in ids)
    assert all(demo.session.get(Ticket, i).queue_id == level2.id for i in ids)
    assert [demo.session.get(Ticket, i).merged_into_id for i in ids] == [None, ids[0], ids[0], ids[0]]
    assert history(demo, ids[0], "merged_from") == 3


def test_a_commercial_works_only_their_clients_tickets_and_does_not_assign(app, demo):
    mine = make_tickets(demo, 2)
    theirs = make_tickets(demo, 1, organisation="Baobab Microcrédit")
    client = signed_in(app, demo, COMMERCIAL)

    answer = client.post("/tickets/bulk", json={"ticket_ids": mine + theirs, "action": "priority", "value": priority("high").id}).get_json()
    assert [d["id"] for d in answer["done"]] == mine
    assert answer["refused"] == [{"id": theirs[0], "number": None, "reason": "Ce ticket n'existe pas ou ne vous est pas accessible."}]

    taken = client.post("/tickets/bulk", json={"ticket_ids": mine, "action": "take"}).get_json()
    assert taken["done"] == [] and {r["reason"] for r in taken["refused"]} == {"Vous ne pouvez pas attribuer de tickets."}
    demo.session.expire_all()
    assert demo.session.get(Ticket, theirs[0]).priority.key != "high"
    assert all(COMMERCIAL not in [a.email for a in demo.session.get(Ticket, i).assignees] for i in mine)


def test_partners_may_not_use_bulk_actions(app, demo):
    ids = make_tickets(demo, 1)
    response = signed_in(app, demo, CLIENT).post("/tickets/bulk", json={"ticket_ids": ids, "action": "status", "value": status(StatusCategory.CLOSED).id})
    assert response.status_code in (401, 403)
    demo.session.expire_all()
    assert demo.session.get(Ticket, ids[0]).status_category != StatusCategory.CLOSED


@pytest.mark.parametrize(
    "body, message",
    [
        ("not json", "Requête invalide : un objet JSON est attendu."),
        ({"ticket_ids": [], "action": "take"}, "Choisissez au moins un ticket."),
        ({"ticket_ids": "1,2", "action": "take"}, "Choisissez au moins un ticket."),
        ({"ticket_ids": ["{ids0}"], "action": "delete"}, "Action inconnue."),
        ({"ticket_ids": ["{ids0}"], "action": "status"}, "Choisissez un statut."),
        ({"ticket_ids": ["{ids0}"], "action": "priority", "value": "<script>"}, "Valeur invalide : <script>"),
        ({"ticket_ids": ["abc"], "action": "take"}, "Valeur invalide : abc"),
        ({"ticket_ids": ["{ids0}"], "action": "assign", "value": 5}, "Choisissez les personnes à qui attribuer les tickets."),
        ({"ticket_ids": ["{ids0}"], "action": "assign", "value": []}, "Choisissez les personnes à qui attribuer les tickets."),
        ({"ticket_ids": list(range(1, 502)), "action": "take"}, "Pas plus de 500 tickets à la fois."),
    ],
)
def test_bad_input_is_refused_with_a_message_and_changes_nothing(app, demo, body, message):
    ids = make_tickets(demo, 1)
    lines_before = demo.session.query(TicketEvent).filter_by(ticket_id=ids[0]).count()
    if isinstance(body, dict):
        body = {k: [ids[0] if v == "{ids0}" else v for v in val] if isinstance(val, list) else val for k, val in body.items()}
        response = signed_in(app, demo, AGENT).post("/tickets/bulk", json=body)
    else:
        response = signed_in(app, demo, AGENT).post("/tickets/bulk", data=body, content_type="application/json")
    assert response.status_code in (400, 422)
    assert response.get_json() == {"error": message}
    demo.session.expire_all()
    assert demo.session.query(TicketEvent).filter_by(ticket_id=ids[0]).count() == lines_before


def test_a_bulk_action_needs_the_pages_csrf_token(app, demo):
    """Sent by the desk's script with the page's token in X-CSRFToken; a forged request from
    another site, which cannot read the token, is refused and changes nothing."""
    import re

    ids = make_tickets(demo, 2)
    client = signed_in(app, demo, AGENT)
    body = {"ticket_ids": ids, "action": "priority", "value": priority("urgent").id}
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert client.post("/tickets/bulk", json=body).status_code == 400
        demo.session.expire_all()
        assert all(demo.session.get(Ticket, i).priority.key != "urgent" for i in ids)
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(f"/tickets/{ids[0]}").get_data(as_text=True)).group(1)
        answer = client.post("/tickets/bulk", json=body, headers={"X-CSRFToken": token})
        assert answer.status_code == 200 and len(answer.get_json()["done"]) == 2
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_a_ticket_already_in_the_status_asked_is_done_with_nothing_changed(app, demo):
    """The same rule as the ticket's own inline control (tickets.update_fields): asking for the
    status a ticket already has is no change, not a refusal, and writes no history line."""
    ids = make_tickets(demo, 3)
    waiting = status(StatusCategory.PENDING)
    tickets.change_status(user(AGENT), demo.session.get(Ticket, ids[0]), waiting.id)
    demo.session.commit()
    before = history(demo, ids[0], "status")

    answer = signed_in(app, demo, AGENT).post("/tickets/bulk", json={"ticket_ids": ids, "action": "status", "value": waiting.id}).get_json()

    assert [d["id"] for d in answer["done"]] == ids and answer["refused"] == []
    demo.session.expire_all()
    assert history(demo, ids[0], "status") == before
    assert all(demo.session.get(Ticket, i).status_id == waiting.id for i in ids)
