"""The ticket desk through its pages: create per role, reply, notes, status workflow,
assignment and routing, escalation, links and merges, attachments, bad input (T2–T9, T12, T14)."""
import re
from datetime import datetime, timezone

import pytest

from app.models import ActivityLog, Attachment, StatusCategory, Ticket, TicketEvent, TicketMessage
from app.services import clock, tickets
from app.services.tickets import routing
from tests.conftest import login
from tests.ticket_helpers import file_, org, png_bytes, priority, queue, status, user

CLIENT = "client@credit-solidaire.sn"
COLLEAGUE = "comptable@credit-solidaire.sn"
OTHER_CLIENT = "client@baobab-mc.tg"
AGENT = "agent1@novalead.com"
SUPERVISOR = "superviseur@novalead.com"
COMMERCIAL = "commercial1@novalead.com"


def signed_in(app, db, email):
    client = app.test_client()
    login(client, db, email)
    return client


def new_ticket(client, **fields):
    data = {"title": "Erreur à la clôture", "body": "La clôture échoue avec ERR-2041.", **fields}
    response = client.post("/tickets/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def page(client, ticket_id):
    response = client.get(f"/tickets/{ticket_id}")
    return response.status_code, response.get_data(as_text=True)


def test_client_files_a_ticket_with_number_and_deadlines(app, demo):
    client = signed_in(app, demo, CLIENT)
    forged = client.post("/tickets/new", data={"title": "t", "body": "b", "organisation": str(org("Baobab Microcrédit").id)})
    assert "Organisation inconnue" in forged.get_data(as_text=True)  # another organisation: refused, nothing made
    ticket_id = new_ticket(client, priority=str(priority("urgent").id))
    ticket = demo.session.get(Ticket, ticket_id)
    assert re.fullmatch(r"NL-\d{6}", ticket.number)
    assert ticket.organisation.name == "Crédit Solidaire du Sahel"  # a client files for their own organisation
    assert ticket.requester.email == CLIENT
    assert ticket.priority.key == "normal"  # clients do not pick the priority
    assert ticket.status_category == StatusCategory.NEW and ticket.channel == "web"
    assert ticket.first_response_due > ticket.created_on and ticket.resolution_due > ticket.first_response_due
    assert demo.session.query(ActivityLog).filter_by(action="ticket.created", target_id=ticket_id).count() == 1


def test_agent_files_for_a_client_with_note_priority_and_channel(app, demo):
    agent = signed_in(app, demo, AGENT)
    ticket_id = new_ticket(
        agent,
        organisation=str(org("Crédit Solidaire du Sahel").id),
        requester=str(user(CLIENT).id),
        priority=str(priority("high").id),
        channel="phone",
        internal_note="Appel du directeur, à traiter vite.",
    )
    ticket = demo.session.get(Ticket, ticket_id)
    assert (ticket.channel, ticket.priority.key, ticket.requester.email) == ("phone", "high", CLIENT)
    notes = [m for m in ticket.messages if m.internal]
    assert [n.body for n in notes] == ["Appel du directeur, à traiter vite."]
    _, client_view = page(signed_in(app, demo, CLIENT), ticket_id)
    assert "Appel du directeur" not in client_view


def test_commercial_files_only_for_their_clients(app, demo):
    commercial = signed_in(app, demo, COMMERCIAL)
    new_ticket(commercial, organisation=str(org("Fonds Épargne Plus").id))
    refused = commercial.post("/tickets/new", data={"title": "x", "body": "y", "organisation": str(org("Baobab Microcrédit").id)})
    assert refused.status_code == 200 and "Organisation inconnue" in refused.get_data(as_text=True)
    assert demo.session.query(Ticket).filter(Ticket.organisation_id == org("Baobab Microcrédit").id).count() == 0


def test_supervisor_assigns_at_creation(app, demo):
    supervisor = signed_in(app, demo, SUPERVISOR)
    agent = user("agent2@novalead.com")
    ticket_id = new_ticket(supervisor, organisation=str(org("Baobab Microcrédit").id), queue=str(queue(2).id), assignees=[str(agent.id)])
    ticket = demo.session.get(Ticket, ticket_id)
    assert [a.email for a in ticket.assignees] == [agent.email] and ticket.queue.support_level == 2
    assert ticket.status_category == StatusCategory.OPEN


def test_reply_note_and_visibility(app, demo):
    client = signed_in(app, demo, CLIENT)
    ticket_id = new_ticket(client)
    agent = signed_in(app, demo, AGENT)
    agent.post(f"/tickets/{ticket_id}/reply", data={"body": "Bonjour, nous regardons."})
    agent.post(f"/tickets/{ticket_id}/reply", data={"body": "Piste : index corrompu.", "internal": "1"})
    ticket = demo.session.get(Ticket, ticket_id)
    demo.session.refresh(ticket)
    assert ticket.first_responded_on is not None
    assert ticket.status_category == StatusCategory.OPEN  # the first answer opens a new ticket
    assert ticket.last_activity_by.email == AGENT
    _, seen_by_client = page(client, ticket_id)
    assert "Bonjour, nous regardons." in seen_by_client and "index corrompu" not in seen_by_client
    assert "Note interne ajoutée" not in seen_by_client  # not even the history line
    _, seen_by_commercial = page(signed_in(app, demo, COMMERCIAL), ticket_id)
    assert "index corrompu" in seen_by_commercial
    # A partner cannot write a note, whatever they post.
    client.post(f"/tickets/{ticket_id}/reply", data={"body": "je tente une note", "internal": "1"})
    assert demo.session.query(TicketMessage).filter_by(body="je tente une note").count() == 0
    client.post(f"/tickets/{ticket_id}/reply", data={"body": "Merci !"})
    assert demo.session.query(TicketMessage).filter_by(body="Merci !", internal=False).count() == 1


def test_status_workflow_client_closes_and_reopens(app, demo):
    client = signed_in(app, demo, CLIENT)
    ticket_id = new_ticket(client)
    agent = signed_in(app, demo, AGENT)
    agent.post(f"/tickets/{ticket_id}/status", data={"status": status("pending").id})
    ticket = demo.session.get(Ticket, ticket_id)
    demo.session.refresh(ticket)
    assert ticket.status_category == StatusCategory.PENDING and ticket.sla_paused_since is not None
    client.post(f"/tickets/{ticket_id}/reply", data={"body": "Voici la capture."})  # the client answers: work resumes
    demo.session.refresh(ticket)
    assert ticket.status_category == StatusCategory.OPEN and ticket.sla_paused_since is None
    client.post(f"/tickets/{ticket_id}/status", data={"status": status("pending").id})  # not a partner's move
    demo.session.refresh(ticket)
    assert ticket.status_category == StatusCategory.OPEN
    client.post(f"/tickets/{ticket_id}/status", data={"status": status("closed").id})
    demo.session.refresh(ticket)
    assert ticket.status_category == StatusCategory.CLOSED and ticket.closed_on and ticket.resolved_on
    client.post(f"/tickets/{ticket_id}/status", data={"status": status("open").id})  # reopen
    demo.session.refresh(ticket)
    assert ticket.status_category == StatusCategory.OPEN and ticket.closed_on is None
    actions = [e.action for e in demo.session.query(TicketEvent).filter_by(ticket_id=ticket_id).order_by(TicketEvent.id)]
    assert actions.count("status") >= 4 and "reopened" in actions
    assert demo.session.query(ActivityLog).filter_by(action="ticket.reopened", target_id=ticket_id).count() == 1


def test_every_transition_follows_the_categories(app, demo):
    agent_user = user(AGENT)
    with app.test_request_context():
        ticket = tickets.create_ticket(agent_user, title="t", body="b", organisation_id=org("Baobab Microcrédit").id)
        allowed = {c: {s.category for s in tickets.allowed_statuses(agent_user, ticket)} for c in [ticket.status_category]}
        assert allowed["new"] == {"open", "pending", "resolved", "closed"}
        tickets.change_status(agent_user, ticket, status("resolved").id)
        assert {s.category for s in tickets.allowed_statuses(agent_user, ticket)} == {"open", "closed"}
        tickets.change_status(agent_user, ticket, status("closed").id)
        assert {s.category for s in tickets.allowed_statuses(agent_user, ticket)} == {"open"}
        with pytest.raises(tickets.ServiceError):
            tickets.change_status(agent_user, ticket, status("pending").id)
        demo.session.rollback()


def test_round_robin_and_least_loaded_are_fair(app, demo):
    level1, level2 = queue(1), queue(2)
    agents = [user("agent1@novalead.com"), user("agent1b@novalead.com")]
    level1.members = agents
    level2.members = [user("agent2@novalead.com"), user("agent3@novalead.com")]
    demo.session.commit()
    client_user = user(CLIENT)
    with app.test_request_context():
        made = [tickets.create_ticket(client_user, title=f"t{i}", body="b") for i in range(6)]
        owners = [t.assignees[0].email for t in made]
        assert owners == [agents[0].email, agents[1].email] * 3  # round-robin, level 1
        agents[1].available = False  # away: skipped
        assert routing.pick_assignee(level1).email == agents[0].email
        level2.members[0].available = True
        for ticket in made[:3]:
            tickets.escalate(user(SUPERVISOR), ticket)  # least-loaded at level 2
        loads = sorted(len([t for t in made[:3] if m in t.assignees]) for m in level2.members)
        assert loads == [1, 2]
        demo.session.rollback()


def test_escalation_moves_up_a_level_and_stops_at_the_top(app, demo):
    supervisor = signed_in(app, demo, SUPERVISOR)
    ticket_id = new_ticket(signed_in(app, demo, CLIENT))
    ticket = demo.session.get(Ticket, ticket_id)
    assert ticket.queue.support_level == 1
    supervisor.post(f"/tickets/{ticket_id}/escalate")
    supervisor.post(f"/tickets/{ticket_id}/escalate")
    demo.session.refresh(ticket)
    assert ticket.queue.support_level == 3
    top = supervisor.post(f"/tickets/{ticket_id}/escalate", follow_redirects=True)
    assert "pas de niveau de support au-dessus" in top.get_data(as_text=True)
    # A client cannot escalate nor assign.
    client = signed_in(app, demo, CLIENT)
    assert client.post(f"/tickets/{ticket_id}/escalate").status_code in (302, 403)
    demo.session.refresh(ticket)
    assert ticket.queue.support_level == 3


def test_merge_moves_messages_and_closes_the_duplicate(app, demo):
    client = signed_in(app, demo, CLIENT)
    first = new_ticket(client, title="Clôture impossible")
    duplicate = new_ticket(client, title="Clôture impossible (bis)", attachments=file_("capture.png", png_bytes()))
    agent = signed_in(app, demo, AGENT)
    target_number = demo.session.get(Ticket, first).number
    agent.post(f"/tickets/{duplicate}/link", data={"kind": "merge", "other": target_number})
    demo.session.expire_all()
    dup = demo.session.get(Ticket, duplicate)
    assert dup.merged_into_id == first and dup.status_category == StatusCategory.CLOSED
    assert demo.session.query(TicketMessage).filter_by(ticket_id=first).count() == 2
    assert demo.session.query(Attachment).filter_by(ticket_id=first).count() == 1
    _, text = page(client, duplicate)
    assert "fusionné dans" in text
    assert client.get("/tickets/?view=all").get_data(as_text=True).count("Clôture impossible (bis)") == 0


def test_links_refuse_another_organisation(app, demo):
    mine = new_ticket(signed_in(app, demo, CLIENT))
    theirs = new_ticket(signed_in(app, demo, OTHER_CLIENT))
    agent = signed_in(app, demo, AGENT)
    for kind in ("merge", "related", "parent"):
        response = agent.post(f"/tickets/{mine}/link", data={"kind": kind, "other": str(theirs)}, follow_redirects=True)
        assert "même organisation" in response.get_data(as_text=True)
    child = new_ticket(signed_in(app, demo, CLIENT), title="Sous-partie")
    agent.post(f"/tickets/{child}/link", data={"kind": "parent", "other": str(mine)})
    agent.post(f"/tickets/{mine}/link", data={"kind": "parent", "other": str(child)})  # would be a loop
    demo.session.expire_all()
    assert demo.session.get(Ticket, child).parent_id == mine and demo.session.get(Ticket, mine).parent_id is None


def test_canned_response_placeholders_are_filled(app, demo):
    agent = signed_in(app, demo, AGENT)
    ticket_id = new_ticket(signed_in(app, demo, CLIENT))
    _, text = page(agent, ticket_id)
    number = demo.session.get(Ticket, ticket_id).number
    # The composer's picker holds the filled texts (the workspace's data-canned attribute).
    import html
    import json

    canned = json.loads(html.unescape(re.search(r"data-canned='([^']*)'", text).group(1)))
    texts = [c["text"] for c in canned]
    assert any(t.startswith(f"Bonjour Ibrahima Fall,\n\nNous avons bien reçu votre demande {number}") for t in texts)
    assert not any("{client}" in t for t in texts)


def test_attachments_large_image_preview_and_permission_checked_download(app, demo):
    client = signed_in(app, demo, CLIENT)
    big = png_bytes(1600, 1300, noise=True)
    assert len(big) > 6_000_000  # well above the 4 MB that other help desks refuse
    ticket_id = new_ticket(client, attachments=[file_("grande-capture.png", big), file_("journal.txt", "ligne 1\nligne 2\n".encode())])
    items = demo.session.query(Attachment).filter_by(ticket_id=ticket_id).order_by(Attachment.id).all()
    assert [(a.filename, a.content_type, a.is_image) for a in items] == [("grande-capture.png", "image/png", True), ("journal.txt", "text/plain; charset=utf-8", False)]
    shown = page(client, ticket_id)[1]
    assert re.search(r"\(\d+,\d Mo\)", shown) and "(1 Ko)" in shown  # sizes written the French way
    image = client.get(f"/tickets/attachments/{items[0].id}")
    assert image.status_code == 200 and image.data == big
    assert client.get(f"/tickets/attachments/{items[0].id}/preview").headers["Content-Type"].startswith("image/")
    text_file = client.get(f"/tickets/attachments/{items[1].id}")
    assert "attachment" in text_file.headers["Content-Disposition"]
    assert signed_in(app, demo, OTHER_CLIENT).get(f"/tickets/attachments/{items[0].id}").status_code == 404
    assert app.test_client().get(f"/tickets/attachments/{items[0].id}").status_code == 302  # to the login page


def test_a_notes_attachment_never_reaches_the_client(app, demo):
    client = signed_in(app, demo, CLIENT)
    ticket_id = new_ticket(client)
    agent = signed_in(app, demo, AGENT)
    agent.post(f"/tickets/{ticket_id}/reply", data={"body": "trace serveur", "internal": "1", "attachments": file_("trace.txt", b"stack trace")}, content_type="multipart/form-data")
    note_file = demo.session.query(Attachment).filter_by(ticket_id=ticket_id).one()
    assert agent.get(f"/tickets/attachments/{note_file.id}").status_code == 200
    assert client.get(f"/tickets/attachments/{note_file.id}").status_code == 404
    assert "trace.txt" not in page(client, ticket_id)[1]


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("photo.png", b"#!/bin/sh\nrm -rf /\n", "photo.png"),
        ("capture.png", png_bytes()[:60], "capture.png"),
        ("vide.pdf", b"", "vide.pdf"),
    ],
)
def test_refused_files_keep_the_rest_of_the_form(app, demo, name, data, message):
    client = signed_in(app, demo, CLIENT)
    response = client.post("/tickets/new", data={"title": "Titre gardé", "body": "Texte gardé", "attachments": file_(name, data)}, content_type="multipart/form-data")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and message in text
    assert 'value="Titre gardé"' in text and "Texte gardé" in text
    assert demo.session.query(Ticket).count() == 0


