"""The REST API (U3, T15): writes through the same services as the web, reads through
scopes.py, consistent errors, API keys that act with their user's rights and no more, and an
OpenAPI description fuzzed by Schemathesis with every role's credentials."""

from app.models import ActivityLog, Channel, NovaUser, Organisation, OutboxMail, Ticket, TicketMessage
from tests.conftest import api_token

CLIENT = "client@credit-solidaire.sn"
AGENT = "agent1@novalead.com"
ADMIN = "admin@novalead.com"


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def _org(db, name):
    return db.session.query(Organisation).filter_by(name=name).one()


def test_a_ticket_filed_and_answered_through_the_api_is_one_from_the_web(app, demo):
    client_token = api_token(app.test_client(), demo, CLIENT)
    agent_token = api_token(app.test_client(), demo, AGENT)
    api = app.test_client()
    created = api.post("/api/v1/ticket/", json={"title": "Export bloqué", "body": "L'export mensuel ne part plus."}, headers=_bearer(client_token))
    assert created.status_code == 201, created.json
    ticket = demo.session.get(Ticket, created.json["id"])
    assert created.json["result"]["number"] == ticket.number and ticket.number.startswith("NL-")
    assert ticket.channel == Channel.API  # T15: the channel says where it came from
    assert ticket.organisation.name == "Crédit Solidaire du Sahel" and ticket.requester.email == CLIENT
    assert ticket.first_response_due is not None and ticket.resolution_due is not None  # SLA set
    assert demo.session.query(ActivityLog).filter_by(action="ticket.created", target_id=ticket.id).count() == 1
    assert demo.session.query(OutboxMail).filter_by(recipient=CLIENT, kind="ticket_created").count() == 1

    # The agent answers and writes a note; the client replies; the client never sees the note.
    reply = api.post("/api/v1/ticket_message/", json={"ticket_id": ticket.id, "body": "Nous regardons."}, headers=_bearer(agent_token))
    note = api.post("/api/v1/ticket_message/", json={"ticket_id": ticket.id, "body": "Piste : cron", "internal": True}, headers=_bearer(agent_token))
    assert reply.status_code == 201 and note.status_code == 201
    demo.session.expire_all()
    assert ticket.first_responded_on is not None and ticket.status_category == "open"
    assert demo.session.query(OutboxMail).filter_by(recipient=CLIENT, kind="agent_reply").count() == 1
    refused = api.post("/api/v1/ticket_message/", json={"ticket_id": ticket.id, "body": "x", "internal": True}, headers=_bearer(client_token))
    assert refused.status_code == 404
    seen = api.get(f"/api/v1/ticket_message/?q=(filters:!((col:ticket,opr:rel_o_m,value:{ticket.id})))", headers=_bearer(client_token)).json
    assert [m["body"] for m in seen["result"]] == ["L'export mensuel ne part plus.", "Nous regardons."]
    staff_view = api.get(f"/api/v1/ticket_message/?q=(filters:!((col:ticket,opr:rel_o_m,value:{ticket.id})))", headers=_bearer(agent_token)).json
    assert staff_view["count"] == 3
    assert demo.session.query(TicketMessage).filter_by(ticket_id=ticket.id, internal=True).count() == 1

    # Status through PUT, as on the web: the client closes their ticket, cannot touch the priority.
    from tests.ticket_helpers import priority, status

    closed = api.put(f"/api/v1/ticket/{ticket.id}", json={"status_id": status("closed").id}, headers=_bearer(client_token))
    assert closed.status_code == 200, closed.json
    assert closed.json["result"]["status_category"] == "closed"
    assert api.put(f"/api/v1/ticket/{ticket.id}", json={"priority_id": priority("urgent").id}, headers=_bearer(client_token)).status_code == 404
    demo.session.expire_all()
    assert ticket.closed_on is not None


def test_errors_are_json_and_missing_equals_forbidden(app, demo):
    from app.services import tickets

    agent = demo.session.query(NovaUser).filter_by(email=AGENT).one()
    with app.test_request_context():
        other = tickets.create_ticket(agent, title="Ailleurs", body="b", organisation_id=_org(demo, "Baobab Microcrédit").id)
        demo.session.commit()
    token = api_token(app.test_client(), demo, CLIENT)
    api = app.test_client()
    forbidden = api.get(f"/api/v1/ticket/{other.id}", headers=_bearer(token))
    missing = api.get("/api/v1/ticket/999999", headers=_bearer(token))
    assert forbidden.status_code == missing.status_code == 404 and forbidden.json == missing.json
    assert api.put(f"/api/v1/ticket/{other.id}", json={"status_id": 1}, headers=_bearer(token)).status_code == 404
    assert api.post("/api/v1/ticket_message/", json={"ticket_id": other.id, "body": "Coucou"}, headers=_bearer(token)).status_code == 404
    bad_query = api.get("/api/v1/ticket/?q=(((", headers=_bearer(token))
    assert bad_query.status_code == 400 and "message" in bad_query.json
    invalid = api.post("/api/v1/ticket/", json={"title": ""}, headers=_bearer(token))
    assert invalid.status_code == 422 and "body" in invalid.json["message"]
    refused = api.post("/api/v1/ticket/", json={"title": "T", "body": "B", "organisation_id": _org(demo, "Baobab Microcrédit").id}, headers=_bearer(token))
    assert refused.status_code == 422 and refused.json["message"]
    assert api.get("/api/v1/ticket/").status_code == 401
    assert demo.session.query(Ticket).count() == 1  # nothing written by the refusals
    page = api.get("/api/v1/organisation/?q=(page:0,page_size:1000)", headers=_bearer(token)).json
    assert page["count"] == 1 and len(page["result"]) == 1


