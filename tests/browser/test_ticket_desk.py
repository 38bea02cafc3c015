"""In a real browser (T2, T3, T7, T9): a client files a ticket with a 6 MB image; an agent
replies and adds an internal note; the client sees the reply and not the note; the agent's
list shows the ticket first with the right last-update column. Pages pass axe-core and fit
a phone screen."""
import re

from playwright.sync_api import expect

from tests.browser.conftest import check_accessibility, screenshot
from tests.browser.test_sign_in_and_admin import fits_the_screen, sign_in
from tests.ticket_helpers import png_bytes


def test_a_ticket_from_client_to_agent_and_back(browser, live_server, live_app, tmp_path):
    base = live_server
    image = tmp_path / "ecran-erreur.png"
    image.write_bytes(png_bytes(1600, 1300, noise=True))
    assert image.stat().st_size > 6_000_000

    client = browser.new_context(locale="fr-FR", bypass_csp=True).new_page()
    sign_in(client, base, live_app, "client@credit-solidaire.sn")
    client.goto(f"{base}/tickets/new")
    check_accessibility(client, "new ticket (client)")
    client.get_by_label("Titre").fill("Clôture bloquée à l'étape des intérêts")
    client.get_by_label("Type de demande").select_option(label="Problème technique / incident")
    client.get_by_label("Message").fill("La clôture s'arrête avec ERR-2041 depuis ce matin.")
    client.get_by_label("Pièces jointes").set_input_files(str(image))
    client.get_by_role("button", name="Envoyer la demande").click()
    client.wait_for_url(re.compile(r".*/tickets/\d+$"))
    expect(client.get_by_text("Ticket NL-")).to_be_visible()
    expect(client.get_by_alt_text("Aperçu de ecran-erreur.png")).to_be_visible()
    ticket_url = client.url
    check_accessibility(client, "ticket page (client)")

    agent = browser.new_context(locale="fr-FR", bypass_csp=True).new_page()
    sign_in(agent, base, live_app, "agent1@novalead.com")
    agent.goto(f"{base}/tickets/")
    check_accessibility(agent, "ticket list (agent)")
    first_row = agent.locator(".ws-row").first  # the agents' workspace (issue 14)
    expect(first_row).to_contain_text("Clôture bloquée à l'étape des intérêts")
    first_row.get_by_role("link").first.click()
    agent.get_by_label("Message").fill("Bonjour, nous corrigeons le calcul des intérêts.")
    agent.get_by_role("button", name="Envoyer", exact=True).click()
    expect(agent.locator("#ws-feedback")).to_have_text("Réponse envoyée.")
    agent.get_by_label("Message").fill("Cause : index des échéances corrompu.")
    agent.get_by_label("Note interne").check()
    agent.get_by_role("button", name="Ajouter la note").click()
    expect(agent.locator("#ws-feedback")).to_have_text("Note interne ajoutée.")
    check_accessibility(agent, "ticket page (agent)")

    client.goto(ticket_url)
    expect(client.get_by_text("Bonjour, nous corrigeons le calcul des intérêts.")).to_be_visible()
    assert client.get_by_text("index des échéances corrompu").count() == 0
    assert client.get_by_text("Note interne").count() == 0

    agent.goto(f"{base}/tickets/")
    first_row = agent.locator(".ws-row").first
    expect(first_row).to_contain_text("Clôture bloquée à l'étape des intérêts")
    expect(first_row.locator(".ws-when")).to_contain_text("Fatou Ndiaye")  # last update, by the agent
    agent.set_viewport_size({"width": 390, "height": 844})
    agent.reload()
    screenshot(agent, "agent-ticket-list-phone")
    client.set_viewport_size({"width": 390, "height": 844})
    client.reload()
    assert fits_the_screen(client)
    screenshot(client, "client-ticket-phone")
    client.context.close()
    agent.context.close()
