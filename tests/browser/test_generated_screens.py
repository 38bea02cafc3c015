"""In a real browser: the generated admin screens, a sample of each menu group, pass axe-core
(nothing serious or critical), in French and English; an admin deactivates a status with the
keyboard and runs a list action, and lands back where they were (issue 15). The exhaustive
walk through every screen is tests/test_generated_screens.py."""
import re

from playwright.sync_api import expect

from app.extensions import db
from app.models import ActivityLog, CannedResponse, ChatChannel, KbCategory, Organisation, OutboxMail, TicketStatus
from tests.browser.conftest import check_accessibility, screenshot
from tests.browser.test_sign_in_and_admin import sign_in


def _first_id(app, model, **filters):
    with app.app_context():
        row = db.session.query(model).filter_by(**filters).order_by(model.id).first()
        db.session.remove()
        return row.id


def test_a_sample_of_each_menu_group_passes_axe(page, live_server, live_app):
    base = live_server
    sign_in(page, base, live_app, "admin@novalead.com")
    samples = {
        "config/canned-responses": _first_id(live_app, CannedResponse),
        "config/statuses": _first_id(live_app, TicketStatus),
        "organisations": _first_id(live_app, Organisation, name="Crédit Solidaire du Sahel"),
        "kb/categories": _first_id(live_app, KbCategory),
        "chat/channels": _first_id(live_app, ChatChannel),
        "activity": _first_id(live_app, ActivityLog),
        "mail/outbox": _first_id(live_app, OutboxMail),
    }
    for screen, pk in samples.items():
        for path in (f"/{screen}/list/", f"/{screen}/show/{pk}", f"/{screen}/edit/{pk}"):
            if path.startswith(("/activity/edit", "/mail/outbox/edit")):
                continue  # read-only screens: no edit form
            response = page.goto(f"{base}{path}")
            assert response.status == 200, path
            expect(page.locator("h1")).to_have_count(1)
            check_accessibility(page, path)
    page.goto(f"{base}/swagger/v1")
    page.wait_for_selector("#swagger-ui .opblock")  # checked once Swagger UI has drawn the operations
    check_accessibility(page, "swagger")
    page.goto(f"{base}/lang/en")
    for path in ("/config/canned-responses/list/", f"/organisations/show/{samples['organisations']}", "/activity/list/"):
        page.goto(f"{base}{path}")
        check_accessibility(page, f"{path} in English")
    expect(page.get_by_role("heading", level=1)).to_have_text("Activity log")
    screenshot(page, "activity-log-english")


def test_admin_deactivates_a_status_by_keyboard_and_returns_to_the_list(page, live_server, live_app):
    base = live_server
    sign_in(page, base, live_app, "admin@novalead.com")
    status_id = _first_id(live_app, TicketStatus, name="En attente du client")
    page.goto(f"{base}/config/statuses/list/")
    # The menu's drop-downs show where the keyboard is.
    toggle = page.locator(".navbar .dropdown-toggle").first
    toggle.focus()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    assert page.evaluate("parseFloat(getComputedStyle(document.activeElement).outlineWidth)") >= 2
    page.goto(f"{base}/config/statuses/show/{status_id}")
    page.goto(f"{base}/config/statuses/edit/{status_id}")
    box = page.get_by_label("Actif")
    expect(box).to_be_checked()
    box.focus()
    page.keyboard.press("Space")
    expect(box).not_to_be_checked()
    page.get_by_role("button", name="Enregistrer").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/config/statuses/show/{status_id}")
    expect(page.get_by_text("Modifications enregistrées.")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Actif\\s+Non"))).to_be_visible()
    screenshot(page, "status-deactivated")
    with live_app.app_context():
        assert db.session.get(TicketStatus, status_id).active is False
        db.session.remove()


def test_a_list_action_brings_the_admin_back_to_the_list(page, live_server, live_app):
    base = live_server
    sign_in(page, base, live_app, "admin@novalead.com")
    page.goto(f"{base}/organisations/list/?_flt_0_name=Baobab")
    page.get_by_label(re.compile("Sélectionner Baobab")).check()
    page.get_by_role("button", name="Actions").click()
    page.get_by_role("link", name="Désactiver").click()
    dialog = page.locator("#modal-confirm")
    expect(dialog.get_by_role("button", name="Annuler")).to_be_visible()
    check_accessibility(page, "confirmation dialog")
    dialog.get_by_role("link", name="Confirmer").click()
    page.wait_for_url(re.compile(r"/organisations/list/\?_flt_0_name=Baobab$"))
    expect(page.get_by_text("Organisations désactivées.")).to_be_visible()
    # No row chosen: the warning is in French too.
    page.get_by_role("button", name="Actions").click()
    page.get_by_role("link", name="Désactiver").click()
    expect(page.locator("#modal-alert").get_by_text("Sélectionnez au moins une ligne.")).to_be_visible()
    screenshot(page, "list-action-no-row")


def test_favicon_is_served(page, live_server):
    response = page.goto(f"{live_server}/favicon.ico")
    assert response.status == 200 and response.headers["content-type"].startswith("image/")
