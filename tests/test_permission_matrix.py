"""The permission matrix: every role × every way in × own and other organisation (U1, U7).

For each role, every page, action and API route is requested and its outcome compared with
what SPEC.md's role table allows. Outcomes:
  ok      — served (200)
  denied  — refused by the permission matrix (redirect away, or 401/403 on the API)
  hidden  — outside the role's scope: 404, the same answer as for a missing object
Later issues add their paths to PAGES and API.
"""
import pytest

from app.models import (
    AccountRequest,
    ActivityLog,
    NovaUser,
    Organisation,
    OutboxMail,
    Product,
    RolePolicy,
    SyncRun,
    SyncSource,
    TicketMessage,
    WebhookDelivery,
    WebhookSubscription,
)
from tests.conftest import api_token, login

ROLES = ["admin", "supervisor", "agent", "commercial", "client", "reseller", "anonymous"]
EMAILS = {
    "admin": "admin@novalead.com",
    "supervisor": "superviseur@novalead.com",
    "agent": "agent1@novalead.com",
    "commercial": "commercial1@novalead.com",  # manages Crédit Solidaire, Fonds Épargne Plus, MF Horizon
    "client": "client@credit-solidaire.sn",
    "reseller": "revendeur@afrilog.ci",  # resells to Mutuelle Kaya and COOPEC Lumière
}
# An organisation each role may see, and a colleague there.
OWN = {
    "admin": ("Baobab Microcrédit", "client@baobab-mc.tg"),
    "supervisor": ("Baobab Microcrédit", "client@baobab-mc.tg"),
    "agent": ("Baobab Microcrédit", "client@baobab-mc.tg"),
    "commercial": ("Crédit Solidaire du Sahel", "client@credit-solidaire.sn"),
    "client": ("Crédit Solidaire du Sahel", "comptable@credit-solidaire.sn"),
    "reseller": ("Mutuelle Kaya", "client@mutuelle-kaya.bf"),
    "anonymous": ("Crédit Solidaire du Sahel", "client@credit-solidaire.sn"),
}
OTHER = ("Baobab Microcrédit", "client@baobab-mc.tg")  # outside every partner-side scope above

STAFF = {"admin", "supervisor", "agent"}
SIGNED_IN = set(ROLES) - {"anonymous"}
EVERYONE = set(ROLES)
PARTNER_SIDE = {"client", "reseller"}
ADMIN_ONLY = {"admin"}


def expect(allowed, hidden_for=()):
    return {role: "ok" if role in allowed else "hidden" if role in hidden_for else "denied" for role in ROLES}


SCOPED = expect(SIGNED_IN)
OTHER_ORG = {**expect(STAFF, hidden_for={"commercial", "client", "reseller"})}

# (method, path template, expectations)
PAGES = [
    ("GET", "/", expect(SIGNED_IN)),
    ("GET", "/organisations/list/", expect(SIGNED_IN)),
    ("GET", "/organisations/show/{own_org}", expect(SIGNED_IN)),
    ("GET", "/organisations/show/{other_org}", OTHER_ORG),
    ("GET", "/organisations/add", expect(ADMIN_ONLY)),
    ("GET", "/organisations/edit/{own_org}", expect(ADMIN_ONLY)),
    ("GET", "/products/list/", expect(SIGNED_IN)),
    ("GET", "/products/show/{product}", expect(SIGNED_IN)),
    ("GET", "/products/add", expect(ADMIN_ONLY)),
    ("GET", "/products/edit/{product}", expect(ADMIN_ONLY)),
    ("GET", "/directory/list/", expect(SIGNED_IN)),
    ("GET", "/directory/show/{colleague}", expect(SIGNED_IN)),
    ("GET", "/directory/show/{other_user}", OTHER_ORG),
    ("GET", "/users/list/", expect(ADMIN_ONLY)),
    ("GET", "/users/show/{other_user}", expect(ADMIN_ONLY)),
    ("GET", "/users/add", expect(ADMIN_ONLY)),
    ("GET", "/users/edit/{other_user}", expect(ADMIN_ONLY)),
    ("GET", "/users/userinfo/", expect(SIGNED_IN)),
    ("GET", "/novauserinfoeditview/form", expect(SIGNED_IN)),
    ("GET", "/resetmypassword/form", expect(SIGNED_IN)),
    ("GET", "/resetpassword/form?pk={other_user}", expect(ADMIN_ONLY)),
    ("GET", "/roles/matrix/", expect(ADMIN_ONLY)),
    ("GET", "/roles/matrix/?role={role}", expect(ADMIN_ONLY)),
    ("GET", "/roles/matrix/export.csv", expect(ADMIN_ONLY)),
    ("GET", "/roles/edit/{role}", expect(ADMIN_ONLY)),
    ("GET", "/role-policies/list/", expect(ADMIN_ONLY)),
    ("GET", "/role-policies/edit/{policy}", expect(ADMIN_ONLY)),
    ("GET", "/activity/list/", expect(ADMIN_ONLY)),
    ("GET", "/activity/show/{activity}", expect(ADMIN_ONLY)),
    ("GET", "/account-requests/list/", expect(ADMIN_ONLY)),
    ("GET", "/account-requests/show/{account_request}", expect(ADMIN_ONLY)),
    ("GET", "/account-requests/edit/{account_request}", expect(ADMIN_ONLY)),
    ("GET", "/api-keys/list/", expect(ADMIN_ONLY)),
    ("GET", "/api-keys/issue", expect(ADMIN_ONLY)),
    ("GET", "/dev-mailbox/", expect(ADMIN_ONLY)),
    ("GET", "/dev-mailbox/{mail}", expect(ADMIN_ONLY)),
    ("GET", "/account/security/", expect(SIGNED_IN)),
    ("GET", "/swagger/v1", expect(ADMIN_ONLY)),
    # Webhooks (integrations): admins only.
    ("GET", "/webhooks/list/", expect(ADMIN_ONLY)),
    ("GET", "/webhooks/add", expect(ADMIN_ONLY)),
    ("GET", "/webhooks/show/{webhook}", expect(ADMIN_ONLY)),
    ("GET", "/webhooks/edit/{webhook}", expect(ADMIN_ONLY)),
    ("GET", "/webhooks/deliveries/list/", expect(ADMIN_ONLY)),
    ("GET", "/webhooks/deliveries/show/{delivery}", expect(ADMIN_ONLY)),
    # The help centre (K1–K5): open to visitors, each article and wiki to its readers only.
    ("GET", "/help/", expect(EVERYONE)),
    ("GET", "/favicon.ico", expect(EVERYONE)),
    ("GET", "/help/search?q=remboursement", expect(EVERYONE)),
    ("GET", "/help/suggest?q=remboursement", expect(EVERYONE)),
    ("GET", "/help/articles/{public_article}", expect(EVERYONE)),
    ("GET", "/help/articles/{partners_article}", expect(SIGNED_IN, hidden_for={"anonymous"})),
    ("GET", "/help/articles/{internal_article}", expect(STAFF | {"commercial"}, hidden_for=PARTNER_SIDE | {"anonymous"})),
    ("GET", "/help/articles/{draft_article}", expect(STAFF, hidden_for=PARTNER_SIDE | {"commercial", "anonymous"})),
    ("GET", "/help/categories/{internal_category}", expect(STAFF | {"commercial"}, hidden_for=PARTNER_SIDE | {"anonymous"})),
    ("GET", "/help/wiki/{own_org}", expect(SIGNED_IN, hidden_for={"anonymous"})),
    ("GET", "/help/wiki/{other_org}", expect(STAFF, hidden_for=PARTNER_SIDE | {"commercial", "anonymous"})),
    # Its staff screens.
    ("GET", "/kb/", expect(STAFF)),
    ("GET", "/kb/new", expect(STAFF)),
    ("GET", "/kb/{draft_article}", expect(STAFF)),
    ("GET", "/kb/{draft_article}/history", expect(STAFF)),
    ("GET", "/kb/categories/list/", expect(STAFF)),
    ("GET", "/kb/categories/add", expect(STAFF)),
    ("GET", "/kb/categories/edit/{internal_category}", expect(STAFF)),
    # Integrations and personal data (U6, A4): admins only.
    ("GET", "/directory-import/", expect(ADMIN_ONLY)),
    ("GET", "/sync-sources/list/", expect(ADMIN_ONLY)),
    ("GET", "/sync-sources/add", expect(ADMIN_ONLY)),
    ("GET", "/sync-sources/show/{sync_source}", expect(ADMIN_ONLY)),
    ("GET", "/sync-sources/edit/{sync_source}", expect(ADMIN_ONLY)),
    ("GET", "/sync-log/list/", expect(ADMIN_ONLY)),
    ("GET", "/sync-log/show/{sync_run}", expect(ADMIN_ONLY)),
    ("GET", "/ticket-import/", expect(ADMIN_ONLY)),
    ("GET", "/personal-data/", expect(ADMIN_ONLY)),
]