def test_decompression_bomb_and_oversized_file_are_refused(app, demo):
    import io

    from PIL import Image

    bomb = io.BytesIO()
    Image.new("1", (30000, 30000)).save(bomb, "PNG")
    client = signed_in(app, demo, CLIENT)
    response = client.post("/tickets/new", data={"title": "t", "body": "b", "attachments": file_("bombe.png", bomb.getvalue())}, content_type="multipart/form-data")
    assert "bombe.png" in response.get_data(as_text=True) and demo.session.query(Ticket).count() == 0
    app.config["MAX_ATTACHMENT_BYTES"] = 1024 * 1024
    try:
        response = client.post("/tickets/new", data={"title": "t", "body": "b", "attachments": file_("gros.png", png_bytes(900, 900, noise=True))}, content_type="multipart/form-data")
    finally:
        app.config["MAX_ATTACHMENT_BYTES"] = 25 * 1024 * 1024
    assert "gros.png" in response.get_data(as_text=True) and demo.session.query(Ticket).count() == 0


def test_script_in_text_fields_is_stored_as_text_and_shown_inert(app, demo):
    client = signed_in(app, demo, CLIENT)
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    ticket_id = new_ticket(client, title=payload, body=payload)
    ticket = demo.session.get(Ticket, ticket_id)
    assert ticket.title == payload  # stored as the person typed it
    for text in (page(client, ticket_id)[1], client.get("/tickets/?view=all").get_data(as_text=True)):
        assert payload not in text and "&lt;script&gt;" in text


