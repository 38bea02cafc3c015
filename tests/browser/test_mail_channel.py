"""In a real browser (T10): mail from an unknown sender arrives; an agent reads it on the
ticket, downloads nothing it should not, attaches the sender to a client with their other
ticket; the admin finds the message and its outcome in "Messages reçus". The profile's mail
choices are checkboxes a keyboard reaches. Pages pass axe-core."""
from playwright.sync_api import expect

from tests.browser.conftest import check_accessibility, screenshot
from tests.browser.test_sign_in_and_admin import sign_in


def _receive(live_app, sender, subject, body, key):
    from app.channels import mail_in

    raw = f"From: {sender}\r\nSubject: {subject}\r\nMessage-ID: <{key}@browser>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    with live_app.app_context():
        mail_in.ingest(raw.encode())
        from app.extensions import db
        from app.models import InboundMail

        ticket_id = db.session.query(InboundMail).filter_by(message_id=f"<{key}@browser>").one().ticket_id
        db.session.remove()
    return ticket_id


def test_an_unknown_sender_is_attached_to_a_client(browser, live_server, live_app):
    base = live_server
    _receive(live_app, "Direction <direction@nouvelle-imf.example>", "Demande de démonstration", "Une démonstration du module épargne ?", "b1")
    ticket_id = _receive(live_app, "Direction <direction@nouvelle-imf.example>", "Tarifs", "Et les tarifs ?", "b2")

    agent = browser.new_context(locale="fr-FR", bypass_csp=True).new_page()
    sign_in(agent, base, live_app, "agent1@novalead.com")
    agent.goto(f"{base}/tickets/{ticket_id}")
    expect(agent.get_by_text("non identifié", exact=True)).to_be_visible()
    expect(agent.get_by_text("par e-mail")).to_be_visible()
    check_accessibility(agent, "ticket from an unknown sender (agent)")
    screenshot(agent, "mail-unidentified-ticket")
    agent.get_by_label("Client", exact=True).select_option(label="Fonds Épargne Plus")
    expect(agent.get_by_label("Rattacher aussi l'autre ticket non identifié de cette adresse")).to_be_checked()
    agent.get_by_role("button", name="Rattacher", exact=True).click()
    expect(agent.get_by_text("Expéditeur rattaché au client.")).to_be_visible()
    expect(agent.locator(".nd-details")).to_contain_text("Fonds Épargne Plus")

    agent.goto(f"{base}/novauserinfoeditview/form")
    box = agent.get_by_label("Tickets qui me sont attribués")
    box.focus()
    agent.keyboard.press("Space")
    expect(box).not_to_be_checked()
    check_accessibility(agent, "profile with mail choices")

    admin = browser.new_context(locale="fr-FR", bypass_csp=True).new_page()
    sign_in(admin, base, live_app, "admin@novalead.com")
    admin.goto(f"{base}/mail/received/list/")
    expect(admin.get_by_text("Tarifs", exact=True)).to_be_visible()
    check_accessibility(admin, "received mail (admin)")
    screenshot(admin, "mail-received")
    admin.goto(f"{base}/mail/outbox/list/")
    check_accessibility(admin, "outbox (admin)")
    admin.goto(f"{base}/mail/mailboxes/add")
    check_accessibility(admin, "new mailbox (admin)")