# Integration writes and downloads (POST): admins only; everyone else is refused and nothing changes.
DATA_ACTIONS = [
    ("/directory-import/preview", "directory_file"),
    ("/directory-import/confirm", "directory_token"),
    ("/ticket-import/preview", "ticket_file"),
    ("/ticket-import/confirm", "ticket_token"),
    ("/personal-data/person", "person"),
    ("/personal-data/export", "export"),
    ("/personal-data/erase", "erase"),
    ("/sync-sources/action_post", "run_source"),
]

API = [
    ("GET", "/api/v1/organisation/", expect(SIGNED_IN)),
    ("GET", "/api/v1/organisation/{own_org}", expect(SIGNED_IN)),
    ("GET", "/api/v1/organisation/{other_org}", OTHER_ORG),
    ("GET", "/api/v1/product/", expect(SIGNED_IN)),
    ("GET", "/api/v1/product/{product}", expect(SIGNED_IN)),
    ("GET", "/api/v1/_openapi", expect(SIGNED_IN)),
    ("GET", "/api/v1/user/", expect(SIGNED_IN)),
    ("GET", "/api/v1/user/{colleague}", expect(SIGNED_IN)),
    ("GET", "/api/v1/user/{other_user}", OTHER_ORG),
    ("GET", "/api/v1/ticket/", expect(SIGNED_IN)),
    ("GET", "/api/v1/ticket_message/", expect(SIGNED_IN)),
    ("GET", "/api/v1/attachment/", expect(SIGNED_IN)),
    ("GET", "/api/v1/kb_article/", expect(SIGNED_IN)),
    ("GET", "/api/v1/kb_article/{public_article}", expect(SIGNED_IN)),
    ("GET", "/api/v1/kb_article/{partners_article}", expect(SIGNED_IN)),
    ("GET", "/api/v1/kb_article/{internal_article}", expect(STAFF | {"commercial"}, hidden_for=PARTNER_SIDE)),
    ("GET", "/api/v1/kb_article/{draft_article}", expect(STAFF, hidden_for=PARTNER_SIDE | {"commercial"})),
    ("POST?dry_run=1", "/api/v1/directory/sync", expect(ADMIN_ONLY)),
]

# Generated routes NovaDesk trimmed away: nobody reaches them.
REMOVED = [
    ("GET", "/organisations/delete/{own_org}"),
    ("GET", "/users/delete/{other_user}"),
    ("GET", "/groups/list/"),
    ("GET", "/permissions/list/"),
    ("GET", "/organisations/api/read"),
    ("GET", "/api/v1/organisation/_info"),
    ("GET", "/api/v1/product/_info"),
    ("POST", "/api/v1/organisation/"),
    ("PUT", "/api/v1/organisation/{own_org}"),
    ("DELETE", "/api/v1/organisation/{own_org}"),
    ("POST", "/api/v1/product/"),
    ("GET", "/api/v1/organisation/related/reseller"),
    ("GET", "/api/v1/organisation/distinct/name"),
] + [
    (method, f"/api/v1/{resource}/{suffix}")
    for resource in ("ticket", "ticket_message", "attachment", "user", "kb_article")
    for method, suffix in [("GET", "_info"), ("GET", "related/organisation"), ("GET", "distinct/title"), ("DELETE", "1")]
] + [
    ("POST", "/api/v1/user/"),
    ("PUT", "/api/v1/user/{colleague}"),
    ("PUT", "/api/v1/ticket_message/1"),
    ("POST", "/api/v1/attachment/"),
    ("POST", "/api/v1/kb_article/"),
]


def _ids(db, role):
    own_org, colleague = OWN[role]
    org = lambda name: db.session.query(Organisation).filter_by(name=name).one().id  # noqa: E731
    person = lambda email: db.session.query(NovaUser).filter_by(email=email).one().id  # noqa: E731
    return {
        "own_org": org(own_org),
        "other_org": org(OTHER[0]),
        "colleague": person(colleague),
        "other_user": person(OTHER[1]),
        "product": db.session.query(Product).first().id,
        "role": db.session.query(NovaUser).filter_by(email=EMAILS["client"]).one().roles[0].id,
        "policy": db.session.query(RolePolicy).first().id,
        "activity": db.session.query(ActivityLog).first().id,
        "account_request": db.session.query(AccountRequest).first().id,
        "mail": db.session.query(OutboxMail).first().id,
        "webhook": db.session.query(WebhookSubscription).first().id,
        "delivery": db.session.query(WebhookDelivery).first().id,
        "sync_source": db.session.query(SyncSource).first().id,
        "sync_run": db.session.query(SyncRun).first().id,
        **_kb_ids(db),
    }


def _kb_ids(db):
    """Articles and a category of the demo knowledge base, one per visibility that matters."""
    from app.models import KbArticle, KbCategory

    article = lambda **kw: db.session.query(KbArticle).filter_by(wiki_organisation_id=None, **kw).order_by(KbArticle.id).first().id  # noqa: E731
    return {
        "public_article": article(visibility="public", status="published"),
        "partners_article": article(visibility="partners", status="published"),
        "internal_article": article(visibility="internal", status="published"),
        "draft_article": db.session.query(KbArticle).filter(KbArticle.status != "published").first().id,
        "internal_category": db.session.query(KbCategory).filter_by(visibility="internal").first().id,
    }


def _outcome(response, api=False):
    if response.status_code == 200 or (api and response.status_code == 201):
        return "ok"
    if response.status_code == 404:
        return "hidden"
    if api and response.status_code in (401, 403):
        return "denied"
    if not api and response.status_code in (302, 403):  # anonymous: to the login page; signed in: 403
        return "denied"
    return f"unexpected {response.status_code}"


@pytest.fixture
def world(app, demo):
    """Demo data plus one of each admin-side object (an account request, a mail, a log entry, a
    webhook and one of its deliveries)."""
    from app.services import accounts, webhooks

    accounts.request_account(
        first_name="Awa", last_name="Test", email="awa@unknown-mfi.org", organisation_name="IMF inconnue", password="Password-123"
    )
    demo.session.add(WebhookSubscription(name="ERP", url="https://erp.example/hook", events=["chat.started"], secret=webhooks.new_secret()))
    demo.session.flush()
    webhooks.emit("chat.started", {"conversation": {"id": 1}})
    source = SyncSource(name="Dépôt ERP", kind="file", location="/nonexistent/annuaire.csv", interval_minutes=60)
    demo.session.add(source)
    demo.session.add(SyncRun(kind="directory", origin="api", source_label="API"))
    demo.session.commit()
    return demo


@pytest.mark.parametrize("role", ROLES)
def test_pages_and_api_follow_the_matrix(app, world, role):
    ids = _ids(world, role)
    client = app.test_client()
    token = None
    if role != "anonymous":
        login(client, world, EMAILS[role])
        token = api_token(app.test_client(), world, EMAILS[role])
    mismatches = []
    for method, template, expectations in PAGES:
        path = template.format(**ids)
        got = _outcome(client.open(path, method=method))
        if got != expectations[role]:
            mismatches.append(f"{method} {path}: expected {expectations[role]}, got {got}")
    api_client = app.test_client()  # no cookie: the API answers to tokens only
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for method, template, expectations in API:
        path = template.format(**ids)
        if method.startswith("POST"):  # a dry run: answered, and nothing is written whoever asks
            path, method = path + method[4:], "POST"
            got = _outcome(api_client.post(path, json={"organisations": [{"external_id": "X-1", "name": "Intruse"}]}, headers=headers), api=True)
            assert world.session.query(Organisation).filter_by(external_id="X-1").count() == 0
        else:
            got = _outcome(api_client.open(path, method=method, headers=headers), api=True)
        if got != expectations[role]:
            mismatches.append(f"{method} {path}: expected {expectations[role]}, got {got}")
    for method, template in REMOVED:
        path = template.format(**ids)
        status = client.open(path, method=method, headers=headers).status_code
        if status not in (404, 405):
            mismatches.append(f"{method} {path}: trimmed route answered {status}")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("role", sorted(SIGNED_IN))
