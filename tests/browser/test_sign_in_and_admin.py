"""In a real browser: a client signs in with the e-mailed code; an admin deactivates a user.
Every page visited is checked with axe-core and at phone width."""
import re

from playwright.sync_api import expect

from app.extensions import db
from app.models import NovaUser, OutboxMail
from tests.browser.conftest import check_accessibility, screenshot
from tests.conftest import DEMO_PASSWORD


def emailed_code(app, recipient):
    with app.app_context():
        mail = db.session.query(OutboxMail).filter_by(recipient=recipient).order_by(OutboxMail.id.desc()).first()
        code = re.search(r"\b(\d{6})\b", mail.subject).group(1)
        db.session.remove()
        return code


def sign_in(page, base, app, email):
    page.goto(f"{base}/login/")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{base}/login/verify")
    page.get_by_label("Code de vérification").fill(emailed_code(app, email))
    page.get_by_role("button", name="Vérifier").click()
    page.wait_for_url(f"{base}/")


def fits_the_screen(page):
    """No sideways scrolling at phone width; on failure, say which elements stick out."""
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && e.offsetParent !== null)
            .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""
    )
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), wide
    return True


def test_client_signs_in_with_the_emailed_code(page, live_server, live_app):
    base = live_server
    page.goto(f"{base}/")
    assert page.url == f"{base}/login/"
    expect(page.get_by_role("heading", name="Se connecter à NovaDesk")).to_be_visible()
    check_accessibility(page, "login")
    page.get_by_label("Adresse e-mail").fill("client@credit-solidaire.sn")
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{base}/login/verify")
    check_accessibility(page, "second factor")
    page.get_by_label("Code de vérification").fill("000000")
    page.get_by_role("button", name="Vérifier").click()
    expect(page.get_by_text("Code incorrect ou expiré")).to_be_visible()
    page.get_by_label("Code de vérification").fill(emailed_code(live_app, "client@credit-solidaire.sn"))
    page.get_by_role("button", name="Vérifier").click()
    page.wait_for_url(f"{base}/")
    expect(page.get_by_role("heading", name="Bonjour Ibrahima")).to_be_visible()
    check_accessibility(page, "home")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert fits_the_screen(page)
    screenshot(page, "client-home-phone")
    page.goto(f"{base}/organisations/list/")
    expect(page.get_by_text("Crédit Solidaire du Sahel").first).to_be_visible()
    assert page.get_by_text("Baobab Microcrédit").count() == 0
    assert fits_the_screen(page)
    check_accessibility(page, "organisations at phone width")


def test_admin_deactivates_a_user(page, live_server, live_app, browser):
    base = live_server
    sign_in(page, base, live_app, "admin@novalead.com")
    page.goto(f"{base}/users/list/")
    check_accessibility(page, "users list")
    with live_app.app_context():
        target = db.session.query(NovaUser).filter_by(email="client@epargneplus.ci").one().id
        db.session.remove()
    page.goto(f"{base}/users/edit/{target}")
    screenshot(page, "admin-user-edit")
    check_accessibility(page, "user edit form")
    page.get_by_label("Actif").uncheck()
    page.get_by_role("button", name=re.compile("Enregistrer|Save")).click()
    page.wait_for_load_state()
    screenshot(page, "admin-after-deactivation")
    with live_app.app_context():
        assert db.session.get(NovaUser, target).active is False
        db.session.remove()
    # The deactivated user can no longer sign in.
    other = browser.new_context(locale="fr-FR").new_page()
    other.goto(f"{base}/login/")
    other.get_by_label("Adresse e-mail").fill("client@epargneplus.ci")
    other.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    other.get_by_role("button", name="Se connecter").click()
    expect(other.get_by_text("Adresse e-mail ou mot de passe incorrect")).to_be_visible()
    other.context.close()
