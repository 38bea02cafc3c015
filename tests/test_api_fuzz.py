"""Schemathesis over NovaDesk's OpenAPI description, through the WSGI app (no server), with
each role's credentials: no server error on any generated request, and no response carrying
a row the role may not see (ticket, message, file, person, organisation, article)."""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from app.models import Attachment, KbArticle, NovaUser, Organisation, Product, Ticket, TicketMessage
from app.security import scopes
from tests.conftest import api_token

ROLES = {
    "admin": "admin@novalead.com",
    "agent": "agent1@novalead.com",
    "commercial": "commercial1@novalead.com",
    "client": "client@credit-solidaire.sn",
    "reseller": "revendeur@afrilog.ci",
}
MAX_EXAMPLES = 3  # per operation and role: enough to find crashes, quick enough to run each time
RESOURCES = {
    "ticket": (Ticket, scopes.tickets_filter),
    "ticket_message": (TicketMessage, scopes.ticket_messages_filter),
    "attachment": (Attachment, scopes.attachments_filter),
    "user": (NovaUser, scopes.users_filter),
    "kb_article": (KbArticle, scopes.api_articles_filter),
    "organisation": (Organisation, scopes.organisations_filter),
    "product": (Product, scopes.products_filter),
}


def _visible(db, user, resource):
    model, rule = RESOURCES[resource]
    return {row_id for (row_id,) in db.session.query(model.id).filter(rule(user))}


def _leaks(db, user, path, payload, visible_sets):
    """Rows in the answer outside the user's scope, described (empty: no leak). `visible_sets`
    caches the rows in scope per resource until a write empties it."""
    parts = path.split("?")[0].strip("/").split("/")  # api, v1, resource, ...
    resource = parts[2] if len(parts) > 2 else None
    if resource not in RESOURCES or not isinstance(payload, dict) or "result" not in payload:
        return []
    result = payload["result"]
    rows = result if isinstance(result, list) else [result]
    problems = []
    for kind in (resource, "organisation"):
        if kind not in visible_sets:
            visible_sets[kind] = _visible(db, user, kind)
    visible, organisations = visible_sets[resource], visible_sets["organisation"]
    for row in rows:
        if not isinstance(row, dict):
            continue
        if "id" in row and row["id"] not in visible:
            problems.append(f"{resource} {row['id']}")
        organisation = row.get("organisation")
        if resource == "user" and row.get("id") == user.id:
            continue  # one's own record, with one's own organisation (the vendor, for staff)
        if isinstance(organisation, dict) and organisation.get("id") not in organisations:
            problems.append(f"organisation {organisation.get('id')} in {resource}")
        if resource == "ticket_message" and row.get("internal") and not scopes.sees_internal_notes(user):
            problems.append(f"internal note {row.get('id')}")
    return problems


@pytest.fixture
def busy_world(app, demo):
    """A ticket in every client organisation, with a public file and an internal note."""
    import io

    from app.services import tickets
    from tests.ticket_helpers import png_bytes

    agent = demo.session.query(NovaUser).filter_by(email=ROLES["agent"]).one()
    with app.test_request_context():
        for organisation in demo.session.query(Organisation).filter(Organisation.kind != "vendor").order_by(Organisation.id):
            ticket = tickets.create_ticket(agent, title=f"Ticket {organisation.name}", body="Bonjour", organisation_id=organisation.id, files=[("capture.png", io.BytesIO(png_bytes()))])
            tickets.add_message(agent, ticket, "Note interne", internal=True)
        demo.session.commit()
    return demo


def test_every_api_route_answers_without_server_error_or_leak(app, busy_world):
    db = busy_world
    tokens = {role: api_token(app.test_client(), db, email) for role, email in ROLES.items()}
    schema = schemathesis.openapi.from_wsgi("/api/v1/_openapi", app, headers={"Authorization": f"Bearer {tokens['admin']}"})
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {"/api/v1/ticket/", "/api/v1/ticket_message/", "/api/v1/attachment/{pk}/download", "/api/v1/kb_article/", "/api/v1/user/"} <= {op.path for op in operations}
    failures = []
    for role, email in ROLES.items():
        user = db.session.query(NovaUser).filter_by(email=email).one()
        headers = {"Authorization": f"Bearer {tokens[role]}"}
        visible_sets = {}
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
            def check(case):
                response = case.call(headers=headers)
                if response.status_code >= 500:
                    failures.append(f"{role} {case.method} {case.formatted_path} {case.query} {case.body!r}: {response.status_code}")
                    return
                if case.method.upper() != "GET":
                    visible_sets.clear()  # a write may have added rows in scope
                    db.session.expire_all()
                try:
                    payload = response.json()
                except Exception:
                    return
                leaks = _leaks(db, user, case.formatted_path, payload, visible_sets)
                if leaks:
                    failures.append(f"{role} {case.method} {case.formatted_path}: {leaks}")

            check()
    assert not failures, "\n".join(failures[:20])


def test_every_row_by_id_is_served_only_within_scope(app, busy_world):
    """Each existing id of each resource, asked for by each role: served when in scope, else the
    same 404 as a missing one; lists carry exactly the rows in scope."""
    db = busy_world
    client = app.test_client()
    missing = None
    for role, email in ROLES.items():
        user = db.session.query(NovaUser).filter_by(email=email).one()
        headers = {"Authorization": f"Bearer {api_token(app.test_client(), db, email)}"}
        for resource, (model, _rule) in RESOURCES.items():
            visible = _visible(db, user, resource)
            listed = client.get(f"/api/v1/{resource}/?q=(page_size:100)", headers=headers).json
            assert {row["id"] for row in listed["result"]} == visible, (role, resource)
            assert listed["count"] == len(visible)
            if scopes.is_staff(user):
                continue  # staff see every row: the list above says it; by id, the narrower roles
            for (row_id,) in db.session.query(model.id):
                response = client.get(f"/api/v1/{resource}/{row_id}", headers=headers)
                assert response.status_code == (200 if row_id in visible else 404), (role, resource, row_id)
                if response.status_code == 404:
                    missing = missing or client.get(f"/api/v1/{resource}/999999", headers=headers).json
                    assert response.json == missing
