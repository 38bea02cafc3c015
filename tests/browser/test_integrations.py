"""In a real browser: Swagger UI loads only from NovaDesk itself and shows the API; an admin
subscribes a webhook on its screen. Pages checked with axe-core and at phone width."""
from playwright.sync_api import expect

from app.extensions import db
from app.models import WebhookSubscription
from tests.browser.conftest import check_accessibility, screenshot
from tests.browser.test_sign_in_and_admin import fits_the_screen, sign_in


def test_swagger_ui_is_served_locally_without_the_online_validator(page, live_server, live_app):
    sign_in(page, live_server, live_app, "admin@novalead.com")
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server}/swagger/v1")
    expect(page.get_by_text("/api/v1/ticket/", exact=True).first).to_be_visible(timeout=15000)
    page.wait_for_load_state("networkidle")
    outside = [url for url in requested if not url.startswith(live_server) and not url.startswith("data:")]
    assert outside == [], outside
    assert not any("validator" in url for url in requested)
    screenshot(page, "swagger")


def test_admin_subscribes_a_webhook(page, live_server, live_app):
    sign_in(page, live_server, live_app, "admin@novalead.com")
    page.goto(f"{live_server}/webhooks/add")
    check_accessibility(page, "webhook form")
    page.get_by_label("Nom").fill("ERP")
    page.get_by_label("Adresse (URL) de réception").fill("https://erp.example/novadesk")
    page.locator("select#events").select_option(["ticket.created", "ticket.closed"], force=True)
    screenshot(page, "webhook-form")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Enregistré.")).to_be_visible()
    page.goto(f"{live_server}/webhooks/list/")
    expect(page.get_by_text("https://erp.example/novadesk").first).to_be_visible()
    check_accessibility(page, "webhook list")
    with live_app.app_context():
        subscription = db.session.query(WebhookSubscription).filter_by(name="ERP").one()
        assert subscription.events == ["ticket.created", "ticket.closed"]
        db.session.remove()
    page.goto(f"{live_server}/webhooks/deliveries/list/")
    check_accessibility(page, "webhook deliveries")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{live_server}/webhooks/list/")
    assert fits_the_screen(page)
    screenshot(page, "webhook-list-phone")
