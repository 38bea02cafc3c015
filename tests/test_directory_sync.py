"""Client directory sync (U6): the API, uploaded CSV/XLSX files with a dry run, the worker's
scheduled sources (a file drop and an HTTP endpoint), and the sync log."""
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from app.models import ActivityLog, NovaUser, Organisation, SyncRun, SyncSource
from tests.conftest import api_token, login

HEADER = "id_organisation;organisation;type;revendeur_id;responsable_compte;domaines;id_contact;prenom;nom;email;telephone\n"
GOOD = (
    HEADER
    + "ERP-0300;Caisse Rurale de Kolda;client;ERP-0200;commercial2@novalead.com;crkolda.sn;C-1;Amadou;Sèye;amadou@crkolda.sn;+221 77 000 11 22\n"
    + "ERP-0300;Caisse Rurale de Kolda;client;ERP-0200;commercial2@novalead.com;crkolda.sn;C-2;Binta;Diop;binta@crkolda.sn;\n"
    + "ERP-0101;Crédit Solidaire du Sahel;client;;;;C-3;Ibrahima;Fall;client@credit-solidaire.sn;+221 70 123 45 67\n"
)
BAD = (
    HEADER
    + "ERP-0300;Caisse Rurale de Kolda;client;;;;C-1;Amadou;Sèye;amadou@crkolda.sn;\n"
    + ";;;;;;C-4;Sans;Organisation;sans@crkolda.sn;\n"  # no organisation
    + "ERP-0300;Caisse Rurale de Kolda;client;;;;C-1;Amadou;Double;double@crkolda.sn;\n"  # duplicate contact id
    + "ERP-0301;IMF Inconnue;client;ERP-9999;;;C-5;Awa;Ba;awa@imf.sn;\n"  # unknown reseller
    + "ERP-0302;IMF Sans Commercial;client;;personne@novalead.com;;C-6;Ali;Sy;ali@imf2.sn;\n"  # unknown account manager
    + "ERP-0300;Caisse Rurale de Kolda;client;;;;C-7;Sans;Adresse;pas-une-adresse;\n"  # bad e-mail
    + "ERP-0300;Caisse Rurale de Kolda;client;;;;C-8;Awa;Diallo;admin@novalead.com;\n"  # a vendor account
)


def _counts(db):
    return db.session.query(Organisation).count(), db.session.query(NovaUser).count()


def _upload(client, content, name="annuaire.csv", full=False):
    data = {"file": (io.BytesIO(content), name)}
    if full:
        data["full"] = "y"
    return client.post("/directory-import/preview", data=data, content_type="multipart/form-data")


def _token_from(page):
    import re

    return re.search(r'name="token" value="([^"]+)"', page).group(1)


def test_upload_previews_then_applies_and_a_second_run_changes_nothing(app, demo):
    client = app.test_client()
    login(client, demo, "admin@novalead.com")
    before = _counts(demo)
    page = _upload(client, GOOD.encode("cp1252"), "annuaire.csv").get_data(as_text=True)
    assert _counts(demo) == before  # the dry run wrote nothing
    assert "Caisse Rurale de Kolda" in page and "Amadou Sèye" in page  # Windows-1252 read right
    assert "Création" in page and "Mise à jour" in page
    response = client.post("/directory-import/confirm", data={"token": _token_from(page)})
    assert response.status_code == 302
    demo.session.expire_all()
    kolda = demo.session.query(Organisation).filter_by(external_id="ERP-0300").one()
    assert kolda.reseller.external_id == "ERP-0200" and kolda.account_manager.email == "commercial2@novalead.com"
    amadou = demo.session.query(NovaUser).filter_by(external_id="C-1").one()
    assert amadou.organisation == kolda and amadou.role_names == {"Client"} and amadou.phone == "+221 77 000 11 22"
    ibrahima = demo.session.query(NovaUser).filter_by(email="client@credit-solidaire.sn").one()
    assert ibrahima.external_id == "C-3"  # the account made before the sync is adopted
    run = demo.session.query(SyncRun).one()
    assert (run.created, run.updated, run.errors) == (3, 1, 0)  # Kolda and two contacts; Ibrahima
    # The same file again, with a BOM and commas this time: nothing changes.
    again = ("\ufeff" + GOOD.replace(";", ",")).encode("utf-8")
    page = _upload(client, again).get_data(as_text=True)
    client.post("/directory-import/confirm", data={"token": _token_from(page)})
    demo.session.expire_all()
    second = demo.session.query(SyncRun).order_by(SyncRun.id.desc()).first()
    assert (second.created, second.updated, second.unchanged, second.errors) == (0, 0, 5, 0)  # two organisations, three contacts


