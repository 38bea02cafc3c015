"""The permission matrix in a real browser: a wide screen and a phone, the rights' column
frozen while the roles scroll, a change made with the keyboard alone, axe-core clean."""
from playwright.sync_api import expect

from app.extensions import db
from tests.browser.conftest import ARTIFACTS, check_accessibility, screenshot
from tests.browser.test_sign_in_and_admin import fits_the_screen, sign_in

FROZEN = """() => {
    const box = document.querySelector('.nd-matrix-scroll');
    const right = () => document.querySelector('tbody tr[data-right] th').getBoundingClientRect().left;
    const role = () => document.querySelectorAll('thead .nd-matrix-role')[1].getBoundingClientRect().left;
    const before = {right: right(), role: role(), box: box.getBoundingClientRect().left};
    box.scrollLeft = box.scrollWidth;
    const after = {right: right(), role: role()};
    box.scrollLeft = 0;
    return {scrollable: box.scrollWidth > box.clientWidth + 1, before, after,
            sticky: getComputedStyle(document.querySelector('tbody th.nd-matrix-right')).position};
}"""


def _commercial_reports(app):
    with app.app_context():
        role = app.appbuilder.sm.find_role("Commercial")
        held = any(pv.view_menu.name == "Reports" and pv.permission.name == "can_show" for pv in role.permissions)
        db.session.remove()
        return held


def _tab_to(page, predicate, limit=600):
    """Press Tab until the focused element satisfies `predicate` (a JS function of it)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(({predicate}))(document.activeElement)"):
            return
    raise AssertionError(f"never reached by Tab: {predicate}")


def test_the_matrix_on_a_wide_screen_and_a_phone(page, live_server, live_app):
    base = live_server
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, base, live_app, "admin@novalead.com")
    entry = page.locator('.navbar a[href="/roles/matrix/"]')
    expect(entry).to_have_count(1)  # the admin's way in, in the Security menu
    assert "Rôles et droits" in entry.text_content()
    page.goto(f"{base}/roles/matrix/")
    expect(page.get_by_role("heading", level=1, name="Rôles et droits")).to_be_visible()
    expect(page.get_by_role("checkbox", name="Voir les rapports — Commercial")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Voir les rapports — Utilisateur client")).not_to_be_checked()
    expect(page.get_by_role("checkbox", name="Voir les rapports — Administrateur")).to_be_disabled()
    wide = page.evaluate(FROZEN)
    assert wide["sticky"] == "sticky"
    if wide["scrollable"]:
        assert abs(wide["after"]["right"] - wide["before"]["right"]) < 1 and wide["after"]["role"] < wide["before"]["role"]
    assert fits_the_screen(page)
    check_accessibility(page, "permission matrix at 1366 px")
    screenshot(page, "role-matrix-1366")

    page.set_viewport_size({"width": 360, "height": 740})
    page.reload()
    phone = page.evaluate(FROZEN)
    assert phone["scrollable"], "six roles do not fit a phone: the table scrolls"
    assert abs(phone["after"]["right"] - phone["before"]["right"]) < 1, phone  # the rights stay put
    assert phone["after"]["role"] < phone["before"]["role"] - 50, phone  # the roles move under them
    assert fits_the_screen(page)  # the page itself does not scroll sideways
    check_accessibility(page, "permission matrix at 360 px")
    screenshot(page, "role-matrix-360")
    page.locator(".nd-matrix-scroll").evaluate("box => box.scrollLeft = 260")
    page.screenshot(path=str(ARTIFACTS / "role-matrix-360-scrolled.png"))  # what the phone shows


def test_a_change_made_with_the_keyboard_alone(page, live_server, live_app):
    base = live_server
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, base, live_app, "admin@novalead.com")
    page.goto(f"{base}/roles/matrix/")
    assert _commercial_reports(live_app)
    _tab_to(page, "e => e.getAttribute('aria-label') === 'Voir les rapports — Commercial'")
    outline = page.evaluate("() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, parseFloat(s.outlineWidth)]; }")
    assert outline[0] != "none" and outline[1] >= 2, f"visible focus: {outline}"
    screenshot(page, "role-matrix-keyboard-focus")
    page.keyboard.press("Space")
    expect(page.get_by_role("checkbox", name="Voir les rapports — Commercial")).not_to_be_checked()
    _tab_to(page, "e => e.tagName === 'BUTTON' && e.type === 'submit'")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/roles/matrix/preview")
    expect(page.get_by_role("heading", level=1, name="Confirmer les changements de droits")).to_be_visible()
    expect(page.locator(".nd-matrix-removed li")).to_have_text(["Voir les rapports"])
    assert page.locator(".nd-matrix-added li").count() == 0
    assert _commercial_reports(live_app), "nothing applied before confirmation"
    check_accessibility(page, "matrix preview")
    screenshot(page, "role-matrix-preview")
    _tab_to(page, "e => e.textContent.trim() === 'Appliquer ces changements'")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/roles/matrix/")
    expect(page.get_by_text("Droits enregistrés.")).to_be_visible()
    expect(page.get_by_role("checkbox", name="Voir les rapports — Commercial")).not_to_be_checked()
    assert not _commercial_reports(live_app)
