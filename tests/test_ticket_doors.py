"""One door to open a ticket, one to change its fields (issue 13, T2–T5, T10, T12, C3, C4):
the web, the API, an e-mail, the chat and the previous help desk's import all go through
`tickets.open_ticket` and leave the same traces (history, activity log, webhook, desk event);
the import leaves none of the telling ones. One text rule; `update_fields` changes all or
nothing; the desks hear of each change once; routing leaves « Nouveau » like a manual
assignment."""
import json
from email.message import EmailMessage

import pytest

from app.models import (
    ActivityLog,
    OutboxMail,
    StatusCategory,
    Ticket,
    TicketEvent,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from app.security import scopes
from app.services import ServiceError, events, tickets
from tests.conftest import api_token, login
from tests.ticket_helpers import org, priority, queue, status, user

CLIENT = "client@credit-solidaire.sn"
AGENT = "agent1@novalead.com"
SUPERVISOR = "superviseur@novalead.com"
ORG = "Crédit Solidaire du Sahel"


@pytest.fixture
def heard(app):
    """Every `ticket.changed` dispatched after a commit, as (ticket id, change, rooms)."""
    seen = []

    def listen(event):
        if event.kind == "ticket.changed":
            seen.append((event.payload["ticket_id"], event.payload["change"], event.rooms))

    undo = events.watch(listen)
    yield seen
    undo()


@pytest.fixture
def hooked(demo):
    subscription = WebhookSubscription(name="ERP", url="https://erp.example/hook", events=list(WebhookEvent.ALL), active=True)
    from app.services import webhooks

    webhooks.check_subscription(None, subscription, created=True)
    demo.session.add(subscription)
    demo.session.commit()
    return subscription


def traces(db, ticket_id):
    """What opening a ticket left behind that someone outside the row would notice."""
    db.session.expire_all()
    return {
        "history": [e.action for e in db.session.query(TicketEvent).filter_by(ticket_id=ticket_id).order_by(TicketEvent.id)][:1],
        "logged": db.session.query(ActivityLog).filter_by(action="ticket.created", target_id=ticket_id).count(),
        "webhooks": [d.event for d in db.session.query(WebhookDelivery).filter_by(ticket_id=ticket_id).order_by(WebhookDelivery.id)][:1],
    }


# --- each door opens the ticket the same way -------------------------------------------------


def _by_web(app, demo):
    client = app.test_client()
    login(client, demo, CLIENT)
    response = client.post("/tickets/new", data={"title": "Par le web", "body": "Bonjour"}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _by_api(app, demo):
    token = api_token(app.test_client(), demo, CLIENT)
    response = app.test_client().post("/api/v1/ticket/", json={"title": "Par l'API", "body": "Bonjour"}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.json
    return response.json["id"]


def _by_mail(app, demo):
    from app.channels import mail_in

    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = CLIENT, "support@novalead.com", "Par courriel"
    mail["Message-ID"] = "<door-test-1@credit-solidaire.sn>"
    mail.set_content("Bonjour, l'export ne part plus.")
    mail_in.ingest(mail.as_bytes())
    demo.session.expire_all()
    return demo.session.query(Ticket.id).filter_by(title="Par courriel").scalar()


def _by_chat(app, demo):
    from tests.test_chat import call, demo_channel, signed, widget

    channel = demo_channel(demo)
    visitor = widget(app, channel, identity=signed(channel))
    left = call(visitor, "/widget", "leave_message", {"body": "Par le chat : rappelez-moi."})
    assert left.get("ticket"), left
    demo.session.expire_all()
    return demo.session.query(Ticket.id).filter_by(number=left["ticket"]).scalar()


@pytest.mark.parametrize("door", [_by_web, _by_api, _by_mail, _by_chat], ids=["web", "api", "mail", "chat"])
def test_every_door_opens_a_ticket_with_the_same_traces(app, demo, hooked, heard, door):
    ticket_id = door(app, demo)
    assert ticket_id is not None
    assert traces(demo, ticket_id) == {"history": ["created"], "logged": 1, "webhooks": [WebhookEvent.TICKET_CREATED]}
    ticket = demo.session.get(Ticket, ticket_id)
    assert ticket.first_response_due is not None and ticket.status_category == StatusCategory.NEW
    told = [(t, change) for t, change, _rooms in heard if t == ticket_id]
    assert told == [(ticket_id, "created")]  # once, as created
    rooms = next(r for t, _c, r in heard if t == ticket_id)
    assert set(rooms) == set(scopes.ticket_event_rooms(ticket.organisation_id))


def _export(body="L'export ne part plus.", title="Historique"):
    return {"tickets": [{
        "reference": "OLD-1", "title": title, "organisation": ORG, "requester_email": CLIENT, "status": "Fermé",
        "created_on": "2024-03-01T09:30:00+00:00", "closed_on": "2024-03-02T10:00:00+00:00",
        "messages": [
            {"author_email": CLIENT, "created_on": "2024-03-01T09:30:00+00:00", "body": body},
            {"author_email": AGENT, "created_on": "2024-03-01T11:00:00+00:00", "body": "Corrigé."},
        ],
    }]}


def test_the_import_goes_through_the_door_and_tells_nobody(app, demo, hooked, heard):
    from app.services import ticket_import

    before_mail = demo.session.query(OutboxMail).count()
    export = ticket_import.read_export_bytes("export.json", json.dumps(_export()).encode())
    ticket_import.import_tickets(None, export, origin="cli")
    demo.session.commit()
    ticket = demo.session.query(Ticket).filter_by(external_reference="OLD-1").one()
    assert ticket.number == tickets.ticket_number(ticket)  # the desk's numbering, not a copy of it
    assert (ticket.created_on.year, ticket.created_on.month, ticket.created_on.day, ticket.created_on.hour) == (2024, 3, 1, 9)
    assert ticket.status_category == StatusCategory.CLOSED and ticket.closed_on.day == 2
    assert ticket.first_response_due is None and not ticket.assignees  # history is not new work
    assert [e.action for e in demo.session.query(TicketEvent).filter_by(ticket_id=ticket.id)] == ["imported"]
    assert traces(demo, ticket.id)["webhooks"] == [] and traces(demo, ticket.id)["logged"] == 0
    assert demo.session.query(OutboxMail).count() == before_mail
    assert [h for h in heard if h[0] == ticket.id] == []
    assert "importing_history" not in demo.session.info


def test_the_open_ticket_door_refuses_a_history_outside_the_import(app, demo):
    with pytest.raises(ValueError):
        tickets.open_ticket(None, tickets.Source.MAIL, organisation=org(ORG), title="t", body="b", history=object())
    with pytest.raises(ValueError):
        tickets.open_ticket(None, tickets.Source.IMPORT, organisation=org(ORG), title="t", body="b")
    with pytest.raises(ValueError):
        tickets.open_ticket(None, "fax", organisation=org(ORG), title="t", body="b")


# --- one text rule ---------------------------------------------------------------------------


def test_control_characters_go_everywhere_tabs_and_lines_stay(app):
    with app.test_request_context():
        for interactive in (True, False):
            assert tickets.clean_body("  a\x00b\x1b[31mc\td\ne\x7f  ", interactive=interactive) == "ab[31mc\td\ne"


def test_too_long_is_refused_where_a_person_types_and_cut_visibly_elsewhere(app):
    with app.test_request_context():
        with pytest.raises(ServiceError) as refused:
            tickets.clean_title("x" * (tickets.TITLE_MAX + 1), interactive=True)
        assert "200 caractères au plus" in refused.value.message
        cut = tickets.clean_body("y" * (tickets.BODY_MAX + 50), interactive=False)
        assert len(cut) == tickets.BODY_MAX and cut.endswith("[…] texte coupé")
        assert tickets.clean_title("", interactive=False) == "(sans objet)"
        with pytest.raises(ServiceError):
            tickets.clean_body("   ", interactive=True)


def test_an_over_long_web_ticket_is_refused_and_nothing_is_made(app, demo):
    client = app.test_client()
    login(client, demo, CLIENT)
    response = client.post("/tickets/new", data={"title": "t" * 201, "body": "b"}, content_type="multipart/form-data")
    assert response.status_code == 200 and "200 caractères au plus" in response.get_data(as_text=True)
    assert demo.session.query(Ticket).count() == 0


def test_an_over_long_mail_or_import_is_kept_cut_with_a_mark(app, demo):
    from app.services import ticket_import

    with app.test_request_context():
        mailed = tickets.create_ticket_from_mail(user(CLIENT), org(ORG), CLIENT, "s" * 300, "m" * (tickets.BODY_MAX + 10), [], None)
        assert len(mailed.title) == tickets.TITLE_MAX and mailed.title.endswith("[…] texte coupé")
        assert mailed.messages[0].body.endswith("[…] texte coupé")
        demo.session.commit()
    export = ticket_import.read_export_bytes("export.json", json.dumps(_export(body="\x07" + "z" * (tickets.BODY_MAX + 5), title="T" * 300)).encode())
    ticket_import.import_tickets(None, export, origin="cli")
    demo.session.commit()
    imported = demo.session.query(Ticket).filter_by(external_reference="OLD-1").one()
    first = sorted(imported.messages, key=lambda m: m.created_on)[0].body
    assert len(first) == tickets.BODY_MAX and first.startswith("zzz") and first.endswith("[…] texte coupé")
    assert len(imported.title) == tickets.TITLE_MAX and imported.title.endswith("[…] texte coupé")


# --- one door for a ticket's fields ----------------------------------------------------------


def _fresh_ticket(demo):
    ticket = tickets.create_ticket(user(CLIENT), title="Champs", body="b")
    demo.session.commit()
    return ticket


def test_update_fields_changes_several_fields_and_says_which(app, demo, heard):
    with app.test_request_context():
        ticket = _fresh_ticket(demo)
        supervisor = user(SUPERVISOR)
        changed = tickets.update_fields(
            supervisor, ticket, status_id=status("pending").id, priority_id=priority("urgent").id,
            queue_id=queue(2).id, assignee_ids=[user(AGENT).id],
        )
        demo.session.commit()
    assert changed == ["priority", "queue", "assignees", "status"]
    demo.session.expire_all()
    ticket = demo.session.get(Ticket, ticket.id)
    assert (ticket.status_category, ticket.priority.key, ticket.queue.support_level) == ("pending", "urgent", 2)
    assert [a.email for a in ticket.assignees] == [AGENT]
    assert [c for t, c, _ in heard if t == ticket.id] == ["created", "fields"]  # four fields, one event
    with app.test_request_context():
        assert tickets.update_fields(user(SUPERVISOR), ticket, status_id=ticket.status_id, priority_id=ticket.priority_id) == []


def test_a_refused_update_changes_nothing(app, demo, heard):
    with app.test_request_context():
        ticket = _fresh_ticket(demo)
        history = demo.session.query(TicketEvent).filter_by(ticket_id=ticket.id).count()
        client = user(CLIENT)
        with pytest.raises(ServiceError):  # a valid status with an assignee who is not support staff
            tickets.update_fields(user(SUPERVISOR), ticket, status_id=status("pending").id, assignee_ids=[client.id])
        with pytest.raises(tickets.TicketNotFound):  # a partner closes their ticket but may not touch the priority
            tickets.update_fields(client, ticket, status_id=status("closed").id, priority_id=priority("urgent").id)
        demo.session.commit()
    demo.session.expire_all()
    ticket = demo.session.get(Ticket, ticket.id)
    assert (ticket.status_category, ticket.priority.key, ticket.assignees) == ("new", "normal", [])
    assert demo.session.query(TicketEvent).filter_by(ticket_id=ticket.id).count() == history
    assert [c for t, c, _ in heard if t == ticket.id] == ["created"]


def test_the_api_put_goes_through_update_fields_all_or_nothing(app, demo):
    token = api_token(app.test_client(), demo, SUPERVISOR)
    with app.test_request_context():
        ticket = _fresh_ticket(demo)
    api, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    refused = api.put(f"/api/v1/ticket/{ticket.id}", json={"status_id": status("pending").id, "assignee_ids": [user(CLIENT).id]}, headers=headers)
    assert refused.status_code == 422 and "membres actifs du support" in refused.json["message"]
    demo.session.expire_all()
    assert demo.session.get(Ticket, ticket.id).status_category == "new"
    done = api.put(f"/api/v1/ticket/{ticket.id}", json={"priority_id": priority("high").id, "assignee_ids": [user(AGENT).id]}, headers=headers)
    assert done.status_code == 200, done.json
    assert done.json["result"]["priority"]["key"] == "high" and done.json["result"]["status_category"] == "open"  # taken: no longer new
    moved = api.put(f"/api/v1/ticket/{ticket.id}", json={"queue_id": queue(2).id}, headers=headers)
    assert moved.status_code == 200
    demo.session.expire_all()
    ticket = demo.session.get(Ticket, ticket.id)
    assert ticket.queue.support_level == 2 and [a.email for a in ticket.assignees] == [AGENT]  # a queue alone keeps the assignees


# --- the desks hear of each change once ------------------------------------------------------


def test_each_change_is_told_once_per_transaction(app, demo, heard):
    with app.test_request_context():
        ticket = _fresh_ticket(demo)
        agent = user(AGENT)
        tickets.add_message(agent, ticket, "Première réponse")  # a reply that also opens the ticket
        tickets.add_message(agent, ticket, "Deuxième réponse")
        tickets.add_message(agent, ticket, "Note", internal=True)
        tickets.change_priority(agent, ticket, priority("high").id)
        demo.session.commit()
        other = _fresh_ticket(demo)
        from app.services import ticket_links

        ticket_links.merge(agent, other, ticket.number)
        demo.session.commit()
    assert sorted(c for t, c, _ in heard if t == ticket.id) == ["created", "fields", "merged", "message", "note"]
    assert [c for t, c, _ in heard if t == other.id] == ["created", "merged"]


def test_nothing_is_told_of_a_rolled_back_change(app, demo, heard):
    with app.test_request_context():
        ticket = _fresh_ticket(demo)
        tickets.add_message(user(AGENT), ticket, "Jamais envoyée")
        demo.session.rollback()
    assert [c for t, c, _ in heard if t == ticket.id] == ["created"]


# --- routing leaves « Nouveau » like a manual assignment --------------------------------------


def test_a_ticket_routed_to_an_agent_leaves_new_like_a_manual_assignment(app, demo):
    level1 = queue(1)
    level1.members = [user(AGENT)]
    demo.session.commit()
    with app.test_request_context():
        routed = tickets.create_ticket(user(CLIENT), title="Routé", body="b")
        by_hand = tickets.create_ticket(user(CLIENT), title="À la main", body="b")
        level1.members = []
        tickets.assign(user(SUPERVISOR), by_hand, [user(AGENT).id])
        demo.session.commit()
    assert [a.email for a in routed.assignees] == [AGENT]
    assert routed.status_category == StatusCategory.OPEN and routed.status_id == by_hand.status_id
    moves = demo.session.query(TicketEvent).filter_by(ticket_id=routed.id, action="status").all()
    assert [(m.old_value, m.new_value) for m in moves] == [("Nouveau", routed.status.name)]


def test_a_queue_nobody_takes_keeps_the_ticket_new(app, demo):
    with app.test_request_context():
        waiting = tickets.create_ticket(user(CLIENT), title="En file", body="b")
        demo.session.commit()
    assert waiting.assignees == [] and waiting.status_category == StatusCategory.NEW