def test_lists_contain_only_visible_rows(app, world, role):
    """The list pages and the API list return exactly the organisations and people in scope."""
    client = app.test_client()
    login(client, world, EMAILS[role])
    token = api_token(app.test_client(), world, EMAILS[role])
    everyone = {org.name for org in world.session.query(Organisation)}
    expected = {
        "admin": everyone,
        "supervisor": everyone,
        "agent": everyone,
        "commercial": {"Crédit Solidaire du Sahel", "Fonds Épargne Plus", "MicroFinance Horizon"},
        "client": {"Crédit Solidaire du Sahel"},
        "reseller": {"Afrique Logiciels Distribution", "Mutuelle Kaya", "COOPEC Lumière"},
    }[role]
    page = client.get("/organisations/list/?psize_OrganisationView=100").get_data(as_text=True)
    import html

    page = html.unescape(page)
    assert {name for name in everyone if name in page} == expected
    listing = app.test_client().get("/api/v1/organisation/?q=(page_size:100)", headers={"Authorization": f"Bearer {token}"})
    assert {row["name"] for row in listing.json["result"]} == expected
    assert listing.json["count"] == len(expected)
    people = html.unescape(client.get("/directory/list/?psize_DirectoryView=100").get_data(as_text=True))
    baobab_user_visible = "client@baobab-mc.tg" in people
    assert baobab_user_visible == (role in STAFF)


def test_api_refuses_the_session_cookie(app, world):
    client = app.test_client()
    login(client, world, EMAILS["admin"])
    assert client.get("/api/v1/organisation/").status_code == 401


@pytest.mark.parametrize("role", sorted(SIGNED_IN - ADMIN_ONLY))
def test_actions_refused_outside_the_matrix(app, world, role):
    """FAB's list actions fetch rows unfiltered: they must still refuse non-admins."""
    client = app.test_client()
    login(client, world, EMAILS[role])
    other = world.session.query(Organisation).filter_by(name=OTHER[0]).one()
    victim = world.session.query(NovaUser).filter_by(email=OTHER[1]).one()
    client.post("/organisations/action_post", data={"action": "deactivate", "rowid": [other.id]})
    client.post("/users/action_post", data={"action": "deactivate", "rowid": [victim.id]})
    client.post(f"/organisations/edit/{other.id}", data={"name": "Renamed", "kind": "client"})
    world.session.expire_all()
    assert other.active is True and other.name == OTHER[0]
    assert victim.active is True


def test_admin_actions_work(app, world):
    client = app.test_client()
    login(client, world, EMAILS["admin"])
    other = world.session.query(Organisation).filter_by(name=OTHER[0]).one()
    victim = world.session.query(NovaUser).filter_by(email=OTHER[1]).one()
    client.post("/organisations/action_post", data={"action": "deactivate", "rowid": [other.id]})
    client.post("/users/action_post", data={"action": "deactivate", "rowid": [victim.id]})
    world.session.expire_all()
    assert other.active is False
    assert victim.active is False
    entry = world.session.query(ActivityLog).filter_by(action="user.deactivated", subject_user_id=victim.id).one()
    assert entry.actor.email == EMAILS["admin"]


# --- the ticket desk -------------------------------------------------------------------

PARTNERS = {"client", "reseller"}
WORKERS = STAFF | {"commercial"}
TICKET_PAGES = [
    ("GET", "/tickets/", expect(SIGNED_IN)),
    ("GET", "/tickets/rows", expect(SIGNED_IN)),
    ("GET", "/tickets/new", expect(SIGNED_IN)),
    ("GET", "/tickets/{own_ticket}", expect(SIGNED_IN)),
    ("GET", "/tickets/{other_ticket}", OTHER_ORG),
    ("GET", "/tickets/attachments/{own_file}", expect(SIGNED_IN)),
    ("GET", "/tickets/attachments/{own_file}/preview", expect(SIGNED_IN)),
    ("GET", "/tickets/attachments/{other_file}", OTHER_ORG),
    ("GET", "/tickets/attachments/{note_file}", expect(WORKERS, hidden_for=PARTNERS)),
    ("POST", "/tickets/{other_ticket}/reply", OTHER_ORG),
    ("POST", "/tickets/{own_ticket}/reply", expect(SIGNED_IN)),
    ("POST", "/tickets/{own_ticket}/reply?internal", expect(WORKERS, hidden_for=PARTNERS)),
    ("POST", "/tickets/{own_ticket}/priority", expect(WORKERS)),
    ("POST", "/tickets/{own_ticket}/link", expect(WORKERS)),
    ("POST", "/tickets/{own_ticket}/assign", expect(STAFF)),
    ("POST", "/tickets/{own_ticket}/escalate", expect(STAFF)),
    ("POST", "/tickets/{other_ticket}/status", OTHER_ORG),
    ("POST", "/tickets/{own_ticket}/status", expect(SIGNED_IN)),
    # The agents' workspace: its queue, pane and inline actions are the support's and the
    # commercials'; partners keep the simple desk and never learn these exist.
    ("GET", "/tickets/queue", expect(WORKERS, hidden_for=PARTNERS)),
    ("GET", "/tickets/queue?box=unassigned", expect(WORKERS, hidden_for=PARTNERS)),
    ("GET", "/tickets/counts", expect(WORKERS, hidden_for=PARTNERS)),
    ("GET", "/tickets/{own_ticket}/pane", expect(WORKERS, hidden_for=PARTNERS)),
    ("GET", "/tickets/{other_ticket}/pane", OTHER_ORG),
    ("POST", "/tickets/{own_ticket}/take", expect(STAFF)),
    ("POST", "/tickets/{other_ticket}/take", expect(STAFF)),
    ("POST", "/tickets/{own_ticket}/fields", expect(WORKERS)),
    ("POST", "/tickets/{other_ticket}/fields", expect(STAFF, hidden_for={"commercial"})),
    ("POST", "/tickets/{own_ticket}/send", expect(WORKERS, hidden_for=PARTNERS)),
    ("POST", "/tickets/{other_ticket}/send", OTHER_ORG),
    # dashboards, reports, satisfaction, SLA rules (P1–P4, T13)
    ("POST", "/tickets/{own_ticket}/rate", expect(SIGNED_IN)),
    ("POST", "/tickets/{other_ticket}/rate", OTHER_ORG),
    ("GET", "/dashboard/", expect(SIGNED_IN)),
    ("GET", "/dashboard/data", expect(SIGNED_IN)),
    ("GET", "/reports/", expect(WORKERS)),
    ("GET", "/reports/?start=2026-01-01&end=2026-12-31", expect(WORKERS)),
    ("GET", "/reports/export.csv", expect(WORKERS)),
    ("GET", "/reports/export.csv?table=organisation", expect(WORKERS)),
    ("GET", "/reports/export.xlsx", expect(WORKERS)),
    ("GET", "/config/escalation-rules/list/", expect(ADMIN_ONLY)),
    ("GET", "/config/escalation-rules/add", expect(ADMIN_ONLY)),
    ("GET", "/satisfaction/{own_ticket}/not-a-token", {role: "hidden" for role in ROLES}),
] + [
    ("GET", f"/config/{name}/list/", expect(ADMIN_ONLY))
    for name in ("request-types", "priorities", "statuses", "calendars", "queues", "canned-responses")
] + [("GET", "/config/holidays/list/", expect(ADMIN_ONLY))]


