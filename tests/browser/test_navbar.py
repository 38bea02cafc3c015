"""The top bar: one row at 1366 px for every role (admin has the most entries), a menu button
that works at 360 px, visible keyboard focus, and nothing serious for axe-core at either width."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import check_accessibility, screenshot
from tests.browser.test_sign_in_and_admin import sign_in

ROLES = {
    "admin": "admin@novalead.com",
    "supervisor": "superviseur@novalead.com",
    "agent": "agent1@novalead.com",
    "commercial": "commercial1@novalead.com",
    "client": "client@credit-solidaire.sn",
    "reseller": "revendeur@afrilog.ci",
}


def rows_of(page):
    """The distinct vertical positions of the bar's top-level entries (1: one row)."""
    return page.evaluate(
        """() => new Set([...document.querySelectorAll('.navbar .navbar-brand, .navbar-nav > li')]
             .filter(e => e.offsetParent !== null)
             .map(e => Math.round(e.getBoundingClientRect().top / 10))).size"""
    )


@pytest.mark.parametrize("role", list(ROLES))
def test_the_top_bar_holds_in_one_row_at_1366_and_folds_at_360(browser, live_server, live_app, role):
    base = live_server
    context = browser.new_context(locale="fr-FR", bypass_csp=True, viewport={"width": 1366, "height": 800})
    page = context.new_page()
    sign_in(page, base, live_app, ROLES[role])
    page.goto(f"{base}/tickets/")
    page.set_viewport_size({"width": 1280, "height": 800})  # a smaller laptop: the bar still holds
    page.screenshot(path=str(_artifact(f"navbar-1280-{role}")), clip={"x": 0, "y": 0, "width": 1280, "height": 120})
    assert rows_of(page) == 1, f"{role}: the bar wraps at 1280"
    page.set_viewport_size({"width": 1366, "height": 800})
    nav = page.locator("nav.navbar")
    page.screenshot(path=str(_artifact(f"navbar-1366-{role}")), clip={"x": 0, "y": 0, "width": 1366, "height": 300})
    assert rows_of(page) == 1, f"{role}: the bar wraps"
    assert nav.bounding_box()["height"] <= 64
    # Each menu opens and is reachable by keyboard; the person's menu is on the right.
    person = page.locator(".navbar-right > li.dropdown").last
    assert person.bounding_box()["x"] > 1366 / 2
    for _ in range(4):  # past the skip link, into the bar
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('nav') !== null"):
            break
    focused = page.evaluate("() => { const e = document.activeElement; const s = getComputedStyle(e); return [e.closest('nav') !== null, s.outlineStyle, s.outlineWidth, s.boxShadow]; }")
    assert focused[0] and (focused[1] != "none" and focused[2] != "0px" or focused[3] != "none"), f"no visible focus: {focused}"
    if role == "admin":  # the settings, grouped: every one of them within reach on the screen
        page.get_by_role("button", name="Administration").click()
        for entry in ("Rôles et droits", "Statuts des tickets", "File d'envoi", "Webhooks"):
            link = page.get_by_role("link", name=entry, exact=True)
            expect(link).to_be_visible()
            box = link.bounding_box()
            assert 0 <= box["x"] and box["x"] + box["width"] <= 1366 and box["y"] + box["height"] <= 800, entry
        page.screenshot(path=str(_artifact("navbar-1366-admin-settings")), clip={"x": 0, "y": 0, "width": 1366, "height": 800})
        page.keyboard.press("Escape")
    if role in ("admin", "client"):
        check_accessibility(page, f"top bar at 1366 ({role})")

    page.set_viewport_size({"width": 360, "height": 740})
    toggle = page.get_by_role("button", name="Menu")
    expect(toggle).to_be_visible()
    first_entry = page.locator(".navbar-collapse .navbar-nav > li > a").first
    expect(first_entry).to_be_hidden()
    toggle.click()
    expect(first_entry).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    # Bootstrap's opening runs as a height transition (.collapsing); colours are checked on the open menu.
    expect(page.locator(".navbar-collapse.collapse.in")).to_have_count(1)
    expect(page.locator(".navbar-collapse.collapsing")).to_have_count(0)
    if role in ("admin", "client"):
        check_accessibility(page, f"top bar at 360 ({role})")
        screenshot(page, f"navbar-360-{role}")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    context.close()


def _artifact(name):
    from tests.browser.conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / f"{name}.png"
