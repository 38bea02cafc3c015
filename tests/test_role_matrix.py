"""The permission matrix screen (U1): rights in words × roles, a preview before any change,
the change followed at once by menus, screens and API, logged in words, exported for an audit."""
import csv
import html
import io
import re

import pytest

from app.models import ActivityLog
from tests.conftest import api_token, login

ADMIN = "admin@novalead.com"
COMMERCIAL = "commercial1@novalead.com"


def _role(db, name):
    from flask import current_app

    return current_app.appbuilder.sm.find_role(name)


def _pairs(db, name):
    db.session.expire_all()
    return {(pv.view_menu.name, pv.permission.name) for pv in _role(db, name).permissions}


def _grid(page):
    """The ticked boxes of an editable grid, the roles it shows and the form's CSRF token."""
    checked = set()
    for tag in re.findall(r"<input[^>]*name=\"cell\"[^>]*>", page, re.S):
        value = html.unescape(re.search(r'value="([^"]+)"', tag).group(1))
        if " checked" in tag and " disabled" not in tag:
            checked.add(value)
    shown = re.findall(r'name="shown" value="(\d+)"', page)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    return checked, shown, token.group(1) if token else None


def _preview(client, checked, shown, token, role=None):
    query = f"?role={role}" if role else ""
    return client.post(f"/roles/matrix/preview{query}", data={"cell": sorted(checked), "shown": shown, "csrf_token": token})


def _change_tokens(page):
    return {html.unescape(value) for value in re.findall(r'name="change" value="([^"]+)"', page)}


def _change_through_the_screen(app, client, db, role_name, add=(), remove=()):
    """What an admin does: open the matrix, tick and untick, read the preview, confirm (CSRF on)."""
    role_id = _role(db, role_name).id
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = client.get("/roles/matrix/").get_data(as_text=True)
        checked, shown, token = _grid(page)
        assert token, "the matrix form carries a CSRF token"
        checked |= {f"{role_id}:{key}" for key in add}
        checked -= {f"{role_id}:{key}" for key in remove}
        preview = _preview(client, checked, shown, token)
        assert preview.status_code == 200
        text = preview.get_data(as_text=True)
        tokens = _change_tokens(text)
        assert tokens == {f"grant:{role_id}:{k}" for k in add} | {f"revoke:{role_id}:{k}" for k in remove}
        refused = client.post("/roles/matrix/save", data={"change": sorted(tokens)})  # no CSRF token: refused
        assert refused.status_code == 400
        token = re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)
        saved = client.post("/roles/matrix/save", data={"change": sorted(tokens), "csrf_token": token})
        assert saved.status_code == 302 and saved.headers["Location"].endswith("/roles/matrix/")
        return text
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def _commercial_can(app, client, token):
    """What the commercial notices: the menu entries, the screens, the API."""
    home = client.get("/").get_data(as_text=True)
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    return {
        "reports_menu": 'href="/reports/"' in home,
        "tickets_menu": 'href="/tickets/"' in home,
        "reports_page": client.get("/reports/").status_code == 200,
        "reports_export": client.get("/reports/export.csv").status_code == 200,
        "tickets_page": client.get("/tickets/").status_code == 200,
        "tickets_api": api.get("/api/v1/ticket/", headers=headers).status_code == 200,
    }


def test_a_commercial_follows_the_matrix_at_once(app, demo):
    admin = app.test_client()
    login(admin, demo, ADMIN)
    commercial = app.test_client()
    login(commercial, demo, COMMERCIAL)
    token = api_token(app.test_client(), demo, COMMERCIAL)
    assert all(_commercial_can(app, commercial, token).values())

    preview = _change_through_the_screen(app, admin, demo, "Commercial", remove=("reports.view", "reports.export", "tickets.view"))
    assert "Voir les rapports" in preview and "Exporter les rapports" in preview and "Voir les tickets" in preview
    now = _commercial_can(app, commercial, token)
    assert now == {key: False for key in now}, now
    pairs = _pairs(demo, "Commercial")
    assert ("Support Reports", "menu_access") not in pairs and ("Ticket Desk", "menu_access") not in pairs  # derived, never asked
    for status in (commercial.get("/reports/").status_code, commercial.get("/tickets/").status_code):
        assert status in (302, 403)
    assert app.test_client().get("/api/v1/ticket/", headers={"Authorization": f"Bearer {token}"}).status_code in (401, 403)

    _change_through_the_screen(app, admin, demo, "Commercial", add=("reports.view", "reports.export", "tickets.view"))
    assert all(_commercial_can(app, commercial, token).values())
    assert ("Support Reports", "menu_access") in _pairs(demo, "Commercial")


