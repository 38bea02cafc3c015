"""The chat console tells times as the agent reads them: « maintenant », « il y a 5 min » in
the page's language, the exact time on hover in the agent's own time zone (not the browser's,
not the server's) — never « 08:32 PM » in the French interface."""
import re
from datetime import timezone
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.browser.test_sign_in_and_admin import sign_in

AGENT_ZONE = "America/New_York"  # the agent's profile; the browser runs in Tokyo, the server in UTC


def test_console_times_are_relative_with_the_exact_time_in_the_agents_zone(browser, live_server, live_app):
    from app.extensions import db
    from app.models import ChatChannel, NovaUser, Organisation
    from app.services import chat
    from app.views.chat import DEMO_CHANNEL_KEY

    for name in ("_send_packet", "_send_eio_packet"):  # left by Flask-SocketIO's test client
        live_app.extensions["socketio"].server.__dict__.pop(name, None)
    with live_app.app_context():
        db.session.query(NovaUser).filter_by(email="agent1@novalead.com").one().timezone = AGENT_ZONE
        channel = db.session.query(ChatChannel).filter_by(public_key=DEMO_CHANNEL_KEY).one()
        organisation = db.session.query(Organisation).filter_by(name="Crédit Solidaire du Sahel").one()
        visitor = chat.Visitor(identified=True, external_id="ERP-U-9", name="Aminata Sarr", email="client@credit-solidaire.sn", organisation_id=organisation.id)
        conversation, _token, message = chat.start_conversation(channel, visitor, "Bonjour, l'export est vide.")
        db.session.commit()
        sent = message.created_on if message.created_on.tzinfo else message.created_on.replace(tzinfo=timezone.utc)
        db.session.remove()

    context = browser.new_context(locale="fr-FR", timezone_id="Asia/Tokyo", bypass_csp=True)
    page = context.new_page()
    sign_in(page, live_server, live_app, "agent1@novalead.com")
    page.goto(f"{live_server}/chat/console")
    page.locator("#nd-waiting button", has_text="Aminata Sarr").click()
    stamp = page.locator("#nd-log li", has_text="l'export est vide").locator("time")
    expect(stamp).to_have_text(re.compile(r"^(maintenant|il y a \d+ (s|min)\.?)$"))
    local = sent.astimezone(ZoneInfo(AGENT_ZONE))
    title = stamp.get_attribute("title")
    assert local.strftime("%H:%M") in title, title  # New York's hour, not Tokyo's nor UTC's
    assert str(local.day) in title and re.search(r"(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)", title), title
    assert not re.search(r"\b(AM|PM)\b", page.locator("#nd-log").inner_text() + title)
    context.close()
