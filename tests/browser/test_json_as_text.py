"""What JSON endpoints return (the dashboard's figures, the help centre's suggestions) is shown
as text by their scripts: a title written as HTML appears as those characters, never runs."""
from datetime import datetime, timezone

from playwright.sync_api import expect

from tests.browser.test_sign_in_and_admin import sign_in

HOSTILE = '<img src=x onerror="window.__pwned=1">'
BEFORE = datetime(2026, 11, 30, 8, 10, tzinfo=timezone.utc)


def _hostile_rows(app):
    from app.extensions import db
    from app.models import NovaUser, Organisation, Priority
    from app.services import clock, kb, tickets

    with app.test_request_context(), clock.frozen(datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)):
        supervisor = db.session.query(NovaUser).filter_by(email="superviseur@novalead.com").one()
        tickets.create_ticket(
            supervisor, title=f"{HOSTILE} Clôture bloquée", body="ERR-2041",
            organisation_id=db.session.query(Organisation).filter_by(name="Crédit Solidaire du Sahel").one().id,
            priority_id=db.session.query(Priority).filter_by(key="urgent").one().id,
        )
        article = kb.create_article(supervisor, title=f"{HOSTILE} Relevés zorglub introuvables", body="Régénérez les relevés zorglub.", visibility="public")
        kb.change_status(supervisor, article, "published")
        db.session.commit()
        db.session.remove()


def test_titles_from_json_are_shown_as_text(browser, live_server, live_app, monkeypatch):
    from app.services import clock

    monkeypatch.setitem(live_app.config, "DASHBOARD_REFRESH_SECONDS", 1)
    base = live_server
    _hostile_rows(live_app)
    page = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900}).new_page()
    sign_in(page, base, live_app, "superviseur@novalead.com")
    with clock.frozen(BEFORE):
        page.goto(f"{base}/dashboard/")
        late = page.locator("#dash-late")
        expect(late).to_contain_text(f"{HOSTILE} Clôture bloquée")  # the characters themselves
        assert late.locator("img").count() == 0
        page.evaluate("document.getElementById('dash-updated').textContent = ''")
        expect(page.locator("#dash-updated")).not_to_have_text("", timeout=15000)  # refreshed from /dashboard/data
        expect(late).to_contain_text(f"{HOSTILE} Clôture bloquée")
        assert late.locator("img").count() == 0
    page.goto(f"{base}/tickets/new")
    page.get_by_label("Titre").press_sequentially("relevés zorglub", delay=20)
    suggestion = page.locator("#kb-suggestions a").first
    expect(suggestion).to_have_text(f"{HOSTILE} Relevés zorglub introuvables")
    assert page.locator("#kb-suggestions img").count() == 0
    assert page.evaluate("window.__pwned") is None
    page.context.close()


def test_an_unverified_sender_is_marked_on_the_agents_screens(browser, live_server, live_app):
    """Mail our server did not vouch for: the mark is readable on the list and the ticket, on a
    phone too, and the pages stay accessible."""
    from app.channels import mail_in
    from tests.browser.conftest import check_accessibility, screenshot
    from tests.browser.test_sign_in_and_admin import fits_the_screen

    raw = (b"From: Ibrahima Fall <client@credit-solidaire.sn>\r\nTo: support@novalead.test\r\nSubject: Virement urgent\r\n"
           b"Message-ID: <spoof@credit-solidaire.sn>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nChangez l'IBAN du client.\r\n")
    with live_app.app_context():
        mail_in.ingest(raw)
        from app.extensions import db

        db.session.remove()
    base = live_server
    page = browser.new_context(locale="fr-FR", bypass_csp=True, viewport={"width": 1280, "height": 900}).new_page()
    sign_in(page, base, live_app, "agent1@novalead.com")
    page.goto(f"{base}/tickets/?view=all")
    row = page.locator(".ws-row", has_text="Virement urgent")  # the agents' workspace (issue 14)
    expect(row.locator(".nd-unverified")).to_have_text("expéditeur non vérifié")
    check_accessibility(page, "ticket list with an unverified sender")
    row.get_by_role("link", name="Virement urgent").click()
    expect(page.locator(".nd-unverified").first).to_be_visible()
    check_accessibility(page, "ticket with an unverified sender")
    screenshot(page, "ticket-unverified-sender")
    page.set_viewport_size({"width": 390, "height": 844})
    assert fits_the_screen(page)
    screenshot(page, "ticket-unverified-sender-phone")
    page.context.close()