def test_api_keys_act_with_their_users_rights_and_read_only_keys_write_nothing(app, demo):
    from app.services import api_keys

    admin = demo.session.query(NovaUser).filter_by(email=ADMIN).one()
    with app.test_request_context():
        _, full = api_keys.issue_api_key(admin, CLIENT, "ERP", scopes=api_keys.READ_WRITE)
        _, reader = api_keys.issue_api_key(admin, CLIENT, "Tableau", scopes=api_keys.READ_ONLY)
        demo.session.commit()
    api = app.test_client()
    listing = api.get("/api/v1/organisation/?q=(page_size:100)", headers=_bearer(full["key"]))
    assert listing.status_code == 200 and [o["name"] for o in listing.json["result"]] == ["Crédit Solidaire du Sahel"]
    users = api.get("/api/v1/user/?q=(page_size:100)", headers=_bearer(reader["key"])).json["result"]
    assert {u["organisation"]["name"] for u in users} == {"Crédit Solidaire du Sahel"}
    body = {"title": "Par clé", "body": "Créé par l'ERP"}
    assert api.post("/api/v1/ticket/", json=body, headers=_bearer(reader["key"])).status_code == 403
    written = api.post("/api/v1/ticket/", json=body, headers=_bearer(full["key"]))
    assert written.status_code == 201
    assert api.get(f"/api/v1/ticket/{written.json['id']}", headers=_bearer(reader["key"])).status_code == 200
    # Every resource answers to keys (FAB checks them before JWT on every protected route).
    for path in ("/api/v1/ticket/", "/api/v1/ticket_message/", "/api/v1/attachment/", "/api/v1/user/", "/api/v1/kb_article/", "/api/v1/product/"):
        assert api.get(path, headers=_bearer(reader["key"])).status_code == 200, path
    from flask_appbuilder.security.sqla.models import ApiKey

    with app.test_request_context():
        api_keys.revoke_api_keys(admin, demo.session.query(ApiKey).all())
        demo.session.commit()
    assert api.get("/api/v1/ticket/", headers=_bearer(full["key"])).status_code == 401
    assert api.get("/api/v1/ticket/", headers=_bearer("nd_forged")).status_code == 401


def test_attachments_metadata_and_download_follow_the_ticket(app, demo):
    from app.services import tickets
    from tests.ticket_helpers import file_, png_bytes

    agent = demo.session.query(NovaUser).filter_by(email=AGENT).one()
    with app.test_request_context():
        own = tickets.create_ticket(agent, title="Capture", body="b", organisation_id=_org(demo, "Crédit Solidaire du Sahel").id, files=[("ecran.png", file_("ecran.png", png_bytes())[0])])
        tickets.add_message(agent, own, "note", internal=True, files=[("interne.txt", file_("interne.txt", b"secret")[0])])
        demo.session.commit()
    token = api_token(app.test_client(), demo, CLIENT)
    api = app.test_client()
    files = api.get("/api/v1/attachment/", headers=_bearer(token)).json["result"]
    assert [f["filename"] for f in files] == ["ecran.png"]
    download = api.get(f"/api/v1/attachment/{files[0]['id']}/download", headers=_bearer(token))
    assert download.status_code == 200 and download.data == png_bytes()
    note_file = demo.session.query(__import__("app.models", fromlist=["Attachment"]).Attachment).filter_by(filename="interne.txt").one()
    assert api.get(f"/api/v1/attachment/{note_file.id}/download", headers=_bearer(token)).status_code == 404
    assert api.get(f"/api/v1/attachment/{note_file.id}", headers=_bearer(token)).status_code == 404
    staff = api_token(app.test_client(), demo, AGENT)
    assert api.get(f"/api/v1/attachment/{note_file.id}/download", headers=_bearer(staff)).status_code == 200


def test_an_api_key_shows_its_last_use_without_a_write_per_request(app, demo):
    from flask_appbuilder.security.sqla.models import ApiKey

    from app.services import api_keys

    admin = demo.session.query(NovaUser).filter_by(email=ADMIN).one()
    with app.test_request_context():
        _, created = api_keys.issue_api_key(admin, CLIENT, "ERP", scopes=api_keys.READ_WRITE)
        demo.session.commit()
    api = app.test_client()
    assert api.get("/api/v1/ticket/", headers=_bearer(created["key"])).status_code == 200
    demo.session.expire_all()
    first = demo.session.query(ApiKey).filter_by(name="ERP").one().last_used_on
    assert first is not None
    assert api.get("/api/v1/ticket/", headers=_bearer(created["key"])).status_code == 200
    demo.session.expire_all()
    assert demo.session.query(ApiKey).filter_by(name="ERP").one().last_used_on == first  # within the minute: not written again
