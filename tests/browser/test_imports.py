"""In a real browser: an admin uploads the ERP's directory export, reads the dry run (what
each line will do, and each line's error) before anything is written, then confirms. The
preview is checked with axe-core and at phone width."""
from playwright.sync_api import expect

from app.extensions import db
from app.models import NovaUser, Organisation
from tests.browser.conftest import check_accessibility, screenshot
from tests.browser.test_sign_in_and_admin import fits_the_screen, sign_in

EXPORT = (
    "id_organisation;organisation;type;revendeur_id;responsable_compte;id_contact;prenom;nom;email;telephone\n"
    "ERP-0300;Caisse Rurale de Kolda;client;ERP-0200;commercial2@novalead.com;C-1;Amadou;Sèye;amadou@crkolda.sn;+221 77 000 11 22\n"
    "ERP-0300;Caisse Rurale de Kolda;client;ERP-0200;commercial2@novalead.com;C-2;Binta;Diop;pas-une-adresse;\n"
    "ERP-0301;IMF Inconnue;client;ERP-9999;;C-3;Awa;Ba;awa@imf.sn;\n"
).encode("cp1252")


def test_directory_import_preview_then_confirm(page, live_server, live_app, tmp_path):
    base = live_server
    export = tmp_path / "annuaire.csv"
    export.write_bytes(EXPORT)
    sign_in(page, base, live_app, "admin@novalead.com")
    page.goto(f"{base}/directory-import/")
    expect(page.get_by_role("heading", name="Importer l'annuaire des clients")).to_be_visible()
    check_accessibility(page, "directory import form")
    page.get_by_label("Fichier CSV ou XLSX").set_input_files(str(export))
    page.get_by_role("button", name="Voir l'aperçu").click()
    expect(page.get_by_role("heading", name="Aperçu de l'import")).to_be_visible()
    table = page.get_by_role("table", name="Ce que fera chaque ligne")
    expect(table).to_contain_text("Amadou Sèye")
    expect(table).to_contain_text("Adresse e-mail manquante ou invalide")
    expect(table).to_contain_text("Revendeur inconnu : ERP-9999")
    check_accessibility(page, "directory import preview")
    screenshot(page, "directory-import-preview")
    with live_app.app_context():
        assert db.session.query(Organisation).filter_by(external_id="ERP-0300").count() == 0  # nothing written yet
        db.session.remove()
    page.set_viewport_size({"width": 390, "height": 844})
    assert fits_the_screen(page)
    screenshot(page, "directory-import-preview-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Confirmer l'import").click()
    expect(page.locator(".alert")).to_contain_text("Import terminé")
    check_accessibility(page, "sync run")
    with live_app.app_context():
        assert db.session.query(NovaUser).filter_by(external_id="C-1").one().last_name == "Sèye"
        assert db.session.query(NovaUser).filter_by(external_id="C-2").count() == 0
        db.session.remove()


def test_personal_data_screen_exports_then_erases_after_confirmation(page, live_server, live_app):
    base = live_server
    sign_in(page, base, live_app, "admin@novalead.com")
    page.goto(f"{base}/personal-data/")
    check_accessibility(page, "personal data search")
    page.get_by_label("Adresse e-mail de la personne").fill("comptable@credit-solidaire.sn")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("heading", name="Khady Sarr")).to_be_visible()
    check_accessibility(page, "personal data summary")
    with page.expect_download() as download:
        page.get_by_role("button", name="Exporter (JSON)").click()
    assert download.value.suggested_filename.endswith(".json")
    page.get_by_label("Pour confirmer, saisissez à nouveau son adresse e-mail").fill("comptable@credit-solidaire.sn")
    screenshot(page, "personal-data-erase")
    page.get_by_role("button", name="Effacer définitivement").click()
    expect(page.locator(".alert")).to_contain_text("anonymisées")
    with live_app.app_context():
        assert db.session.query(NovaUser).filter_by(email="comptable@credit-solidaire.sn").count() == 0
        db.session.remove()