def test_the_activity_log_names_the_change_in_words(app, demo):
    admin = app.test_client()
    login(admin, demo, ADMIN)
    _change_through_the_screen(app, admin, demo, "Commercial", add=("settings.canned",), remove=("reports.export",))
    commercial = _role(demo, "Commercial")
    entry = demo.session.query(ActivityLog).filter_by(action="role.updated", target_id=commercial.id).order_by(ActivityLog.id.desc()).first()
    assert entry is not None and entry.actor.email == ADMIN
    assert entry.details["rights"] == {"added": ["Gérer les réponses prédéfinies"], "removed": ["Exporter les rapports"]}
    assert "can export on Reports" in entry.details["permissions"]["removed"]  # FAB's names stay underneath
    shown = html.unescape(admin.get(f"/activity/show/{entry.id}").get_data(as_text=True))
    assert "Gérer les réponses prédéfinies" in shown and "Exporter les rapports" in shown


def test_the_preview_shows_exactly_the_changes_and_applies_nothing(app, demo):
    admin = app.test_client()
    login(admin, demo, ADMIN)
    agent, client_role = _role(demo, "Agent"), _role(demo, "Client")
    before = {"Agent": _pairs(demo, "Agent"), "Client": _pairs(demo, "Client")}
    logged = demo.session.query(ActivityLog).count()
    checked, shown, _token = _grid(admin.get("/roles/matrix/").get_data(as_text=True))
    checked.add(f"{agent.id}:settings.queues")
    checked.discard(f"{client_role.id}:tickets.rate")
    page = _preview(admin, checked, shown, None).get_data(as_text=True)
    assert _change_tokens(page) == {f"grant:{agent.id}:settings.queues", f"revoke:{client_role.id}:tickets.rate"}
    added = re.findall(r'<ul class="nd-matrix-added">(.*?)</ul>', page, re.S)
    removed = re.findall(r'<ul class="nd-matrix-removed">(.*?)</ul>', page, re.S)
    assert [re.findall(r"<li>(.*?)</li>", block) for block in added] == [["Configurer les files et niveaux de support"]]
    assert [html.unescape(item) for block in removed for item in re.findall(r"<li>(.*?)</li>", block)] == ["Évaluer le support reçu"]
    assert "Agent de support" in page and "Utilisateur client" in page
    assert {"Agent": _pairs(demo, "Agent"), "Client": _pairs(demo, "Client")} == before
    assert demo.session.query(ActivityLog).count() == logged


def test_nothing_to_change_and_forged_changes_are_refused(app, demo):
    admin = app.test_client()
    login(admin, demo, ADMIN)
    checked, shown, _token = _grid(admin.get("/roles/matrix/").get_data(as_text=True))
    unchanged = _preview(admin, checked, shown, None)
    assert unchanged.status_code == 302
    assert "Aucun changement" in admin.get("/roles/matrix/").get_data(as_text=True)
    admin_role, commercial = _role(demo, "Admin"), _role(demo, "Commercial")
    before = (_pairs(demo, "Admin"), _pairs(demo, "Commercial"))
    for forged in (f"revoke:{admin_role.id}:admin.roles", f"grant:{commercial.id}:no.such.right", "grant:999999:tickets.view", "drop table"):
        response = admin.post("/roles/matrix/save", data={"change": [f"grant:{commercial.id}:settings.queues", forged]})
        assert response.status_code == 302
        page = html.unescape(admin.get("/roles/matrix/").get_data(as_text=True))
        assert "Administrateur a toujours tous les droits" in page or "ne correspondent plus" in page
    assert (_pairs(demo, "Admin"), _pairs(demo, "Commercial")) == before  # all or nothing


def test_one_role_at_a_time(app, demo):
    admin = app.test_client()
    login(admin, demo, ADMIN)
    commercial = _role(demo, "Commercial")
    page = admin.get(f"/roles/matrix/?role={commercial.id}").get_data(as_text=True)
    checked, shown, _token = _grid(page)
    assert shown == [str(commercial.id)]
    assert {value.split(":")[0] for value in checked} == {str(commercial.id)}
    checked.discard(f"{commercial.id}:reports.export")
    preview = _preview(admin, checked, shown, None, role=commercial.id).get_data(as_text=True)
    assert _change_tokens(preview) == {f"revoke:{commercial.id}:reports.export"}  # the roles not shown are left alone
    # The old ways in lead to the matrix.
    assert admin.get("/roles/list/").headers["Location"].endswith("/roles/matrix/")
    assert admin.get(f"/roles/show/{commercial.id}").headers["Location"].endswith(f"/roles/matrix/?role={commercial.id}")
    home = admin.get("/").get_data(as_text=True)
    assert 'href="/roles/matrix/"' in home and 'href="/roles/list/"' not in home