def _ticket_world(app, db, role):
    """A ticket in the role's own organisation (with a public file and a note's file), and one in
    an organisation partners of this test may not see."""
    from app.models import Attachment, Ticket, TicketStatus
    from app.services import tickets
    from tests.ticket_helpers import file_, png_bytes

    agent = db.session.query(NovaUser).filter_by(email=EMAILS["agent"]).one()
    own_org = db.session.query(Organisation).filter_by(name=OWN[role][0]).one()
    other_org = db.session.query(Organisation).filter_by(name=OTHER[0]).one()
    with app.test_request_context():
        own = tickets.create_ticket(agent, title="Own", body="b", organisation_id=own_org.id, files=[("own.png", file_("own.png", png_bytes())[0])])
        sibling = tickets.create_ticket(agent, title="Sibling", body="b", organisation_id=own_org.id)
        tickets.add_message(agent, own, "note", internal=True, files=[("note.txt", file_("note.txt", b"secret")[0])])
        other = tickets.create_ticket(agent, title="Other", body="b", organisation_id=other_org.id, files=[("other.png", file_("other.png", png_bytes())[0])])
        db.session.commit()
        files = {a.filename: a.id for a in db.session.query(Attachment)}
        closed = db.session.query(TicketStatus).filter_by(category="closed").first().id
        return {
            "own_ticket": own.id, "other_ticket": other.id, "sibling": sibling.number,
            "own_file": files["own.png"], "other_file": files["other.png"], "note_file": files["note.txt"],
            "closed": closed, "priority": own.priority_id, "queue": own.queue_id or "", "agent_id": agent.id,
            "Ticket": Ticket,
        }


def _post_data(path, ids):
    if path.endswith("/reply?internal"):
        return path[: -len("?internal")], {"body": "Une note", "internal": "1"}
    if path.endswith("/reply"):
        return path, {"body": "Une réponse"}
    if path.endswith("/rate"):
        return path, {"score": "5"}
    if path.endswith("/status"):
        return path, {"status": ids["closed"]}
    if path.endswith("/priority"):
        return path, {"priority": ids["priority"]}
    if path.endswith("/assign"):
        return path, {"assignees": [ids["agent_id"]], "queue": ids["queue"]}
    if path.endswith("/link"):
        return path, {"kind": "related", "other": ids["sibling"]}
    if path.endswith("/fields"):
        return path, {"field": "priority", "value": ids["priority"]}
    if path.endswith("/send"):
        return path, {"body": "Une réponse"}
    return path, {}


def _action_outcome(response):
    if response.status_code == 200 and response.is_json:  # the workspace's JSON doors
        return "ok"
    if response.status_code == 302:
        location = response.headers["Location"]
        return "denied" if "/login" in location else "ok"
    if response.status_code == 403:
        return "denied"
    if response.status_code == 404:
        return "hidden"
    return f"unexpected {response.status_code}"


@pytest.mark.parametrize("role", ROLES)
def test_ticket_paths_follow_the_matrix(app, world, role):
    ids = _ticket_world(app, world, role)
    client = app.test_client()
    if role != "anonymous":
        login(client, world, EMAILS[role])
    mismatches = []
    for method, template, expectations in TICKET_PAGES:
        path = template.format(**ids)
        if method == "GET":
            got = _outcome(client.get(path, buffered=True))
        else:
            path, data = _post_data(path, ids)
            sent = {"json": data} if path.endswith("/fields") else {"data": data}
            got = _action_outcome(client.post(path, **sent))
        if got != expectations[role]:
            mismatches.append(f"{method} {template}: expected {expectations[role]}, got {got}")
    assert not mismatches, "\n".join(mismatches)
    # Whatever was posted, no partner ever wrote a note, nor touched the other organisation.
    notes = world.session.query(TicketMessage).filter_by(internal=True, body="Une note").count()
    assert notes == (1 if role in WORKERS else 0)
    other_messages = world.session.query(TicketMessage).filter_by(ticket_id=ids["other_ticket"]).count()
    assert other_messages == (3 if role in STAFF else 1)  # /reply and /send


@pytest.mark.parametrize("role", sorted(SIGNED_IN))
def test_ticket_list_shows_only_tickets_in_scope(app, world, role):
    from app.services import tickets

    agent = world.session.query(NovaUser).filter_by(email=EMAILS["agent"]).one()
    with app.test_request_context():
        for organisation in world.session.query(Organisation).filter(Organisation.kind != "vendor"):
            tickets.create_ticket(agent, title=f"Ticket de {organisation.name}", body="b", organisation_id=organisation.id)
        world.session.commit()
    client = app.test_client()
    login(client, world, EMAILS[role])
    import html

    text = html.unescape(client.get("/tickets/?view=all").get_data(as_text=True))
    shown = {o.name for o in world.session.query(Organisation) if f"Ticket de {o.name}" in text}
    expected = {
        "commercial": {"Crédit Solidaire du Sahel", "Fonds Épargne Plus", "MicroFinance Horizon"},
        "client": {"Crédit Solidaire du Sahel"},
        "reseller": {"Afrique Logiciels Distribution", "Mutuelle Kaya", "COOPEC Lumière"},
    }.get(role, {o.name for o in world.session.query(Organisation) if o.kind != "vendor"})
    assert shown == expected


# --- the e-mail channel ------------------------------------------------------------------

STAFF_ONLY_OTHER = expect(STAFF, hidden_for={"commercial"})
MAIL_PAGES = [
    ("GET", "/mail/received/list/", expect(ADMIN_ONLY)),
    ("GET", "/mail/received/show/{inbound}", expect(ADMIN_ONLY)),
    ("GET", "/mail/received/{inbound}/raw", expect(ADMIN_ONLY)),
    ("GET", "/mail/outbox/list/", expect(ADMIN_ONLY)),
    ("GET", "/mail/outbox/show/{mail}", expect(ADMIN_ONLY)),
    ("GET", "/mail/mailboxes/list/", expect(ADMIN_ONLY)),
    ("GET", "/mail/mailboxes/add", expect(ADMIN_ONLY)),
    ("GET", "/mail/mailboxes/edit/{mailbox}", expect(ADMIN_ONLY)),
    ("GET", "/tickets/messages/{own_mail_message}/original", expect(WORKERS)),
    ("GET", "/tickets/messages/{other_mail_message}/original", STAFF_ONLY_OTHER),
    ("GET", "/tickets/{unidentified}", expect(WORKERS, hidden_for=PARTNERS)),
    ("POST", "/tickets/{unidentified}/identify", expect(WORKERS)),
]


def _mail_world(db, role):
    from app.channels import mail_in
    from app.models import InboundMail, Mailbox, OutboxStatus

    def mail(sender, subject, key):
        raw = f"From: {sender}\r\nSubject: {subject}\r\nMessage-ID: <{key}@matrix>\r\n\r\nBonjour\r\n".encode()
        mail_in.ingest(raw)
        return db.session.query(InboundMail).filter_by(message_id=f"<{key}@matrix>").one()

    own = mail(OWN[role][1], "Depuis ma boîte", "own")
    other = mail(OTHER[1], "Autre client", "other")
    unknown = mail("inconnu@ailleurs.example", "Qui suis-je", "unknown")
    failed = mail("", "Sans expéditeur", "failed")
    box = Mailbox(name="Support", host="127.0.0.1", port=1, security="none", username="u", password="p")
    db.session.add(box)
    outbox = db.session.query(OutboxMail).first()
    outbox.status = OutboxStatus.FAILED
    db.session.commit()
    target = db.session.query(Organisation).filter_by(name=OWN["commercial"][0]).one()
    return {
        "inbound": failed.id, "mail": outbox.id, "mailbox": box.id,
        "own_mail_message": own.ticket.messages[0].id, "other_mail_message": other.ticket.messages[0].id,
        "unidentified": unknown.ticket_id, "target_org": target.id,
    }


@pytest.mark.parametrize("role", ROLES)
def test_mail_paths_follow_the_matrix(app, world, role):
    from app.models import InboundMail, InboundStatus, Ticket

    ids = _mail_world(world, role)
    client = app.test_client()
    if role != "anonymous":
        login(client, world, EMAILS[role])
    posts = {f"/tickets/{ids['unidentified']}/identify": {"organisation": ids["target_org"]}}
    # FAB answers a refused list action with a redirect: the rows themselves tell (below).
    client.post("/mail/received/action_post", data={"action": "retry", "rowid": [ids["inbound"]]})
    client.post("/mail/outbox/action_post", data={"action": "retry", "rowid": [ids["mail"]]})
    mismatches = []
    for method, template, expectations in MAIL_PAGES:
        path = template.format(**ids)
        got = _outcome(client.get(path)) if method == "GET" else _action_outcome(client.post(path, data=posts[path]))
        if got != expectations[role]:
            mismatches.append(f"{method} {template}: expected {expectations[role]}, got {got}")
    assert not mismatches, "\n".join(mismatches)
    world.session.expire_all()
    retried = world.session.get(InboundMail, ids["inbound"]).status == InboundStatus.RECEIVED
    assert retried == (role == "admin")
    assert (world.session.get(OutboxMail, ids["mail"]).status == "queued") == (role == "admin")
    identified = not world.session.get(Ticket, ids["unidentified"]).organisation.holds_unidentified
    assert identified == (role in WORKERS)
