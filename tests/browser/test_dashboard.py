"""In a real browser (P3, T13): a supervisor opens the dashboard; an urgent ticket is about to
be late; the clock moves past its deadline, the worker's SLA watch runs, and the alert and
the late ticket appear on the open page without a reload. The dashboard and the report page
pass axe-core and fit a phone screen."""
from datetime import datetime, timezone

from playwright.sync_api import expect

from tests.browser.conftest import check_accessibility, screenshot
from tests.browser.test_sign_in_and_admin import fits_the_screen, sign_in

BEFORE = datetime(2026, 11, 30, 8, 10, tzinfo=timezone.utc)  # Monday 09:10 in Paris
AFTER = datetime(2026, 11, 30, 9, 5, tzinfo=timezone.utc)  # first answer was due at 10:00 Paris


def _urgent_ticket(app):
    from app.extensions import db
    from app.models import NovaUser, Organisation, Priority
    from app.services import clock, tickets

    with app.test_request_context(), clock.frozen(datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)):
        supervisor = db.session.query(NovaUser).filter_by(email="superviseur@novalead.com").one()
        ticket = tickets.create_ticket(
            supervisor, title="Clôture journalière bloquée", body="ERR-2041",
            organisation_id=db.session.query(Organisation).filter_by(name="Baobab Microcrédit").one().id,
            priority_id=db.session.query(Priority).filter_by(key="urgent").one().id,
        )
        number = ticket.number
        db.session.commit()
        db.session.remove()
    return number


def test_a_breach_appears_on_the_open_dashboard(browser, live_server, live_app, monkeypatch):
    from app import worker
    from app.services import clock

    monkeypatch.setitem(live_app.config, "DASHBOARD_REFRESH_SECONDS", 1)
    base = live_server
    page = browser.new_context(locale="fr-FR", bypass_csp=True, viewport={"width": 1280, "height": 900}).new_page()
    sign_in(page, base, live_app, "superviseur@novalead.com")
    number = _urgent_ticket(live_app)
    with clock.frozen(BEFORE):
        page.goto(f"{base}/dashboard/")
        late = page.locator("#dash-late")
        expect(late).to_contain_text(number)
        expect(late.locator("li").first).to_contain_text("Bientôt")
        expect(page.locator("#dash-new-alert")).to_be_hidden()
        page.evaluate("window.stillTheSamePage = true")
        check_accessibility(page, "dashboard (supervisor)")
    with clock.frozen(AFTER):
        worker.run_once(live_app)  # the SLA watch records the breach and mails it
        alert = page.locator("#dash-new-alert")
        expect(alert).to_be_visible(timeout=10000)
        expect(alert).to_contain_text(f"Nouvelle alerte SLA : {number} (première réponse)")
        expect(late.locator("li").first).to_contain_text("En retard")
        expect(page.locator("#dash-alerts")).to_contain_text("Délai dépassé")
        assert page.evaluate("window.stillTheSamePage") is True  # no reload
        screenshot(page, "dashboard-supervisor-breach")
        # the number is a click away: the late list's link opens the ticket
        page.locator("#dash-late a", has_text=number).click()
        page.wait_for_url(f"{base}/tickets/*")
        expect(page.get_by_text(f"Ticket {number}").or_(page.get_by_role("heading", name=number))).to_be_visible()
    from app.extensions import db
    from app.models import OutboxMail

    with live_app.app_context():
        recipients = {m.recipient for m in db.session.query(OutboxMail).filter_by(kind="sla_breach")}
        db.session.remove()
    assert "superviseur@novalead.com" in recipients
    page.context.close()


def test_report_page_and_partner_dashboard(browser, live_server, live_app):
    base = live_server
    _urgent_ticket(live_app)
    page = browser.new_context(locale="fr-FR", bypass_csp=True, viewport={"width": 1280, "height": 900}).new_page()
    sign_in(page, base, live_app, "superviseur@novalead.com")
    page.goto(f"{base}/reports/?start=2026-11-01&end=2026-11-30")
    expect(page.get_by_role("heading", name="Par client")).to_be_visible()
    expect(page.locator("#h-organisation").locator("xpath=ancestor::section")).to_contain_text("Baobab Microcrédit")
    check_accessibility(page, "reports (supervisor)")
    screenshot(page, "reports-supervisor")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/dashboard/")
    expect(page.locator("#dash-counts")).to_contain_text("Nouveau")
    assert fits_the_screen(page)
    screenshot(page, "dashboard-supervisor-phone")
    page.context.close()

    partner = browser.new_context(locale="fr-FR", bypass_csp=True, viewport={"width": 390, "height": 844}).new_page()
    sign_in(partner, base, live_app, "client@baobab-mc.tg")
    partner.goto(f"{base}/dashboard/")
    expect(partner.locator("#dash-counts")).to_contain_text("Nouveau")
    assert partner.locator("#dash-agents").count() == 0
    check_accessibility(partner, "dashboard (client)")
    assert fits_the_screen(partner)
    screenshot(partner, "dashboard-client-phone")
    partner.context.close()