def test_unknown_ids_and_bad_values_are_refused_cleanly(app, demo):
    client = signed_in(app, demo, CLIENT)
    assert client.get("/tickets/999999").status_code == 404
    assert client.post("/tickets/999999/reply", data={"body": "x"}).status_code == 404
    for data in ({"title": "", "body": "b"}, {"title": "t", "body": ""}, {"title": "x" * 201, "body": "b"}, {"title": "t", "body": "b", "type": "9999"}):
        response = client.post("/tickets/new", data=data)
        assert response.status_code == 200 and "alert-danger" in response.get_data(as_text=True)
    assert demo.session.query(Ticket).count() == 0
    agent = signed_in(app, demo, AGENT)
    ticket_id = new_ticket(client)
    assert agent.post(f"/tickets/{ticket_id}/link", data={"kind": "nonsense", "other": "1"}).status_code == 400
    agent.post(f"/tickets/{ticket_id}/assign", data={"assignees": [str(user(CLIENT).id)]})  # a client cannot be assignee
    assert demo.session.get(Ticket, ticket_id).assignees == [] or user(CLIENT) not in demo.session.get(Ticket, ticket_id).assignees


def test_list_filters_sort_counts_and_bookmarkable_url(app, demo):
    client_user, agent_user = user(CLIENT), user(AGENT)
    with app.test_request_context():
        for day, title in [(1, "Ancien"), (2, "Moyen"), (3, "Récent")]:
            with clock.frozen(datetime(2026, 11, day, 9, tzinfo=timezone.utc)):
                ticket = tickets.create_ticket(client_user, title=title, body="b")
        with clock.frozen(datetime(2026, 11, 4, 9, tzinfo=timezone.utc)):
            tickets.change_status(agent_user, ticket, status("closed").id)
        demo.session.commit()
    agent = signed_in(app, demo, AGENT)
    text = agent.get("/tickets/?view=all").get_data(as_text=True)
    assert text.index("Récent") < text.index("Moyen") < text.index("Ancien")  # newest activity first
    assert re.search(r'id="count-new">2<', text) and re.search(r'id="count-closed">1<', text)
    active = agent.get("/tickets/").get_data(as_text=True)
    assert "Récent" not in active and "Moyen" in active
    by_title = agent.get("/tickets/?view=all&sort=title&dir=asc").get_data(as_text=True)
    assert by_title.index("Ancien") < by_title.index("Moyen")
    mine = agent.get("/tickets/?view=all&assignee=me").get_data(as_text=True)
    assert "Aucun ticket" in mine or "Moyen" in mine
    rows = agent.get("/tickets/rows?view=all&q=Moyen").get_data(as_text=True)
    assert rows.strip().startswith("<tbody") and "Moyen" in rows and "Ancien" not in rows