# --- the knowledge base's actions and files --------------------------------------------

KB_ACTIONS = [
    ("POST", "/kb/new", expect(STAFF)),
    ("POST", "/kb/{draft_article}", expect(STAFF)),
    ("POST", "/kb/{draft_article}/status", expect(STAFF)),
    ("POST", "/kb/{draft_article}/restore/1", expect(STAFF)),
    ("POST", "/kb/{draft_article}/files", expect(STAFF)),
    ("POST", "/kb/from-ticket/{resolved_ticket}", expect(STAFF)),
    ("POST", "/help/articles/{public_article}/vote", expect(EVERYONE)),
    ("POST", "/help/articles/{internal_article}/vote", expect(STAFF | {"commercial"}, hidden_for=PARTNER_SIDE | {"anonymous"})),
    ("GET", "/help/files/{public_file}", expect(EVERYONE)),
    ("GET", "/help/files/{internal_file}", expect(STAFF | {"commercial"}, hidden_for=PARTNER_SIDE | {"anonymous"})),
    ("GET", "/help/files/{draft_file}", expect(STAFF, hidden_for=PARTNER_SIDE | {"commercial", "anonymous"})),
]


def _kb_world(app, db):
    import io

    from app.models import KbArticle
    from app.services import kb, tickets
    from tests.ticket_helpers import png_bytes, status

    ids = _kb_ids(db)
    agent = db.session.query(NovaUser).filter_by(email=EMAILS["agent"]).one()
    supervisor = db.session.query(NovaUser).filter_by(email=EMAILS["supervisor"]).one()  # files of published articles
    organisation = db.session.query(Organisation).filter_by(name=OTHER[0]).one()
    with app.test_request_context():
        files = {}
        for key in ("public", "internal", "draft"):
            article = db.session.get(KbArticle, ids[f"{key}_article"])
            files[f"{key}_file"] = kb.add_file(supervisor, article, f"{key}.png", io.BytesIO(png_bytes())).id
        ticket = tickets.create_ticket(agent, title="Résolu", body="Question", organisation_id=organisation.id)
        tickets.change_status(agent, ticket, status("resolved").id)
        db.session.commit()
    return {**ids, **files, "resolved_ticket": ticket.id}


def _kb_post_data(path):
    if path == "/kb/new" or path.count("/") == 2:  # the editor's form
        return {"title": "Article du test", "body": "Texte", "visibility": "internal"}
    if path.endswith("/status"):
        return {"status": "review"}
    if path.endswith("/vote"):
        return {"helpful": "yes"}
    return {}


@pytest.mark.parametrize("role", ROLES)
def test_knowledge_base_actions_and_files_follow_the_matrix(app, world, role):
    ids = _kb_world(app, world)
    client = app.test_client()
    if role != "anonymous":
        login(client, world, EMAILS[role])
    mismatches = []
    for method, template, expectations in KB_ACTIONS:
        path = template.format(**ids)
        if method == "GET":
            got = _outcome(client.get(path))
        else:
            got = _action_outcome(client.post(path, data=_kb_post_data(path)))
        if got != expectations[role]:
            mismatches.append(f"{method} {template}: expected {expectations[role]}, got {got}")
    assert not mismatches, "\n".join(mismatches)
    from app.models import KbArticle

    written = world.session.query(KbArticle).filter_by(title="Article du test").count()
    assert written == (1 if role in STAFF else 0)


# --- live chat: console pages, widget paths and socket events ------------------------------

CHAT_PAGES = [
    ("GET", "/chat/console", expect(WORKERS)),
    ("GET", "/chat/history/list/", expect(WORKERS)),
    ("GET", "/chat/conversations/{own_conv}", expect(WORKERS)),
    ("GET", "/chat/conversations/{other_conv}", STAFF_ONLY_OTHER),
    ("GET", "/chat/conversations/{own_conv}/context", expect(WORKERS)),
    ("GET", "/chat/conversations/{other_conv}/context", STAFF_ONLY_OTHER),
    ("GET", "/chat/conversations/{own_conv}/articles?q=export", expect(STAFF)),
    ("POST", "/chat/conversations/{own_conv}/upload", expect(STAFF)),
    ("POST", "/chat/conversations/{own_conv}/ticket", expect(STAFF)),
    ("POST", "/chat/conversations/{other_conv}/attach", expect(STAFF)),
    ("GET", "/chat/channels/list/", expect(ADMIN_ONLY)),
    ("GET", "/chat/channels/add", expect(ADMIN_ONLY)),
    ("GET", "/chat/channels/show/{channel}", expect(ADMIN_ONLY)),
    ("GET", "/chat/channels/edit/{channel}", expect(ADMIN_ONLY)),
    ("GET", "/chat/channels/install/{channel_key}", expect(ADMIN_ONLY)),
    ("GET", "/widget.js", expect(EVERYONE)),
    ("GET", "/widget/frame/{channel_key}", expect(EVERYONE)),
    ("GET", "/widget/assets/{frame_script}", expect(EVERYONE)),  # the frame's script, named by its content
    ("GET", "/widget/assets/frame.000000000000.js", expect(set(), hidden_for=EVERYONE)),
    ("GET", "/demo/partner", expect(EVERYONE)),
    ("GET", "/widget/files/{file}/{file_signature}", expect(EVERYONE)),  # the link is the key
    ("GET", "/widget/files/{file}/0123456789abcdef0123456789abcdef", expect(set(), hidden_for=EVERYONE)),
]


def _chat_world(db, role):
    from app.models import ChatChannel
    from app.services import chat, tickets
    from app.services.chat import file_signature
    from app.views import widget_assets
    from app.views.chat import DEMO_CHANNEL_KEY
    from tests.ticket_helpers import png_bytes

    channel = db.session.query(ChatChannel).filter_by(public_key=DEMO_CHANNEL_KEY).one()
    me = db.session.query(NovaUser).filter_by(email=EMAILS[role]).one_or_none() if role != "anonymous" else None

    def conversation(org_name, email):
        organisation = db.session.query(Organisation).filter_by(name=org_name).one()
        visitor = chat.Visitor(identified=True, external_id=email, name="Visiteur", email=email, organisation_id=organisation.id)
        made, _token, _message = chat.start_conversation(channel, visitor, "Export comptable en erreur")
        return made

    own = conversation(OWN[role][0] if role != "anonymous" else OWN["commercial"][0], OWN[role][1])
    other = conversation(*OTHER)
    if role in STAFF:  # their own conversation, so that they may send a file in it
        own.status, own.agent_id = "active", me.id
    import io

    picture = chat.store_file(own, "ecran.png", io.BytesIO(png_bytes()))
    requester = db.session.query(NovaUser).filter_by(email=OTHER[1]).one()
    ticket = tickets.create_ticket(requester, title="Ticket à compléter", body="…")
    db.session.commit()
    return {
        "own_conv": own.id, "other_conv": other.id, "channel": channel.id, "channel_key": channel.public_key,
        "file": picture.id, "file_signature": file_signature(own.id, picture.id), "other_ticket": ticket.number,
        "frame_script": f"frame.{widget_assets._asset('frame.js')[0]}.js",
    }


@pytest.mark.parametrize("role", ROLES)
def test_chat_paths_follow_the_matrix(app, world, role):
    import io

    from tests.ticket_helpers import png_bytes

    ids = _chat_world(world, role)
    client = app.test_client()
    if role != "anonymous":
        login(client, world, EMAILS[role])
    mismatches = []
    for method, template, expectations in CHAT_PAGES:
        path = template.format(**ids)
        if method == "GET":
            got = _outcome(client.get(path))
        else:
            data = {"file": (io.BytesIO(png_bytes()), "capture.png")} if path.endswith("/upload") else {"ticket": ids["other_ticket"]}
            response = client.post(path, data=data, content_type="multipart/form-data")
            got = _outcome(response) if response.status_code != 302 or "/login" in response.headers["Location"] else "denied"
        if got != expectations[role]:
            mismatches.append(f"{method} {template}: expected {expectations[role]}, got {got}")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("role", ROLES)
