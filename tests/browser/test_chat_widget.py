"""Live chat in Chromium (C1–C6): the demo partner page loads the widget with one script tag
and a signed identity; an agent answers from the console in another browser context."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import AXE, check_accessibility, screenshot
from tests.browser.test_sign_in_and_admin import sign_in
from tests.ticket_helpers import png_bytes


@pytest.fixture
def chat_server(live_server, live_app):
    """The live server, its origin declared on the demo widget channel."""
    from app.extensions import db

    # Flask-SocketIO's test client (tests/test_chat.py) reroutes the server's packets to
    # itself; real clients need them back.
    for name in ("_send_packet", "_send_eio_packet"):
        live_app.extensions["socketio"].server.__dict__.pop(name, None)
    from app.models import ChatChannel
    from app.views.chat import DEMO_CHANNEL_KEY

    with live_app.app_context():
        channel = db.session.query(ChatChannel).filter_by(public_key=DEMO_CHANNEL_KEY).one()
        channel.allowed_origins = live_server
        db.session.commit()
    return live_server


def frame_accessibility(page, label):
    """axe-core inside the chat frame (the host page is the partner's business)."""
    frame = page.frame(url=re.compile(r"/widget/frame/"))
    frame.add_script_tag(path=str(AXE))
    violations = frame.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => `${v.id}: ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}`)"""
    )
    assert violations == [], f"{label}: " + "\n".join(violations)


def widget_of(page):
    return page.frame_locator("iframe[title='Discussion avec le support']")


def test_a_chat_from_the_partners_software_to_an_agent_and_into_a_ticket(browser, chat_server, live_app, tmp_path):
    base = chat_server
    picture = tmp_path / "ecran.png"
    picture.write_bytes(png_bytes(320, 200))

    agent_context = browser.new_context(locale="fr-FR", bypass_csp=True, viewport={"width": 1280, "height": 900})
    agent = agent_context.new_page()
    sign_in(agent, base, live_app, "agent1@novalead.com")
    agent.goto(f"{base}/chat/console")
    expect(agent.locator("#nd-connection")).to_have_text("Connecté.")

    visitor_context = browser.new_context(locale="fr-FR", bypass_csp=True, viewport={"width": 1280, "height": 900})
    visitor = visitor_context.new_page()
    visitor.goto(f"{base}/demo/partner")
    chat = widget_of(visitor)
    chat.get_by_role("button", name="Besoin d'aide ?").click()
    chat.get_by_label("Votre question").fill("Le rapport de clôture mensuelle reste vide")
    frame_accessibility(visitor, "widget, before the chat")
    chat.get_by_role("button", name="Démarrer la discussion").click()
    expect(chat.get_by_text("Un agent va vous répondre")).to_be_visible()

    # The agent sees who waits, from which organisation, and takes the conversation.
    waiting = agent.locator("#nd-waiting button").first
    expect(waiting).to_contain_text("Mariama Ba — démonstration")  # the demo page signs no real client
    expect(waiting).to_contain_text("Crédit Solidaire du Sahel")
    waiting.click()
    agent.get_by_role("button", name="Accepter").click()
    expect(chat.get_by_text("Fatou Ndiaye vous répond.")).to_be_visible()
    expect(agent.locator("#nd-context")).to_contain_text("Crédit Solidaire du Sahel")
    check_accessibility(agent, "chat console")

    # Typing both ways, then messages both ways; script stays text.
    agent.locator("#nd-text").press_sequentially("Bonj")
    expect(chat.get_by_text("Fatou écrit…")).to_be_visible()
    agent.locator("#nd-text").fill("Bonjour, quelle agence ?")
    agent.locator("#nd-text").press("Enter")
    expect(chat.get_by_text("Bonjour, quelle agence ?")).to_be_visible()
    chat.get_by_label("Votre message").press_sequentially("Dak")
    expect(agent.locator("#nd-typing")).to_contain_text("écrit")
    chat.get_by_label("Votre message").fill("Agence de Thiès <script>alert(1)</script>")
    chat.get_by_label("Votre message").press("Enter")
    expect(agent.locator("#nd-log")).to_contain_text("Agence de Thiès <script>alert(1)</script>")
    expect(agent.locator("#nd-log li").last.locator("script")).to_have_count(0)

    # An image from the visitor reaches the agent.
    chat.locator("input[type=file]").set_input_files(str(picture))
    expect(agent.locator("#nd-log img[alt='ecran.png']")).to_be_visible()
    # Read receipt: the agent's console marked the visitor's messages read; the widget shows it.
    expect(chat.get_by_text("✓ Lu")).to_be_visible()

    # The network drops: the agent writes, the visitor writes offline; nothing is lost.
    visitor_context.set_offline(True)
    expect(chat.get_by_text("Connexion perdue")).to_be_visible(timeout=15000)
    agent.locator("#nd-text").fill("Pendant la coupure")
    agent.locator("#nd-text").press("Enter")
    chat.get_by_label("Votre message").fill("Écrit hors ligne")
    chat.get_by_label("Votre message").press("Enter")
    expect(chat.get_by_text("En attente d'envoi")).to_be_visible()
    visitor_context.set_offline(False)
    expect(chat.get_by_text("Pendant la coupure")).to_be_visible(timeout=20000)
    expect(agent.locator("#nd-log")).to_contain_text("Écrit hors ligne", timeout=20000)

    # A reload keeps the conversation, each message once.
    visitor.reload()
    chat = widget_of(visitor)
    chat.get_by_role("button", name="Besoin d'aide ?").click()
    expect(chat.get_by_text("Pendant la coupure")).to_have_count(1)
    expect(chat.get_by_text("Écrit hors ligne")).to_have_count(1)
    expect(agent.locator("#nd-log li", has_text="Écrit hors ligne")).to_have_count(1)
    frame_accessibility(visitor, "widget, in the chat")
    screenshot(visitor, "chat-widget")

    # The conversation becomes a ticket, with its transcript.
    agent.get_by_role("button", name="Créer le ticket").click()
    ticket_link = agent.locator("#nd-ticket-result a")
    expect(ticket_link).to_have_text(re.compile(r"NL-\d+"))
    expect(chat.get_by_text(re.compile(r"Ticket NL-\d+ créé"))).to_be_visible()
    screenshot(agent, "chat-console")
    ticket_link.click()
    expect(agent.locator("#ws-timeline")).to_contain_text("Écrit hors ligne")

    # The agent closes; the visitor rates by keyboard.
    agent.go_back()
    agent.locator("#nd-mine button").first.click()
    agent.get_by_role("button", name="Clôturer la discussion").click()
    expect(chat.get_by_text("Comment s'est passée cette discussion ?")).to_be_visible()
    chat.locator("label[for='nd-star-5']").click()
    chat.get_by_role("button", name="Envoyer ma note").click()
    expect(chat.get_by_text("Merci pour votre avis.")).to_be_visible()
    agent_context.close()
    visitor_context.close()


def test_with_nobody_available_the_widget_takes_a_message_that_becomes_a_ticket(browser, chat_server, live_app):
    base = chat_server
    context = browser.new_context(locale="fr-FR", bypass_csp=True, viewport={"width": 390, "height": 800}, is_mobile=True)
    visitor = context.new_page()
    visitor.goto(f"{base}/demo/partner?anonymous=1")
    chat = widget_of(visitor)
    chat.get_by_role("button", name="Besoin d'aide ?").click()
    expect(chat.get_by_text("Aucun agent n'est disponible en ce moment.")).to_be_visible()
    # On a phone the chat takes the whole screen.
    box = visitor.locator("iframe").bounding_box()
    assert box["width"] >= 380 and box["height"] >= 780
    chat.get_by_label("Votre question").fill("Pouvez-vous me rappeler demain ?")
    chat.get_by_label("Votre nom").fill("Léa Martin")
    chat.get_by_label("Votre adresse e-mail").fill("lea@exemple.org")
    frame_accessibility(visitor, "widget, offline form")
    chat.get_by_role("button", name="Envoyer le message").click()
    expect(chat.get_by_text(re.compile(r"votre demande porte le numéro NL-\d+"))).to_be_visible()
    screenshot(visitor, "chat-widget-offline-phone")
    context.close()


def _widget_frame_once_loaded(page, url):
    """The partner page at `url`, once the loader placed the chat frame and the frame's own
    navigation ended — on NovaDesk's chat, or on the browser's refusal page. Nothing is left
    to arrive after this: what the frame shows now is what the visitor gets."""
    page.goto(url)
    iframe = page.wait_for_selector("iframe[src*='/widget/frame/']", state="attached")  # the loader ran
    frame = iframe.content_frame()
    frame.wait_for_load_state("load")
    return frame


def test_the_widget_does_not_open_on_an_undeclared_site(browser, chat_server):
    """Served from another origin (localhost instead of 127.0.0.1), the page cannot show the
    frame: frame-ancestors names the partner's origins only."""
    foreign = chat_server.replace("127.0.0.1", "localhost")
    context = browser.new_context(locale="fr-FR")  # the browser enforces the CSP here
    page = context.new_page()
    refusals = []
    page.on("console", lambda message: refusals.append(message.text) if "frame-ancestors" in message.text else None)

    # The same observation on a declared site sees the chat: it can tell one from the other.
    declared = _widget_frame_once_loaded(page, f"{chat_server}/demo/partner")
    assert "/widget/frame/" in declared.url
    expect(declared.locator(".nd-launcher")).to_be_visible()
    assert refusals == []

    refused = _widget_frame_once_loaded(page, f"{foreign}/demo/partner")
    assert "/widget/frame/" not in refused.url, "the chat frame was shown on a site the partner did not declare"
    assert refused.locator(".nd-launcher").count() == 0
    for _ in range(100):  # the browser's console message may trail the frame's load by a moment
        if refusals:
            break
        page.wait_for_timeout(50)
    assert any("frame-ancestors" in text for text in refusals), "the browser did not say why the frame was refused"
    context.close()