def test_admin_configures_the_desk_with_checks(app, demo):
    from app.models import BusinessCalendar, TicketStatus

    admin = signed_in(app, demo, "admin@novalead.com")
    calendar = demo.session.query(BusinessCalendar).one()
    bad = admin.post(f"/config/calendars/edit/{calendar.id}", data={"name": "Heures ouvrées", "timezone": "Europe/Paris", "week": '{"0": [["17:00", "08:00"]]}'}, follow_redirects=True)
    assert "Horaires invalides" in bad.get_data(as_text=True)
    admin.post(f"/config/calendars/edit/{calendar.id}", data={"name": "Heures ouvrées", "timezone": "Africa/Abidjan", "week": '{"0": [["07:30", "16:30"]], "5": [["08:00", "12:00"]]}'})
    demo.session.refresh(calendar)
    assert calendar.timezone == "Africa/Abidjan" and calendar.week["5"] == [["08:00", "12:00"]]
    # A status in use cannot be removed; a new one can be added, mapped to a stage.
    ticket_id = new_ticket(signed_in(app, demo, CLIENT))
    used = demo.session.get(Ticket, ticket_id).status
    admin.post(f"/config/statuses/delete/{used.id}")
    assert demo.session.get(TicketStatus, used.id) is not None
    admin.post("/config/statuses/add", data={"name": "En test chez le client", "category": "pending", "position": "4", "active": "y"})
    added = demo.session.query(TicketStatus).filter_by(name="En test chez le client").one()
    assert added.category == StatusCategory.PENDING
    agent = signed_in(app, demo, AGENT)
    agent.post(f"/tickets/{ticket_id}/status", data={"status": added.id})
    ticket = demo.session.get(Ticket, ticket_id)
    demo.session.refresh(ticket)
    assert ticket.status_category == StatusCategory.PENDING and ticket.sla_paused_since is not None