def test_chat_socket_events_follow_the_matrix(app, world, role):
    """The console's socket: who connects, and each event on a conversation of their scope
    and on one outside it."""
    import contextvars


    ids = _chat_world(world, role)
    http = app.test_client()
    if role != "anonymous":
        login(http, world, EMAILS[role])
    run = lambda fn, *a, **k: contextvars.Context().run(fn, *a, **k)  # noqa: E731  (a fresh context per event, as on the server)
    console = run(app.extensions["socketio"].test_client, app, namespace="/console", flask_test_client=http)
    assert console.is_connected("/console") == (role in WORKERS)
    if role not in WORKERS:
        return

    def outcome(event, conversation, **data):
        answer = run(console.emit, event, dict(data, conversation_id=conversation), namespace="/console", callback=True)
        return "ok" if answer.get("ok") else "refused"

    got = {
        "open own": outcome("open", ids["own_conv"]),
        "open other": outcome("open", ids["other_conv"]),
        "accept other": outcome("accept", ids["other_conv"]),
        "message other": outcome("message", ids["other_conv"], body="Bonjour", client_id="m1"),
        "transfer other": outcome("transfer", ids["other_conv"]),
        "close other": outcome("close", ids["other_conv"]),
    }
    staff = role in STAFF
    assert got == {
        "open own": "ok",
        "open other": "ok" if staff else "refused",  # a commercial's scope is their clients
        "accept other": "ok" if staff else "refused",  # the support answers; commercials follow
        "message other": "ok" if staff else "refused",
        "transfer other": "ok" if staff else "refused",
        "close other": "ok" if role in {"admin", "supervisor"} else "refused",  # waiting again: only a supervisor closes it
    }
# --- the ticket API: the same rules as the ticket desk's actions ----------------------------

TICKET_API = [
    ("GET", "/api/v1/ticket/{own_ticket}", expect(SIGNED_IN)),
    ("GET", "/api/v1/ticket/{other_ticket}", OTHER_ORG),
    ("GET", "/api/v1/ticket_message/{own_message}", expect(SIGNED_IN)),
    ("GET", "/api/v1/ticket_message/{note_message}", expect(WORKERS, hidden_for=PARTNERS)),
    ("GET", "/api/v1/ticket_message/{other_message}", OTHER_ORG),
    ("GET", "/api/v1/attachment/{own_file}", expect(SIGNED_IN)),
    ("GET", "/api/v1/attachment/{own_file}/download", expect(SIGNED_IN)),
    ("GET", "/api/v1/attachment/{other_file}", OTHER_ORG),
    ("GET", "/api/v1/attachment/{other_file}/download", OTHER_ORG),
    ("GET", "/api/v1/attachment/{note_file}", expect(WORKERS, hidden_for=PARTNERS)),
    ("GET", "/api/v1/attachment/{note_file}/download", expect(WORKERS, hidden_for=PARTNERS)),
    ("POST", "/api/v1/ticket/", expect(SIGNED_IN)),
    ("POST", "/api/v1/ticket_message/ reply own", expect(SIGNED_IN)),
    ("POST", "/api/v1/ticket_message/ reply other", OTHER_ORG),
    ("POST", "/api/v1/ticket_message/ note own", expect(WORKERS, hidden_for=PARTNERS)),
    ("PUT", "/api/v1/ticket/{own_ticket} priority", expect(WORKERS, hidden_for=PARTNERS)),
    ("PUT", "/api/v1/ticket/{own_ticket} assign", expect(STAFF, hidden_for=PARTNERS | {"commercial"})),
    ("PUT", "/api/v1/ticket/{other_ticket} status", OTHER_ORG),
    ("PUT", "/api/v1/ticket/{own_ticket} status", expect(SIGNED_IN)),
]


def _api_body(label, ids):
    return {
        "reply own": {"ticket_id": ids["own_ticket"], "body": "Réponse API"},
        "reply other": {"ticket_id": ids["other_ticket"], "body": "Réponse API"},
        "note own": {"ticket_id": ids["own_ticket"], "body": "Note API", "internal": True},
        "priority": {"priority_id": ids["urgent"]},
        "assign": {"assignee_ids": [ids["agent_id"]]},
        "status": {"status_id": ids["closed"]},
    }[label]


@pytest.mark.parametrize("role", ROLES)
def test_ticket_api_follows_the_matrix(app, world, role):
    from tests.ticket_helpers import priority

    ids = _ticket_world(app, world, role)
    messages = {m.body: m.id for m in world.session.query(TicketMessage)}
    own = world.session.query(TicketMessage).filter_by(ticket_id=ids["own_ticket"], internal=False).first()
    other = world.session.query(TicketMessage).filter_by(ticket_id=ids["other_ticket"]).first()
    ids.update(own_message=own.id, note_message=messages["note"], other_message=other.id, urgent=priority("urgent").id)
    headers = {"Authorization": f"Bearer {api_token(app.test_client(), world, EMAILS[role])}"} if role != "anonymous" else {}
    api = app.test_client()
    mismatches = []
    for method, template, expectations in TICKET_API:
        path, _, label = template.partition(" ")
        path = path.format(**ids)
        body = {"title": "Par l'API", "body": "Texte"} if path == "/api/v1/ticket/" else _api_body(label, ids) if label else None
        if path == "/api/v1/ticket/" and role in WORKERS:
            body["organisation_id"] = world.session.query(Organisation).filter_by(name=OWN[role][0]).one().id
        got = _outcome(api.open(path, method=method, json=body, headers=headers), api=True)
        if got != expectations[role]:
            mismatches.append(f"{method} {template}: expected {expectations[role]}, got {got}")
    assert not mismatches, "\n".join(mismatches)
    world.session.expire_all()
    assert world.session.query(TicketMessage).filter_by(body="Note API").count() == (1 if role in WORKERS else 0)
    other_replies = world.session.query(TicketMessage).filter_by(ticket_id=ids["other_ticket"], body="Réponse API").count()
    assert other_replies == (1 if role in STAFF else 0)


def _data_action(client, path, kind, ids):
    import io

    from app.extensions import db

    csv = b"id_organisation;organisation;id_contact;prenom;nom;email\nERP-0999;Intruse;C-999;In;Truse;in@truse.sn\n"
    export = b'{"tickets": [{"reference": "X-1", "title": "Intrus", "organisation_external_id": "ERP-0101", "status": "Ferme", "created_on": "2024-01-01", "messages": [{"body": "x"}]}]}'
    data = {
        "directory_file": {"file": (io.BytesIO(csv), "a.csv")},
        "ticket_file": {"file": (io.BytesIO(export), "a.json")},
        "directory_token": {"token": "x" * 32},
        "ticket_token": {"token": "x" * 32},
        "person": {"email": OTHER[1]},
        "export": {"email": OTHER[1], "format": "json"},
        "erase": {"email": OTHER[1], "confirm_email": OTHER[1]},
        "run_source": {"action": "run_now", "rowid": [ids["sync_source"]]},
    }[kind]
    if kind == "run_source":  # FAB's actions answer with a redirect either way: look at what happened
        runs = lambda: db.session.query(SyncRun).filter(SyncRun.source_id == ids["sync_source"]).count()  # noqa: E731
        before = runs()
        client.post(path, data=data)
        db.session.expire_all()
        return "ok" if runs() > before else "denied"
    response = client.post(path, data=data, content_type="multipart/form-data")
    if response.status_code == 200:
        return "ok"
    if response.status_code == 302:
        return "denied" if "/login" in response.headers["Location"] or response.headers["Location"].rstrip("/").endswith("novadesk.test") else "ok"
    return {403: "denied", 404: "hidden"}.get(response.status_code, f"unexpected {response.status_code}")


@pytest.mark.parametrize("role", ROLES)
def test_data_actions_are_for_admins_only(app, world, role):
    """Imports, exports of personal data and erasure: refused to every role but admin, and a
    refused request changes nothing."""
    ids = _ids(world, role)
    client = app.test_client()
    if role != "anonymous":
        login(client, world, EMAILS[role])
    mismatches = []
    for path, kind in DATA_ACTIONS:
        got = _data_action(client, path, kind, ids)
        wanted = "denied" if role != "admin" else ("hidden" if kind.endswith("_token") else "ok")
        if got != wanted:
            mismatches.append(f"POST {path}: expected {wanted}, got {got}")
    assert not mismatches, "\n".join(mismatches)
    world.session.expire_all()
    victim = world.session.query(NovaUser).filter_by(id=ids["other_user"]).one()
    assert (victim.email == OTHER[1]) == (role != "admin")  # only the admin's erasure went through
    assert world.session.query(Organisation).filter_by(external_id="ERP-0999").count() == 0  # previews write nothing