def test_bad_rows_are_reported_one_by_one_and_never_half_written(app, demo):
    client = app.test_client()
    login(client, demo, "admin@novalead.com")
    page = _upload(client, BAD.encode("utf-8")).get_data(as_text=True)
    for message in ("Organisation du contact manquante", "en double", "Revendeur inconnu", "Responsable de compte inconnu", "invalide", "éditeur", "Organisation ERP-0301 en erreur"):
        assert message in page, message
    client.post("/directory-import/confirm", data={"token": _token_from(page)})
    demo.session.expire_all()
    # Only the valid rows were written, each whole: the organisation and its one good contact.
    assert demo.session.query(Organisation).filter(Organisation.external_id.in_(["ERP-0301", "ERP-0302"])).count() == 0
    assert [u.email for u in demo.session.query(NovaUser).filter(NovaUser.email.like("%crkolda.sn"))] == ["amadou@crkolda.sn"]
    admin = demo.session.query(NovaUser).filter_by(email="admin@novalead.com").one()
    assert admin.external_id is None and admin.last_name == "Diallo"
    run = demo.session.query(SyncRun).one()
    assert run.errors == 8 and len(run.error_details) == 8  # two organisations and six contacts


def test_xlsx_files_are_read_too(app, demo):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for line in GOOD.strip().split("\n"):
        sheet.append(line.split(";"))
    buffer = io.BytesIO()
    workbook.save(buffer)
    client = app.test_client()
    login(client, demo, "admin@novalead.com")
    page = _upload(client, buffer.getvalue(), "annuaire.xlsx").get_data(as_text=True)
    assert "Binta Diop" in page
    client.post("/directory-import/confirm", data={"token": _token_from(page)})
    demo.session.expire_all()
    assert demo.session.query(NovaUser).filter_by(external_id="C-2").one().email == "binta@crkolda.sn"


def _payload(contacts, full=False):
    return {
        "full": full,
        "organisations": [{"external_id": "ERP-0300", "name": "Caisse Rurale de Kolda", "kind": "client"}],
        "contacts": [
            {"external_id": f"C-{n}", "organisation_external_id": "ERP-0300", "first_name": "Contact", "last_name": str(n), "email": f"c{n}@crkolda.sn"}
            for n in contacts
        ],
    }


def test_api_upserts_and_a_full_sync_deactivates_who_left(app, demo):
    token = api_token(app.test_client(), demo, "admin@novalead.com")
    headers = {"Authorization": f"Bearer {token}"}
    api = app.test_client()
    dry = api.post("/api/v1/directory/sync?dry_run=1", json=_payload([1, 2, 3]), headers=headers)
    assert dry.status_code == 200 and dry.json["created"] == 4 and dry.json["run_id"] is None
    assert demo.session.query(NovaUser).filter(NovaUser.external_id.isnot(None)).count() == 0
    first = api.post("/api/v1/directory/sync", json=_payload([1, 2, 3]), headers=headers)
    assert first.json["created"] == 4
    again = api.post("/api/v1/directory/sync", json=_payload([1, 2, 3]), headers=headers)
    assert (again.json["created"], again.json["updated"], again.json["unchanged"]) == (0, 0, 4)
    partial = api.post("/api/v1/directory/sync", json=_payload([1, 2]), headers=headers)
    assert partial.json["deactivated"] == 0  # not a full sync: nobody is deactivated
    full = api.post("/api/v1/directory/sync", json=_payload([1, 2], full=True), headers=headers)
    assert full.json["deactivated"] == 1
    demo.session.expire_all()
    gone = demo.session.query(NovaUser).filter_by(external_id="C-3").one()
    assert gone.active is False  # kept, never deleted
    assert demo.session.query(NovaUser).filter_by(email="client@credit-solidaire.sn").one().active  # not synced: untouched
    bad = api.post("/api/v1/directory/sync", data="not json", headers={**headers, "Content-Type": "application/json"})
    assert bad.status_code == 400
    spec = api.get("/api/v1/_openapi", headers=headers)
    assert spec.status_code == 200 and "/api/v1/directory/sync" in spec.json["paths"]  # integrators find it


