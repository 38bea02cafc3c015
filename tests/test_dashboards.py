"""Dashboards, reports and exports contain only what each role may see (P1–P3, U1).

One late, rated ticket per client organisation; then every role reads the dashboard data,
the report page and both exports, and the organisations they mention are compared with the
role's scope. A client of another organisation (Baobab) is checked too."""
import csv
import html
import io
import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from app.models import NovaUser, Organisation
from app.services import clock, satisfaction, tickets
from tests.conftest import login
from tests.ticket_helpers import priority, status

EMAILS = {
    "admin": "admin@novalead.com",
    "supervisor": "superviseur@novalead.com",
    "agent": "agent1@novalead.com",
    "commercial": "commercial1@novalead.com",
    "client": "client@credit-solidaire.sn",
    "other_client": "client@baobab-mc.tg",
    "reseller": "revendeur@afrilog.ci",
}
SCOPE = {
    "commercial": {"Crédit Solidaire du Sahel", "Fonds Épargne Plus", "MicroFinance Horizon"},
    "client": {"Crédit Solidaire du Sahel"},
    "other_client": {"Baobab Microcrédit"},
    "reseller": {"Afrique Logiciels Distribution", "Mutuelle Kaya", "COOPEC Lumière"},
}
PARTNERS = {"client", "other_client", "reseller"}


@pytest.fixture
def spread(app, demo):
    """Per client organisation: a late urgent ticket « Retard chez X » and a resolved ticket
    « Résolu chez X » rated 4 with the comment « Avis de X »."""
    supervisor = demo.session.query(NovaUser).filter_by(email=EMAILS["supervisor"]).one()
    agent = demo.session.query(NovaUser).filter_by(email=EMAILS["agent"]).one()
    created = clock.now() - timedelta(days=3)
    with app.test_request_context():
        for organisation in demo.session.query(Organisation).filter(Organisation.kind != "vendor"):
            member = demo.session.query(NovaUser).filter_by(organisation_id=organisation.id).first()
            with clock.frozen(created):
                tickets.create_ticket(supervisor, title=f"Retard chez {organisation.name}", body="b", organisation_id=organisation.id, priority_id=priority("urgent").id)
                done = tickets.create_ticket(supervisor, title=f"Résolu chez {organisation.name}", body="b", organisation_id=organisation.id, requester_id=member.id if member else None)
                tickets.assign(supervisor, done, [agent.id])
                tickets.add_message(agent, done, "Voici la solution")
                tickets.change_status(agent, done, status("resolved").id)
            if member is not None:
                satisfaction.rate_ticket(member, done, 4, f"Avis de {organisation.name}")
        demo.session.commit()
    return {o.name for o in demo.session.query(Organisation).filter(Organisation.kind != "vendor")}


def _mentioned(text, names):
    return {name for name in names if name in text}


def _expected(role, everyone):
    return SCOPE.get(role, everyone)


@pytest.mark.parametrize("role", sorted(EMAILS))
def test_dashboard_data_stays_in_scope(app, spread, role):
    client = app.test_client()
    login(client, app.extensions["sqlalchemy"], EMAILS[role])
    response = client.get("/dashboard/data")
    assert response.status_code == 200
    data = response.json
    text = html.unescape(response.get_data(as_text=True))
    expected = _expected(role, spread)
    late_titles = {row["title"] for row in data["late"]}
    assert late_titles == {f"Retard chez {name}" for name in expected}
    comments = {r["comment"] for r in data["ratings"]}
    assert comments <= {f"Avis de {name}" for name in expected}
    if role in PARTNERS:
        assert comments == {f"Avis de {name}" for name in expected}
    assert sum(item["value"] for item in data["counts"]) == 2 * len(expected)
    assert _mentioned(text, {f"chez {n}" for n in spread}) <= {f"chez {n}" for n in expected}
    if role in PARTNERS:
        assert "agents" not in data and "alerts" not in data and "urgent" not in data
    else:
        assert "Fatou Ndiaye" in {row["label"] for row in data["agents"]}


