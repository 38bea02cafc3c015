"""In a real browser (K1–K3, K5): an anonymous visitor searches the public help centre in
French and reads an article; a client reads their organisation's wiki; a user of another
client cannot reach it by its address; a client typing a ticket's title is offered the
answer. Pages pass axe-core and fit a phone screen."""
import re

from playwright.sync_api import expect

from tests.browser.conftest import check_accessibility, screenshot
from tests.browser.test_sign_in_and_admin import fits_the_screen, sign_in


def _wiki_id(app, name):
    from app.extensions import db
    from app.models import Organisation

    with app.app_context():
        return db.session.query(Organisation).filter_by(name=name).one().id


def test_visitor_finds_an_answer_and_wikis_stay_with_their_client(browser, live_server, live_app):
    base = live_server
    visitor = browser.new_context(locale="fr-FR", bypass_csp=True).new_page()
    visitor.goto(f"{base}/help/")
    expect(visitor.get_by_role("heading", name="Comment pouvons-nous vous aider ?")).to_be_visible()
    check_accessibility(visitor, "help centre home")
    screenshot(visitor, "help-home")
    visitor.get_by_label("Rechercher dans l'aide").fill("echeances en retard")  # no accents, plural
    visitor.get_by_role("button", name="Rechercher").click()
    visitor.wait_for_url(re.compile(r".*/help/search\?q=.*"))
    first = visitor.locator(".hc-results li").first
    expect(first).to_contain_text("Rembourser une échéance de crédit en retard")
    expect(first.locator("mark").first).to_be_visible()
    assert visitor.get_by_text("Clôture mensuelle : ordre des traitements").count() == 0  # partners only
    check_accessibility(visitor, "search results")
    screenshot(visitor, "help-search")
    first.get_by_role("link").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Rembourser une échéance de crédit en retard")
    expect(visitor.get_by_role("navigation", name="Fil d'Ariane")).to_contain_text("Crédit et remboursements")
    visitor.get_by_role("button", name="Oui").click()
    expect(visitor.get_by_text("Merci pour votre avis !")).to_be_visible()
    check_accessibility(visitor, "article page")
    visitor.set_viewport_size({"width": 390, "height": 844})
    assert fits_the_screen(visitor)
    screenshot(visitor, "help-article-phone")

    wiki_url = f"{base}/help/wiki/{_wiki_id(live_app, 'Crédit Solidaire du Sahel')}"
    client = browser.new_context(locale="fr-FR", bypass_csp=True).new_page()
    sign_in(client, base, live_app, "client@credit-solidaire.sn")
    client.goto(f"{base}/help/")
    client.get_by_role("link", name="Wiki de mon organisation").click()
    client.wait_for_url(wiki_url)
    expect(client.get_by_role("heading", level=1)).to_have_text("Wiki Crédit Solidaire du Sahel")
    client.get_by_role("link", name="Contacts et horaires de l'équipe informatique").click()
    expect(client.get_by_text("Astreinte le samedi")).to_be_visible()
    check_accessibility(client, "wiki page")
    screenshot(client, "help-wiki-page")

    # The client types a ticket's title: the answer is proposed before anything is filed.
    client.goto(f"{base}/tickets/new")
    client.get_by_label("Titre").press_sequentially("jeton expiré synchronisation", delay=20)
    suggestion = client.locator("#kb-suggestions").get_by_role("link", name="Erreur « jeton expiré » pendant la synchronisation")
    expect(suggestion).to_be_visible()
    check_accessibility(client, "new ticket with suggestions")

    other = browser.new_context(locale="fr-FR", bypass_csp=True).new_page()
    sign_in(other, base, live_app, "client@baobab-mc.tg")
    response = other.goto(wiki_url)
    assert response.status == 404
    assert other.get_by_text("Contacts et horaires").count() == 0
    other.goto(f"{base}/help/search?q=contacts+horaires+astreinte")
    assert other.get_by_text("Contacts et horaires de l'équipe informatique").count() == 0


def test_agent_writes_a_draft_and_a_supervisor_publishes_it(browser, live_server, live_app):
    base = live_server
    agent = browser.new_context(locale="fr-FR", bypass_csp=True).new_page()
    sign_in(agent, base, live_app, "agent1@novalead.com")
    agent.goto(f"{base}/kb/")
    check_accessibility(agent, "knowledge-base list (agent)")
    agent.get_by_role("link", name="Nouvel article").click()
    agent.get_by_label("Titre").fill("Exporter la balance au format tableur")
    agent.get_by_label("Contenu (Markdown)").fill("## Étapes\n\n1. Ouvrez **États › Balance**.\n2. Choisissez *Exporter*.")
    agent.get_by_label("Visibilité").select_option(label="Public (sans connexion)")
    agent.get_by_role("button", name="Enregistrer").click()
    expect(agent.get_by_text("Brouillon enregistré.")).to_be_visible()
    check_accessibility(agent, "article editor (agent)")
    screenshot(agent, "kb-editor")
    agent.get_by_role("button", name="Proposer à la relecture").click()
    expect(agent.get_by_text("Statut changé : En relecture.")).to_be_visible()
    assert agent.get_by_role("button", name="Approuver et publier").count() == 0  # agents do not publish
    editor_url = agent.url

    supervisor = browser.new_context(locale="fr-FR", bypass_csp=True).new_page()
    sign_in(supervisor, base, live_app, "superviseur@novalead.com")
    supervisor.goto(editor_url)
    supervisor.get_by_role("button", name="Approuver et publier").click()
    expect(supervisor.get_by_text("Statut changé : Publié.")).to_be_visible()
    supervisor.get_by_role("link", name="Historique des versions").click()
    check_accessibility(supervisor, "version history")
    expect(supervisor.locator("tbody tr")).to_have_count(3)

    visitor = browser.new_context(locale="fr-FR", bypass_csp=True).new_page()
    visitor.goto(f"{base}/help/search?q=exporter+balance+tableur")
    expect(visitor.locator(".hc-results li").first).to_contain_text("Exporter la balance au format tableur")
