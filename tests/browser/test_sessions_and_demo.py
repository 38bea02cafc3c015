"""In Chromium: a person sees their open sessions and signs out with the menu's button (a POST
with its CSRF token); the demo partner page works on whatever port NovaDesk is served."""
import re

from playwright.sync_api import expect

from tests.browser.conftest import check_accessibility, screenshot
from tests.browser.test_sign_in_and_admin import fits_the_screen, sign_in

CLIENT = "client@credit-solidaire.sn"


def test_a_person_sees_their_sessions_ends_one_and_signs_out(browser, page, live_server, live_app):
    base = live_server
    other_context = browser.new_context(locale="fr-FR", user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")
    other = other_context.new_page()
    sign_in(other, base, live_app, CLIENT)
    sign_in(page, base, live_app, CLIENT)
    page.goto(f"{base}/account/security/")
    sessions = page.get_by_role("region", name="Sessions ouvertes")
    expect(sessions.get_by_text("cette session")).to_be_visible()
    expect(sessions.get_by_role("listitem").filter(has_text="Firefox sur Linux")).to_be_visible()
    check_accessibility(page, "account security with sessions")
    page.set_viewport_size({"width": 390, "height": 844})
    assert fits_the_screen(page)
    screenshot(page, "account-sessions-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    # Ending the other browser's session signs it out at its next request.
    sessions.get_by_role("button", name=re.compile("Terminer — Firefox sur Linux")).click()
    expect(page.get_by_text("Session terminée")).to_be_visible()
    other.goto(f"{base}/")
    assert other.url.startswith(f"{base}/login/")
    other_context.close()
    # The menu's « Se déconnecter » is a form's button, reached by keyboard too.
    page.get_by_role("button", name=re.compile("Ibrahima")).click()  # the menu opens from a button
    page.get_by_role("button", name="Se déconnecter", exact=True).focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/login/"))
    page.goto(f"{base}/")
    assert page.url.startswith(f"{base}/login/")


def test_the_demo_page_works_on_any_port(browser, live_server, live_app):
    """No channel edited by hand: the demo channel follows the served address (HOST, PORT)."""
    base = live_server
    live_app.config["PORT"] = int(base.rsplit(":", 1)[1])
    for name in ("_send_packet", "_send_eio_packet"):  # undo tests/test_chat.py's test client rerouting
        live_app.extensions["socketio"].server.__dict__.pop(name, None)
    context = browser.new_context(locale="fr-FR")  # the browser enforces frame-ancestors here
    try:
        visitor = context.new_page()
        visitor.goto(f"{base}/demo/partner")
        expect(visitor.get_by_text("Mariama Ba — démonstration")).to_be_visible()
        chat = visitor.frame_locator("iframe[title='Discussion avec le support']")
        chat.get_by_role("button", name="Besoin d'aide ?").click()
        expect(chat.get_by_text("Aucun agent n'est disponible en ce moment.")).to_be_visible()  # the server answered
        screenshot(visitor, "demo-partner-any-port")
    finally:
        context.close()
        live_app.config["PORT"] = 5000