@pytest.mark.parametrize("role", sorted(EMAILS))
def test_dashboard_page_for_every_role(app, spread, role):
    client = app.test_client()
    login(client, app.extensions["sqlalchemy"], EMAILS[role])
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "Tableau de bord" in page
    initial = json.loads(re.search(r'<script type="application/json" id="dash-initial">(.*?)</script>', page, re.S).group(1))
    assert {row["title"] for row in initial["late"]} == {f"Retard chez {n}" for n in _expected(role, spread)}
    assert _mentioned(json.dumps(initial, ensure_ascii=False), {f"chez {n}" for n in spread}) <= {f"chez {n}" for n in _expected(role, spread)}
    assert ("L'équipe" in page) == (role not in PARTNERS)


@pytest.mark.parametrize("role", sorted(set(EMAILS) - PARTNERS))
def test_reports_and_exports_stay_in_scope(app, spread, role):
    from openpyxl import load_workbook

    client = app.test_client()
    login(client, app.extensions["sqlalchemy"], EMAILS[role])
    expected = _expected(role, spread)
    today = clock.now().date()
    args = f"start={(today - timedelta(days=10)).isoformat()}&end={today.isoformat()}"
    page = html.unescape(client.get(f"/reports/?{args}").get_data(as_text=True))
    assert "Par client" in page
    assert _mentioned(page, spread) == expected

    exported = client.get(f"/reports/export.csv?{args}", buffered=True)
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0][0] == "Numéro"
    assert {row[2] for row in rows[1:]} == expected
    assert len(rows) - 1 == 2 * len(expected)

    per_client = client.get(f"/reports/export.csv?{args}&table=organisation", buffered=True)
    rows = list(csv.reader(io.StringIO(per_client.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert {row[0] for row in rows[1:]} == expected

    workbook = load_workbook(io.BytesIO(client.get(f"/reports/export.xlsx?{args}").data), read_only=True)
    sheet = workbook["Tickets"]
    clients = {row[2] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert clients == expected
    assert "Par agent" in workbook.sheetnames


@pytest.mark.parametrize("role", sorted(PARTNERS) + ["anonymous"])
def test_partners_and_anonymous_get_no_reports(app, spread, role):
    client = app.test_client()
    if role != "anonymous":
        login(client, app.extensions["sqlalchemy"], EMAILS[role])
    for path in ("/reports/", "/reports/export.csv", "/reports/export.xlsx", "/reports/export.csv?table=agent"):
        response = client.get(path, buffered=True)
        assert response.status_code in (302, 403), path
        assert b"Retard chez" not in response.data
    if role == "anonymous":
        assert client.get("/dashboard/data").status_code in (302, 401, 403)


def test_a_commercial_cannot_export_a_staff_only_breakdown_they_do_not_have(app, spread):
    client = app.test_client()
    login(client, app.extensions["sqlalchemy"], EMAILS["commercial"])
    assert client.get("/reports/export.csv?table=nonsense", buffered=True).status_code == 404


def test_bad_dates_fall_back_to_the_last_30_days(app, spread):
    client = app.test_client()
    login(client, app.extensions["sqlalchemy"], EMAILS["supervisor"])
    page = html.unescape(client.get("/reports/?start=2026-13-01&end=x").get_data(as_text=True))
    assert "Dates invalides" in page
    page = html.unescape(client.get("/reports/?start=2026-11-20&end=2026-11-01").get_data(as_text=True))
    assert "La date de fin précède la date de début." in page


def test_csv_cells_cannot_run_as_formulas(app, demo):
    supervisor = demo.session.query(NovaUser).filter_by(email=EMAILS["supervisor"]).one()
    baobab = demo.session.query(Organisation).filter_by(name="Baobab Microcrédit").one()
    with app.test_request_context():
        tickets.create_ticket(supervisor, title="=HYPERLINK(\"http://evil\")", body="b", organisation_id=baobab.id)
        demo.session.commit()
    client = app.test_client()
    login(client, demo, EMAILS["supervisor"])
    text = client.get("/reports/export.csv", buffered=True).get_data(as_text=True)
    assert "'=HYPERLINK" in text


def test_figures_follow_the_frozen_clock(app, spread):
    """Dates in the data are the person's local time; nothing depends on the machine's clock."""
    client = app.test_client()
    login(client, app.extensions["sqlalchemy"], EMAILS["supervisor"])
    with clock.frozen(datetime(2030, 1, 1, tzinfo=timezone.utc)):
        data = client.get("/dashboard/data").json
    assert data["generated_at"].startswith("01/01/2030")
