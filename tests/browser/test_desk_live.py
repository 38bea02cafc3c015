"""The desk live in Chromium: two agents in two browser contexts on one ticket see each other
(« … consulte aussi ce ticket », « … est en train de répondre ») and each other's changes
within a second, without reloading; a desk cut off (offline) catches up when it is back."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import check_accessibility, screenshot
from tests.browser.test_sign_in_and_admin import sign_in

SECOND = 1000  # ms: what « within a second » allows


@pytest.fixture
def desk_server(live_server, live_app):
    # Flask-SocketIO's test client (other test files) reroutes the server's packets to itself.
    for name in ("_send_packet", "_send_eio_packet"):
        live_app.extensions["socketio"].server.__dict__.pop(name, None)
    return live_server


def a_ticket(live_app):
    from app.extensions import db
    from app.services import tickets
    from tests.ticket_helpers import org, user

    with live_app.app_context():
        ticket = tickets.create_ticket(
            user("agent1@novalead.com"), title="Clôture mensuelle bloquée", body="ERR-2041 à l'étape des intérêts.",
            organisation_id=org("Crédit Solidaire du Sahel").id,
        )
        db.session.commit()
        found = ticket.id
        db.session.remove()
    return found


def reference(live_app, kind, key):
    from app.extensions import db
    from tests.ticket_helpers import priority, status

    with live_app.app_context():
        row = status(key) if kind == "status" else priority(key)
        found = (row.id, row.name)
        db.session.remove()
    return found


def bulk(page, ticket_id, action, value):
    """A change made from the page (the queue's bulk action), as the desk does it."""
    return page.evaluate(
        """async ([id, action, value]) => {
            const token = document.getElementById('workspace').dataset.csrf;
            const r = await fetch('/tickets/bulk', {method: 'POST', credentials: 'same-origin',
                headers: {'Content-Type': 'application/json', 'X-CSRFToken': token},
                body: JSON.stringify({ticket_ids: [id], action, value})});
            return await r.json();
        }""",
        [ticket_id, action, value],
    )


def test_two_agents_see_each_other_and_each_others_changes(browser, desk_server, live_app):
    base = desk_server
    ticket_id = a_ticket(live_app)
    contexts = [browser.new_context(locale="fr-FR", bypass_csp=True, viewport={"width": 1366, "height": 900}) for _ in range(2)]
    fatou, koffi = (context.new_page() for context in contexts)
    sign_in(fatou, base, live_app, "agent1@novalead.com")
    sign_in(koffi, base, live_app, "agent1b@novalead.com")
    loads = []
    fatou.on("load", lambda _page: loads.append(fatou.url))

    # The workspace with the ticket open, on both desks.
    fatou.goto(f"{base}/tickets/{ticket_id}")
    fatou.wait_for_function("window.NovaDeskLive && NovaDeskLive.connected")
    koffi.goto(f"{base}/tickets/{ticket_id}")
    presence = fatou.locator("#ws-presence")
    expect(presence).to_contain_text("Koffi Mensah consulte aussi ce ticket", timeout=SECOND * 3)  # includes Koffi's page load
    expect(koffi.locator("#ws-presence")).to_contain_text("Fatou Ndiaye consulte aussi ce ticket", timeout=SECOND)
    assert "Fatou Ndiaye" not in presence.inner_text()  # never oneself

    koffi.locator("#ws-body").fill("Bonjour, je regarde la clôture.")
    expect(presence).to_contain_text("Koffi Mensah est en train de répondre", timeout=SECOND)
    check_accessibility(fatou, "workspace with presence (agent)")
    screenshot(fatou, "desk-live-presence")

    # Koffi changes the status (a bulk action from his queue): Fatou's pane and queue follow.
    pending_id, pending_name = reference(live_app, "status", "pending")
    assert bulk(koffi, ticket_id, "status", pending_id)["done"]
    expect(fatou.locator("#ws-status")).to_have_value(str(pending_id), timeout=SECOND)
    expect(fatou.locator("#ws-timeline")).to_contain_text(pending_name, timeout=SECOND)

    # Cut off, then back: what happened meanwhile shows without a reload.
    contexts[0].set_offline(True)
    expect(fatou.locator("#ws-connection")).to_be_visible(timeout=SECOND * 3)
    urgent_id, urgent_name = reference(live_app, "priority", "urgent")
    assert bulk(koffi, ticket_id, "priority", urgent_id)["done"]
    contexts[0].set_offline(False)
    expect(fatou.locator("#ws-priority")).to_have_value(str(urgent_id), timeout=SECOND * 8)
    expect(fatou.locator("#ws-timeline")).to_contain_text(urgent_name)
    expect(fatou.locator("#ws-connection")).to_be_hidden(timeout=SECOND * 3)
    expect(presence).to_contain_text("Koffi Mensah", timeout=SECOND * 3)  # presence told again after the reconnection
    assert loads == [f"{base}/tickets/{ticket_id}"]  # one page load: everything else came live

    koffi.close()
    expect(presence).not_to_contain_text("Koffi Mensah", timeout=SECOND * 3)  # his desk went away
    for context in contexts:
        context.close()