def test_sla_targets_read_as_business_time(app, demo):
    admin = signed_in(app, demo, "admin@novalead.com")
    text = admin.get("/config/priorities/list/").get_data(as_text=True)
    assert "1 h" in text and "3 jours ouvrés (24 h)" in text and "10 jours ouvrés (80 h)" in text


def test_partners_learn_nothing_of_queues_notes_or_internal_remarks(app, demo):
    """From a review of every partner path: escalation, merge history, list filters, org notes."""
    from app.models import Organisation

    client = signed_in(app, demo, CLIENT)
    first, second = new_ticket(client, title="Premier"), new_ticket(client, title="Doublon")
    supervisor = signed_in(app, demo, SUPERVISOR)
    supervisor.post(f"/tickets/{first}/escalate")
    supervisor.post(f"/tickets/{second}/reply", data={"body": "note A", "internal": "1"})
    supervisor.post(f"/tickets/{second}/reply", data={"body": "note B", "internal": "1"})
    supervisor.post(f"/tickets/{second}/link", data={"kind": "merge", "other": str(first)})
    _, seen = page(client, first)
    assert "Support niveau" not in seen and "Transmis au support de niveau 2" in seen
    number = demo.session.get(Ticket, second).number
    assert f"A reçu les messages de {number}" in seen and f"{number} (" not in seen
    _, staff_view = page(supervisor, first)
    assert "Support niveau 1 → Support niveau 2" in staff_view
    # Queue and assignee filters are ignored for partners: no probing of staff-only fields.
    level2 = queue(2).id
    assert 'data-total="1"' in client.get(f"/tickets/rows?view=all&queue={level2 + 1}").get_data(as_text=True)
    # The vendor's notes about an organisation stay with the vendor.
    organisation = org("Crédit Solidaire du Sahel")
    organisation.notes = "Client exigeant, relancer le directeur"
    demo.session.commit()
    assert "Client exigeant" not in client.get(f"/organisations/show/{organisation.id}").get_data(as_text=True)
    assert "Client exigeant" in supervisor.get(f"/organisations/show/{organisation.id}").get_data(as_text=True)
    # FAB's metadata endpoint (every related row, unscoped) is not served.
    assert demo.session.query(Organisation).count() > 1
    assert client.get("/api/v1/organisation/_info").status_code in (404, 405)


def test_malformed_ids_are_refused_without_a_server_error(app, demo):
    client = signed_in(app, demo, CLIENT)
    ticket_id = new_ticket(client)
    agent = signed_in(app, demo, AGENT)
    for path, data in [
        (f"/tickets/{ticket_id}/status", {"status": "abc"}),
        (f"/tickets/{ticket_id}/priority", {"priority": "1 OR 1=1"}),
        (f"/tickets/{ticket_id}/assign", {"assignees": ["x"]}),
    ]:
        response = agent.post(path, data=data, follow_redirects=True)
        assert response.status_code == 200 and "Valeur invalide" in response.get_data(as_text=True)
    response = client.post("/tickets/new", data={"title": "t", "body": "b", "type": "deux"})
    assert response.status_code == 200 and "Valeur invalide" in response.get_data(as_text=True)