# --- the permission matrix screen (U1) ----------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_the_role_matrix_is_for_the_administration_right_only(app, world, role):
    """Page, export, preview and save: only a role with the right to manage roles gets them;
    a refused save changes nothing. The old roles list and role page lead to the matrix."""
    from flask import current_app

    ids = _ids(world, role)
    client = app.test_client()
    if role != "anonymous":
        login(client, world, EMAILS[role])
    sm = current_app.appbuilder.sm
    commercial = sm.find_role("Commercial")
    before = {pv.id for pv in commercial.permissions}
    is_admin = role == "admin"
    from urllib.parse import urlparse

    matrix_location = lambda response: response.status_code == 302 and urlparse(response.headers["Location"]).path == "/roles/matrix/"  # noqa: E731
    outcomes = {
        "GET /roles/list/": matrix_location(client.get("/roles/list/")),
        "GET /roles/show/{role}": matrix_location(client.get(f"/roles/show/{ids['role']}")),
        "POST /roles/matrix/preview": client.post("/roles/matrix/preview", data={"shown": [commercial.id], "cell": []}).status_code == 200,
        "POST /roles/matrix/save": matrix_location(client.post("/roles/matrix/save", data={"change": [f"revoke:{commercial.id}:reports.view"]})),
    }
    assert outcomes == {path: is_admin for path in outcomes}
    world.session.expire_all()
    after = {pv.id for pv in sm.find_role("Commercial").permissions}
    assert (after != before) == is_admin  # only the admin's save went through


# --- sessions (U3, U7) -------------------------------------------------------------------

SESSION_ACTIONS = [
    # (method, path, expectations): each person ends their own sessions; only admins end another's.
    ("GET", "/logout/", expect(SIGNED_IN)),  # a confirmation page; anonymous: to the login page
    ("POST", "/account/security/sessions/{own_session}/end", expect(SIGNED_IN)),
    ("POST", "/account/security/sessions/{victim_session}/end", expect(set(), hidden_for=SIGNED_IN)),
    ("POST", "/account/security/sessions/end-others", expect(SIGNED_IN)),
    ("POST", "/users/end-sessions/{other_user}", expect(ADMIN_ONLY)),
    ("POST", "/logout/", expect(SIGNED_IN)),
]


@pytest.mark.parametrize("role", ROLES)
def test_session_paths_follow_the_matrix(app, world, role):
    from app.models import UserSession

    ids = _ids(world, role)
    victim = app.test_client()  # the OTHER organisation's person, signed in elsewhere
    login(victim, world, OTHER[1])
    victim_session = world.session.query(UserSession).filter_by(user_id=ids["other_user"]).one()
    client = app.test_client()
    own_session = 0
    if role != "anonymous":
        login(client, world, EMAILS[role])
        second = app.test_client()
        login(second, world, EMAILS[role])  # a session of their own to end
        own_session = world.session.query(UserSession).filter_by(user_id=world.session.query(NovaUser).filter_by(email=EMAILS[role]).one().id).order_by(UserSession.id.desc()).first().id
    mismatches = []
    for method, template, expectations in SESSION_ACTIONS:
        path = template.format(own_session=own_session, victim_session=victim_session.id, **ids)
        response = client.get(path) if method == "GET" else client.post(path)
        if method == "POST" and response.status_code == 302:
            got = "denied" if role == "anonymous" or response.headers["Location"].endswith("/login/") and path != "/logout/" else "ok"
        else:
            got = _outcome(response)
        if got != expectations[role]:
            mismatches.append(f"{method} {template}: expected {expectations[role]}, got {got} ({response.status_code})")
    assert not mismatches, "\n".join(mismatches)
    world.session.expire_all()
    still_open = world.session.get(UserSession, victim_session.id).ended_on is None
    assert still_open == (role != "admin")  # only the admin's « Terminer toutes les sessions » ended it
    assert (victim.get("/", follow_redirects=False).status_code == 200) == (role != "admin")


def test_api_session_paths_need_a_token(app, world):
    client = app.test_client()
    assert client.post("/api/v1/security/logout").status_code == 401
    assert client.post("/api/v1/security/refresh").status_code == 401
    login(client, world, EMAILS["admin"])  # the session cookie opens nothing on the API
    assert client.post("/api/v1/security/logout").status_code == 401
    assert client.post("/api/v1/security/refresh").status_code == 401


# --- FAB's generated screens of reference data: every route of these views, by view ----------

# Every route FAB generates for these views (list, show, add, edit, delete, actions) is theirs
# alone; a route added to one of them later is covered here without a new line.
GENERATED_SCREENS = {
    **{name: ADMIN_ONLY for name in (
        "BusinessCalendarView", "CannedResponseView", "EscalationRuleView", "HolidayView", "PriorityView", "QueueView",
        "RequestTypeView", "TicketStatusView", "MailboxView", "OutboxView", "InboundMailView", "NovaRoleModelView",
        "ApiKeyView", "AccountRequestModelView", "WebhookSubscriptionView", "WebhookDeliveryView", "ChatChannelView",
        "SyncSourceView", "OrganisationView", "NovaUserDBModelView",
    )},
    "KbCategoryView": STAFF,
}
_SELF_SERVICE = {"NovaUserDBModelView.userinfo", "OrganisationView.list", "OrganisationView.show"}  # in PAGES above
# The roles' list and record lead to the permission matrix (test_the_role_matrix_is_for_the_administration_right_only).
_SELF_SERVICE |= {"NovaRoleModelView.list", "NovaRoleModelView.show"}


def _generated_routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = rule.endpoint.split(".")[0]
        if view in GENERATED_SCREENS and rule.endpoint not in _SELF_SERVICE:
            yield rule, view


def _first_id(app, view_name):
    from app.extensions import db

    view = next(v for v in app.appbuilder.baseviews if type(v).__name__ == view_name)
    model = view.datamodel.obj
    return db.session.query(model.id).order_by(model.id).limit(1).scalar()


@pytest.mark.parametrize("role", ROLES)
def test_generated_screens_follow_the_matrix(app, world, role):
    """Those allowed reach each screen; everyone else is refused every route, GET or POST,
    and nothing is deleted."""
    client = app.test_client()
    if role != "anonymous":
        login(client, world, EMAILS[role])
    mismatches = []
    for rule, view in _generated_routes(app):
        allowed = role in GENERATED_SCREENS[view]
        name = rule.endpoint.split(".")[1]
        pk = _first_id(app, view)
        path = rule.rule.replace("<pk>", str(pk or 1)).replace("<int:pk>", str(pk or 1))
        if "<" in path:
            continue  # a route with other arguments is in a list above
        if name in ("delete", "action_post"):
            if allowed:
                continue  # what these do to data is tested with each screen
            instance = next(v for v in app.appbuilder.baseviews if type(v).__name__ == view)
            action = next(iter(getattr(instance, "actions", {})), "none")
            response = client.post(path, data={"action": action, "rowid": [pk or 1]}, follow_redirects=True)
            text = response.get_data(as_text=True)
            # FAB refuses a list action with a redirect and « Accès refusé »; an action the view
            # does not have is a 400 for everyone.
            refused = "Accès refusé" in text or "/login" in response.request.path or response.status_code in (400, 403, 404)
            got = "denied" if refused else f"done ({response.status_code})"
            if got != "denied":
                mismatches.append(f"POST {path}: expected denied, got {got}")
            continue
        if "GET" not in rule.methods:
            continue
        wanted = ("ok" if pk or "pk>" not in rule.rule else "hidden") if allowed else "denied"
        got = _outcome(client.get(path))
        if got != wanted:
            mismatches.append(f"GET {path}: expected {wanted}, got {got}")
    assert not mismatches, "\n".join(mismatches)