@pytest.mark.parametrize("email", ["agent1@novalead.com", "client@credit-solidaire.sn", "commercial1@novalead.com"])
def test_api_refuses_everyone_but_admins(app, demo, email):
    token = api_token(app.test_client(), demo, email)
    response = app.test_client().post("/api/v1/directory/sync", json=_payload([1]), headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (401, 403)
    assert demo.session.query(Organisation).filter_by(external_id="ERP-0300").count() == 0


# --- scheduled sources ------------------------------------------------------------------------


def test_worker_reads_a_file_drop_once_and_again_when_it_changes(app, demo, tmp_path, monkeypatch):
    from app.services import directory_sources

    drop = tmp_path / "annuaire.csv"
    drop.write_bytes(GOOD.encode("utf-8"))
    monkeypatch.setitem(app.config, "DIRECTORY_DROP_FOLDER", str(tmp_path))
    source = SyncSource(name="FileMaker", kind="file", location="annuaire.csv", interval_minutes=0, full=True)
    outside = SyncSource(name="Hors dépôt", kind="file", location="/etc/passwd", interval_minutes=0)
    demo.session.add_all([source, outside])
    demo.session.commit()
    assert directory_sources.run_due_sources() == 2
    refused = demo.session.query(SyncRun).filter(SyncRun.failure.isnot(None)).one()
    assert "dossier de dépôt" in refused.failure  # nothing outside the drop folder is read
    outside.active = False
    demo.session.commit()
    demo.session.commit()
    assert demo.session.query(NovaUser).filter_by(external_id="C-2").one().active
    assert directory_sources.run_due_sources() == 0  # the same file is not read twice
    drop.write_bytes((HEADER + GOOD.split("\n", 1)[1].split("\n", 1)[0] + "\n").encode("utf-8"))  # C-1 only
    import os

    os.utime(drop, (drop.stat().st_atime, drop.stat().st_mtime + 5))
    assert directory_sources.run_due_sources() == 1
    demo.session.commit()
    demo.session.expire_all()
    assert demo.session.query(NovaUser).filter_by(external_id="C-2").one().active is False
    runs = demo.session.query(SyncRun).order_by(SyncRun.id).all()
    assert [(r.source.name, r.deactivated) for r in runs] == [("FileMaker", 0), ("Hors dépôt", 0), ("FileMaker", 2)]  # C-2 and C-3


class _Directory(BaseHTTPRequestHandler):
    payload = {}

    def do_GET(self):
        body = json.dumps(self.payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_worker_reads_an_http_endpoint_and_logs_failures(app, demo):
    from app.services import directory_sources

    server = HTTPServer(("127.0.0.1", 0), _Directory)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _Directory.payload = _payload([1, 2], full=True)
        url = f"http://127.0.0.1:{server.server_port}/annuaire.json"
        demo.session.add(SyncSource(name="Quadratus", kind="http", location=url, interval_minutes=60))
        demo.session.add(SyncSource(name="En panne", kind="http", location="http://127.0.0.1:1/rien", interval_minutes=60))
        demo.session.commit()
        assert directory_sources.run_due_sources() == 2
        demo.session.commit()
        assert directory_sources.run_due_sources() == 0  # not due again before its interval
        _Directory.payload = _payload([1], full=True)
        source = demo.session.query(SyncSource).filter_by(name="Quadratus").one()
        directory_sources.run_source(source)
        demo.session.commit()
    finally:
        server.shutdown()
    demo.session.expire_all()
    assert demo.session.query(NovaUser).filter_by(external_id="C-2").one().active is False
    failed = demo.session.query(SyncRun).filter(SyncRun.failure.isnot(None)).one()
    assert failed.source_label.startswith("En panne")
    client = app.test_client()
    login(client, demo, "admin@novalead.com")
    log = client.get("/sync-log/list/").get_data(as_text=True)
    assert "Quadratus" in log and "En panne" in log
    assert demo.session.query(ActivityLog).filter_by(action="directory.synced").count() == 2


def test_the_erp_syncs_with_an_api_key_an_admin_issued(app, demo):
    from app.services import api_keys

    admin = demo.session.query(NovaUser).filter_by(email="admin@novalead.com").one()
    with app.test_request_context():
        _, created = api_keys.issue_api_key(admin, "admin@novalead.com", "ERP")
        _, agent_key = api_keys.issue_api_key(admin, "agent1@novalead.com", "Script")
    demo.session.commit()
    response = app.test_client().post("/api/v1/directory/sync", json=_payload([1]), headers={"Authorization": f"Bearer {created['key']}"})
    assert response.status_code == 200 and response.json["created"] == 2
    run = demo.session.query(SyncRun).one()
    assert run.actor.email == "admin@novalead.com" and run.origin == "api"
    refused = app.test_client().post("/api/v1/directory/sync", json=_payload([2]), headers={"Authorization": f"Bearer {agent_key['key']}"})
    assert refused.status_code in (401, 403)