def test_csv_export_for_an_audit(app, demo):
    from app.security.rights import RIGHTS

    admin = app.test_client()
    login(admin, demo, ADMIN)
    response = admin.get("/roles/matrix/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    header = rows[0]
    assert header[:3] == ["Domaine", "Droit", "Permissions techniques"]
    assert header[3:] == ["Administrateur (Admin)", "Superviseur (Supervisor)", "Agent de support (Agent)", "Commercial", "Utilisateur client (Client)", "Revendeur (Reseller)"]
    by_right = {row[1]: row for row in rows[1:]}
    assert len(by_right) == len(rows) - 1
    assert {str(right.label) for right in RIGHTS} <= set(by_right)
    reports = by_right["Voir les rapports"]
    assert reports[0] == "Rapports" and reports[2] == "can_show on Reports"
    assert reports[3:] == ["oui", "oui", "oui", "oui", "non", "non"]
    assert "can_list on Tickets" in by_right["Voir les tickets"][2]
    assert all("menu_access" not in row[2] for row in rows[1:])  # menus follow the rights
    assert by_right["can_get on MenuApi"][0] == "Autres"


def test_unlabelled_permissions_are_shown_under_others(app, demo):
    from flask import current_app

    sm = current_app.appbuilder.sm
    pv = sm.add_permission_view_menu("can_frobnicate", "Frobnicator")
    demo.session.commit()
    try:
        admin = app.test_client()
        login(admin, demo, ADMIN)
        page = admin.get("/roles/matrix/").get_data(as_text=True)
        others = page.split("nd-matrix-group-others", 1)
        assert len(others) == 2, "an « Autres » group"
        assert ">Autres<" in others[1]
        assert "can_frobnicate on Frobnicator" in others[1] and "can_get on MenuApi" in others[1]
        # …and it can be granted like any other right.
        agent = _role(demo, "Agent")
        checked, shown, _token = _grid(page)
        checked.add(f"{agent.id}:pv:{pv.id}")
        preview = _preview(admin, checked, shown, None).get_data(as_text=True)
        assert _change_tokens(preview) == {f"grant:{agent.id}:pv:{pv.id}"}
    finally:
        demo.session.rollback()
        sm.del_permission_view_menu("can_frobnicate", "Frobnicator")
        demo.session.commit()


def test_a_role_given_the_administration_right_may_open_the_matrix(app, demo):
    """The right, not the role's name, opens the screen; nobody can take it from themselves."""
    from flask import current_app

    from app.services import ServiceError, role_matrix

    supervisor_client = app.test_client()
    login(supervisor_client, demo, "superviseur@novalead.com")
    assert supervisor_client.get("/roles/matrix/").status_code in (302, 403)
    admin = app.test_client()
    login(admin, demo, ADMIN)
    _change_through_the_screen(app, admin, demo, "Supervisor", add=("admin.roles",))
    assert supervisor_client.get("/roles/matrix/").status_code == 200
    assert 'href="/roles/matrix/"' in supervisor_client.get("/").get_data(as_text=True)
    from app.models import NovaUser

    supervisor = demo.session.query(NovaUser).filter_by(email="superviseur@novalead.com").one()
    matrix = role_matrix.load_matrix()
    changes = role_matrix.parse_changes(matrix, [f"revoke:{_role(demo, 'Supervisor').id}:admin.roles"])
    with pytest.raises(ServiceError):
        role_matrix.apply_changes(supervisor, changes)
    demo.session.rollback()
    assert current_app.appbuilder.sm.find_role("Supervisor") is not None


def test_the_matrix_reads_in_english_too(app, demo):
    admin = app.test_client()
    login(admin, demo, ADMIN)
    admin.get("/lang/en")
    page = html.unescape(admin.get("/roles/matrix/").get_data(as_text=True))
    for words in ("Roles and rights", "See reports", "Export reports", "Review the changes before saving", "Others", 'aria-label="See reports — Sales representative"'):
        assert words in page, words
    assert "Voir les rapports" not in page and "Rôles et droits" not in page
    rows = list(csv.reader(io.StringIO(admin.get("/roles/matrix/export.csv").get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["Area", "Right", "Technical permissions"]
    assert next(row for row in rows if row[1] == "See reports")[3:] == ["yes", "yes", "yes", "yes", "no", "no"]
    assert "Sales representative (Commercial)" in rows[0]


def test_a_right_held_in_part_is_shown_so_and_left_alone(app, demo):
    """A role holding some of a right's permissions (set before the matrix existed) reads
    « en partie »; saving the grid untouched does not change it."""
    commercial = _role(demo, "Commercial")
    commercial.permissions = [pv for pv in commercial.permissions if (pv.view_menu.name, pv.permission.name) != ("Tickets", "can_show")]
    demo.session.commit()
    admin = app.test_client()
    login(admin, demo, ADMIN)
    page = admin.get(f"/roles/matrix/?role={commercial.id}").get_data(as_text=True)
    row = re.search(r'<tr data-right="tickets.view">(.*?)</tr>', page, re.S).group(1)
    assert "en partie" in row and " checked" not in row
    checked, shown, _token = _grid(page)
    assert admin.post(f"/roles/matrix/preview?role={commercial.id}", data={"cell": sorted(checked), "shown": shown}).status_code == 302
    rows = list(csv.reader(io.StringIO(admin.get("/roles/matrix/export.csv").get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert next(r for r in rows if r[1] == "Voir les tickets")[6] == "en partie"