# Routes whose rule is not a role's reach but a step of a flow, each tested where the flow is.
ELSEWHERE = {
    "static": "everyone: files of the application",
    "appbuilder.static": "everyone: files of FAB's screens",
    "socketio_placeholder": "everyone: the Socket.IO transport (tests/test_chat.py)",
    "socketio_placeholder_ws": "everyone: the Socket.IO transport (tests/test_chat.py)",
    "health.check": "everyone: the load balancer's probe (tests/test_platform.py)",
    "UtilView.back": "everyone: FAB's back link, a redirect",
    "LocaleView.index": "everyone: the language switch (tests/test_platform.py)",
    "MenuApi.get_menu_data": "signed in through the API: the menu of one's own screens",
    "NovaAuthView.login": "everyone (tests/test_login.py)",
    "NovaAuthView.verify": "a person between password and code (tests/test_login.py)",
    "NovaAuthView.resend": "a person between password and code (tests/test_login.py)",
    "NovaAuthView.logout": "everyone: ends one's own session (tests/test_login.py)",
    "NovaAuthView.forgot_password": "everyone, same answer for every address (tests/test_login.py)",
    "NovaAuthView.reset_password": "the holder of a reset link (tests/test_login.py)",
    "NovaSecurityApi.login": "everyone, by password and second factor (tests/test_login.py, tests/test_api.py)",
    "NovaSecurityApi.refresh": "the holder of a refresh token (tests/test_api.py)",
    "NovaSecurityApi.logout": "the holder of an API token ends its sign-in (test_api_session_paths_need_a_token above)",
    "RoleMatrixView.preview": "the right to manage roles (test_the_role_matrix_is_for_the_administration_right_only above)",
    "RoleMatrixView.save": "the right to manage roles (test_the_role_matrix_is_for_the_administration_right_only above)",
    "NovaRoleModelView.list": "leads to the permission matrix (test_the_role_matrix_is_for_the_administration_right_only above)",
    "NovaRoleModelView.show": "leads to the permission matrix (test_the_role_matrix_is_for_the_administration_right_only above)",
    "AccountRequestView.request_form": "everyone: asking for an account (tests/test_accounts.py)",
    "AccountRequestView.confirm": "the holder of the confirmation link (tests/test_accounts.py)",
    "AccountSecurityView.totp_start": "signed in, for oneself only (tests/test_login.py)",
    "AccountSecurityView.totp_confirm": "signed in, for oneself only (tests/test_login.py)",
    "AccountSecurityView.totp_disable": "signed in, for oneself only (tests/test_login.py)",
    "AccountSecurityView.recovery_codes": "signed in, for oneself only (tests/test_login.py)",
    "AccountSecurityView.email_factor": "signed in, for oneself only (tests/test_login.py)",
    "NovaUserInfoEditView.this_form_post": "signed in, for oneself only (tests/test_accounts.py)",
    "NovaResetMyPasswordView.this_form_post": "signed in, for oneself only (tests/test_login.py)",
    "NovaResetPasswordView.this_form_post": "admins only: the GET of this form is in PAGES",
    "chat_public.widget_upload": "the holder of a conversation token (tests/test_chat.py)",
    "help.wikis": "signed in: the wikis of one's own scope (tests/test_kb.py)",
}


# --- every route has an expectation ----------------------------------------------------------

def _matrix_paths():
    """(method, path) of every entry above, placeholders filled with a plain id."""
    import string

    class Ones(dict):
        def __missing__(self, key):
            return "1"

    entries = [(m, t) for m, t, _e in PAGES + API + TICKET_PAGES + MAIL_PAGES + KB_ACTIONS + CHAT_PAGES + TICKET_API]
    entries += [(m, t) for m, t, _e in DESK_PAGES]
    entries += [("POST", path) for path, _kind in DATA_ACTIONS]
    entries += [(m, t) for m, t, _e in SESSION_ACTIONS]
    for method, template in entries:
        path = string.Formatter().vformat(template.partition(" ")[0], (), Ones())
        yield method.partition("?")[0], path.partition("?")[0]


def test_every_route_has_an_expectation(app):
    """A route added without its line in this matrix (or in ELSEWHERE) fails here, by name."""
    from werkzeug.exceptions import HTTPException

    adapter = app.url_map.bind("novadesk.test")
    listed = set(ELSEWHERE) | {rule.endpoint for rule, _view in _generated_routes(app)}
    for method, path in _matrix_paths():
        try:
            endpoint, _args = adapter.match(path, method=method)
        except HTTPException:
            continue
        listed.add(endpoint)
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - listed)
    assert not missing, f"{len(missing)} endpoints without an expectation in the matrix:\n" + "\n".join(missing)


# --- the desk: its live socket (/desk) and bulk actions (POST /tickets/bulk) ------------------

DESK_PAGES = [
    # The endpoint itself; what each ticket of a selection allows is the next test's.
    ("POST", "/tickets/bulk", expect(WORKERS)),
]


def _bulk(client, ids, action, value, ticket="own_ticket"):
    response = client.post("/tickets/bulk", json={"ticket_ids": [ids[ticket]], "action": action, "value": value})
    if response.status_code != 200:
        return _outcome(response, api=True)
    answer = response.get_json()
    return "ok" if answer["done"] else "hidden" if "n'existe pas" in answer["refused"][0]["reason"] else "refused"


@pytest.mark.parametrize("role", ROLES)
def test_bulk_actions_follow_the_matrix(app, world, role):
    """Each action on a ticket of the role's scope and on one outside it: the endpoint for those
    who work tickets, each ticket as its own page allows it."""
    ids = _ticket_world(app, world, role)
    client = app.test_client()
    if role != "anonymous":
        login(client, world, EMAILS[role])
    got = {
        "priority own": _bulk(client, ids, "priority", ids["priority"]),
        "priority other": _bulk(client, ids, "priority", ids["priority"], "other_ticket"),
        "take own": _bulk(client, ids, "take", None),
        "queue other": _bulk(client, ids, "queue", ids["queue"] or None, "other_ticket"),
        "status other": _bulk(client, ids, "status", ids["closed"], "other_ticket"),
    }
    staff, worker = role in STAFF, role in WORKERS
    outside = "ok" if staff else "hidden" if worker else "denied"
    assert got == {
        "priority own": "ok" if worker else "denied",
        "priority other": outside,
        "take own": "ok" if staff else "refused" if worker else "denied",  # commercials do not assign
        "queue other": outside,
        "status other": outside,
    }


@pytest.mark.parametrize("role", ROLES)
def test_desk_socket_events_follow_the_matrix(app, world, role):
    """The desk's socket: who connects (never a partner nor a visitor), which ticket changes each
    hears, and `viewing` / `composing` on a ticket of their scope and on one outside it."""
    import contextvars

    from app.security import scopes
    from app.services import clock, events

    ids = _ticket_world(app, world, role)
    http = app.test_client()
    if role != "anonymous":
        login(http, world, EMAILS[role])
    run = lambda fn, *a, **k: contextvars.Context().run(fn, *a, **k)  # noqa: E731
    desk = run(app.extensions["socketio"].test_client, app, namespace="/desk", flask_test_client=http)
    assert desk.is_connected("/desk") == (role in WORKERS)
    if role not in WORKERS:
        return  # refused: no room joined, no ticket change, no presence ever reaches them

    def told(ticket_id):
        ticket = world.session.get(ids["Ticket"], ticket_id)
        payload = {"ticket_id": ticket.id, "number": ticket.number, "organisation_id": ticket.organisation_id, "change": "note", "actor_id": None, "at": clock.now().isoformat()}
        events.publish("ticket.changed", payload, to=scopes.ticket_event_rooms(ticket.organisation_id))
        world.session.commit()

    told(ids["other_ticket"])
    told(ids["own_ticket"])  # the control: heard by every desk that may hear anything
    heard = [e["args"][0]["ticket_id"] for e in desk.get_received("/desk") if e["name"] == "ticket"]

    def outcome(event, ticket, **data):
        answer = run(desk.emit, event, dict(data, ticket_id=ids[ticket]), namespace="/desk", callback=True)
        return "ok" if answer.get("ok") else "refused"

    got = {
        "heard": heard,
        "viewing other": outcome("viewing", "other_ticket"),
        "composing other": outcome("composing", "other_ticket", on=True),
        "viewing own": outcome("viewing", "own_ticket"),
        "composing own": outcome("composing", "own_ticket", on=True),
    }
    staff = role in STAFF
    assert got == {
        "heard": [ids["other_ticket"], ids["own_ticket"]] if staff else [ids["own_ticket"]],
        "viewing other": "ok" if staff else "refused",
        "composing other": "ok" if staff else "refused",
        "viewing own": "ok",
        "composing own": "ok",
    }
    run(desk.disconnect, namespace="/desk")
