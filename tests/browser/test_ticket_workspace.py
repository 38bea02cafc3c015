"""The agents' workspace in Chromium (T5–T9, T12, A1): "open the oldest unassigned urgent
ticket, take it, answer with a canned response, set it to waiting for the client", by mouse
and by keyboard, with no full page load once the inbox is open and at most six clicks; the
phone layout (list, then ticket, then back); drafts kept; the live hooks; axe-core at 1366 px
and 360 px."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import check_accessibility, screenshot
from tests.browser.test_sign_in_and_admin import fits_the_screen, sign_in

AGENT = "agent1@novalead.com"


def _tickets(live_app):
    """Five tickets filed one after the other: the oldest unassigned urgent one is « Caisse
    bloquée »; an older normal one and a younger urgent one sit around it."""
    from app.extensions import db
    from app.models import NovaUser, Organisation, Priority, Ticket
    from app.services import clock, tickets

    with live_app.test_request_context():
        supervisor = db.session.query(NovaUser).filter_by(email="superviseur@novalead.com").one()
        colleague = db.session.query(NovaUser).filter_by(email="agent2@novalead.com").one()
        organisation = db.session.query(Organisation).filter_by(name="Crédit Solidaire du Sahel").one()
        urgent = db.session.query(Priority).filter_by(key="urgent").one().id
        made = {}
        start = clock.now() - timedelta(hours=6)
        for minutes, title, priority in [(0, "Question sur l'export", None), (10, "Caisse bloquée", urgent), (20, "Guichet hors ligne", urgent),
                                         (30, "Agence de Thiès sans réseau", urgent), (40, "Rapport mensuel vide", None)]:
            ticket = tickets.create_ticket(supervisor, title=title, body="Le module ne répond plus.", organisation_id=organisation.id, priority_id=priority)
            ticket.created_on = ticket.last_activity_on = start + timedelta(minutes=minutes)
            made[title] = ticket.id
        tickets.assign(supervisor, db.session.get(Ticket, made["Agence de Thiès sans réseau"]), [colleague.id])
        db.session.commit()
        db.session.remove()
        return made


def _state(live_app, ticket_id):
    from app.extensions import db
    from app.models import Ticket, TicketMessage

    with live_app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        state = {
            "assignees": sorted(a.email for a in ticket.assignees),
            "category": ticket.status_category,
            "replies": [m.body for m in db.session.query(TicketMessage).filter_by(ticket_id=ticket_id, internal=False).order_by(TicketMessage.id)][1:],
        }
        db.session.remove()
        return state


class Counter:
    """Full page loads of the main frame, and the clicks a person makes. Playwright also reports
    History API changes as `framenavigated`, so a full load is told by `load` and
    `domcontentloaded`, and proved absent by a marker left in the window surviving."""

    def __init__(self, page):
        self.page = page
        self.loads = 0
        self.clicks = 0
        page.on("load", lambda _page: self._loaded())
        page.on("domcontentloaded", lambda _page: self._loaded())

    def _loaded(self):
        self.loads += 1

    def reset(self):
        self.loads = self.clicks = 0
        self.page.evaluate("window.__sameDocument = true")

    @property
    def page_loads(self):
        survived = self.page.evaluate("window.__sameDocument === true")
        return self.loads + (0 if survived else 1)

    def click(self, locator):
        self.clicks += 1
        locator.click()


def _agent(browser, live_server, live_app, width=1366, height=900):
    page = browser.new_context(locale="fr-FR", bypass_csp=True, viewport={"width": width, "height": height}).new_page()
    sign_in(page, live_server, live_app, AGENT)
    return page


def test_the_task_by_mouse_in_six_clicks_without_a_page_load(browser, live_server, live_app):
    made = _tickets(live_app)
    page = _agent(browser, live_server, live_app)
    page.goto(f"{live_server}/tickets/")
    expect(page.get_by_role("heading", name="À traiter")).to_be_visible()
    check_accessibility(page, "workspace at 1366 px")
    counter = Counter(page)
    counter.reset()

    counter.click(page.get_by_role("link", name="Non attribués"))
    expect(page.get_by_role("heading", name="Non attribués")).to_be_visible()
    first = page.locator(".ws-row").first
    expect(first).to_contain_text("Caisse bloquée")  # urgent first, the oldest at the top
    expect(first).to_contain_text("Urgente")
    counter.click(first.locator(".ws-row-link"))
    expect(page.get_by_role("heading", name="Caisse bloquée")).to_be_visible()
    assert page.url.endswith(f"/tickets/{made['Caisse bloquée']}?box=unassigned")
    counter.click(page.get_by_role("button", name="Me l'attribuer"))
    expect(page.get_by_text("Vous suivez ce ticket")).to_be_visible()
    expect(page.locator("#ws-timeline")).to_contain_text("Fatou Ndiaye")  # the history line, without a reload
    counter.click(page.get_by_role("button", name="Réponses prédéfinies"))
    counter.click(page.get_by_role("option", name="Demande d'informations"))
    expect(page.get_by_label("Message")).to_have_value(lambda_contains("pourriez-vous nous indiquer la version"))
    counter.click(page.get_by_role("button", name="Envoyer et mettre en attente"))
    expect(page.locator("#ws-feedback")).to_have_text("Réponse envoyée, ticket en attente du client.")
    expect(page.locator("#ws-pane-head")).to_contain_text("En attente")
    expect(page.locator("#ws-timeline")).to_contain_text("pourriez-vous nous indiquer la version")
    check_accessibility(page, "workspace with a ticket at 1366 px")
    screenshot(page, "workspace-desktop")

    assert counter.clicks <= 6
    assert counter.page_loads == 0
    state = _state(live_app, made["Caisse bloquée"])
    assert state["assignees"] == [AGENT] and state["category"] == "pending"
    assert "pourriez-vous nous indiquer la version" in state["replies"][0] and "{client}" not in state["replies"][0]

    # Back and forward move between the list and the ticket; a reload shows the same view.
    page.go_back()
    expect(page.locator("#ws-ticket")).to_have_count(0)
    page.go_forward()
    expect(page.get_by_role("heading", name="Caisse bloquée")).to_be_visible()
    assert counter.page_loads == 0
    page.reload()
    expect(page.get_by_role("heading", name="Caisse bloquée")).to_be_visible()
    expect(page.get_by_role("heading", name="Non attribués")).to_be_visible()
    expect(page.locator(".ws-row").first).to_contain_text("Guichet hors ligne")  # taken: it left this view
    page.context.close()


def lambda_contains(text):
    import re

    return re.compile(".*" + re.escape(text) + ".*", re.S)


def test_the_task_by_keyboard_alone(browser, live_server, live_app):
    made = _tickets(live_app)
    page = _agent(browser, live_server, live_app)
    page.goto(f"{live_server}/tickets/?box=unassigned")
    counter = Counter(page)
    counter.reset()
    keys = page.keyboard
    keys.press("?")
    expect(page.get_by_role("dialog", name="Raccourcis clavier")).to_be_visible()
    keys.press("Escape")
    expect(page.get_by_role("dialog", name="Raccourcis clavier")).to_be_hidden()
    keys.press("j")
    expect(page.locator(".ws-row").first.locator(".ws-row-link")).to_be_focused()
    keys.press("j")
    keys.press("k")
    keys.press("o")
    expect(page.get_by_role("heading", name="Caisse bloquée")).to_be_visible()
    keys.press("a")
    expect(page.get_by_text("Vous suivez ce ticket")).to_be_visible()
    keys.press("r")
    expect(page.get_by_label("Message")).to_be_focused()
    keys.type("/inform")  # typed in the field: no shortcut fires, the canned list filters
    expect(page.get_by_role("option", name="Demande d'informations")).to_be_visible()
    keys.press("Enter")
    expect(page.get_by_label("Message")).to_have_value(lambda_contains("pourriez-vous nous indiquer la version"))
    for _ in range(8):
        keys.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Envoyer et mettre en attente":
            break
    keys.press("Enter")
    expect(page.locator("#ws-feedback")).to_have_text("Réponse envoyée, ticket en attente du client.")
    assert counter.clicks == 0 and counter.page_loads == 0
    state = _state(live_app, made["Caisse bloquée"])
    assert state["assignees"] == [AGENT] and state["category"] == "pending"
    assert "Fatou Ndiaye" in state["replies"][0]  # {agent} filled
    page.context.close()


def test_on_a_phone_the_list_then_the_ticket_and_back(browser, live_server, live_app):
    _tickets(live_app)
    page = _agent(browser, live_server, live_app, width=360, height=740)
    page.goto(f"{live_server}/tickets/?box=unassigned")
    assert fits_the_screen(page)
    check_accessibility(page, "workspace at 360 px")
    screenshot(page, "workspace-phone-list")
    page.locator(".ws-row-link").first.click()
    expect(page.get_by_role("heading", name="Caisse bloquée")).to_be_visible()
    expect(page.locator(".ws-queue")).to_be_hidden()
    assert fits_the_screen(page)
    check_accessibility(page, "workspace ticket at 360 px")
    screenshot(page, "workspace-phone-ticket")
    page.get_by_role("link", name="Retour à la liste").click()
    expect(page.locator(".ws-queue")).to_be_visible()
    expect(page.locator("#ws-ticket")).to_have_count(0)
    page.context.close()


def test_drafts_survive_leaving_and_notes_look_different(browser, live_server, live_app):
    made = _tickets(live_app)
    page = _agent(browser, live_server, live_app)
    page.goto(f"{live_server}/tickets/{made['Guichet hors ligne']}")
    page.get_by_label("Note interne").check()
    expect(page.locator("#ws-note-banner")).to_be_visible()
    expect(page.locator("#ws-composer")).to_have_class(lambda_contains("ws-composer-note"))
    expect(page.get_by_role("button", name="Envoyer et résoudre")).to_be_hidden()
    page.get_by_label("Message").fill("Vérifier le journal du guichet 3.")
    page.goto(f"{live_server}/tickets/")
    page.goto(f"{live_server}/tickets/{made['Guichet hors ligne']}")
    expect(page.get_by_label("Message")).to_have_value("Vérifier le journal du guichet 3.")
    expect(page.get_by_label("Note interne")).to_be_checked()
    page.get_by_role("button", name="Ajouter la note").click()
    expect(page.locator("#ws-feedback")).to_have_text("Note interne ajoutée.")
    expect(page.locator("#ws-timeline .ws-message.ws-internal").last).to_contain_text("Vérifier le journal du guichet 3.")
    page.reload()
    expect(page.get_by_label("Message")).to_have_value("")
    page.context.close()


@pytest.mark.parametrize("composing", [False, True])
def test_live_events_refresh_the_row_and_presence_is_told(browser, live_server, live_app, composing):
    """The hooks on desk-live.js's DOM events: a change told by the socket refreshes the row
    and the open ticket; presence is said in words in a polite live region."""
    made = _tickets(live_app)
    page = _agent(browser, live_server, live_app)
    page.goto(f"{live_server}/tickets/{made['Guichet hors ligne']}?box=todo")
    from app.extensions import db
    from app.models import NovaUser, Priority, Ticket
    from app.services import tickets

    with live_app.test_request_context():
        supervisor = db.session.query(NovaUser).filter_by(email="superviseur@novalead.com").one()
        ticket = db.session.get(Ticket, made["Guichet hors ligne"])
        tickets.change_priority(supervisor, ticket, db.session.query(Priority).filter_by(key="low").one().id)
        db.session.commit()
        db.session.remove()
    page.evaluate("id => document.dispatchEvent(new CustomEvent('novadesk:ticket', {detail: {ticket_id: id, change: 'fields'}}))", made["Guichet hors ligne"])
    row = page.locator(f'.ws-row[data-ticket-id="{made["Guichet hors ligne"]}"]')
    expect(row).to_contain_text("Basse")
    expect(page.locator("#ws-pane-head")).to_contain_text("Priorité : Basse")
    page.evaluate(
        "([id, composing]) => document.dispatchEvent(new CustomEvent('novadesk:presence', {detail: {ticket_id: id, viewers: [{id: 99, name: 'Moussa Diop', composing: composing}]}}))",
        [made["Guichet hors ligne"], composing],
    )
    presence = page.locator("#ws-presence")
    expect(presence).to_have_attribute("aria-live", "polite")
    expect(presence).to_have_text("Moussa Diop est en train de répondre" if composing else "Moussa Diop consulte aussi ce ticket")
    page.context.close()


def test_assignees_combobox_adds_without_removing(browser, live_server, live_app):
    """The assignees are chips with a WAI-ARIA combobox: picking one by keyboard adds it, the
    colleague already there stays; removing a chip removes only that one."""
    made = _tickets(live_app)
    page = _agent(browser, live_server, live_app)
    page.goto(f"{live_server}/tickets/{made['Agence de Thiès sans réseau']}")
    chips = page.locator("#ws-assignees .ws-chip")
    expect(chips).to_have_count(1)
    combo = page.get_by_role("combobox", name="Attribué à")
    combo.fill("Fatou")
    expect(combo).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("option", name="Fatou Ndiaye")).to_be_visible()
    combo.press("Enter")
    expect(chips).to_have_count(2)
    expect(page.locator("#ws-feedback")).to_have_text("Attribution mise à jour.")
    state = _state(live_app, made["Agence de Thiès sans réseau"])
    assert state["assignees"] == [AGENT, "agent2@novalead.com"]
    expect(page.locator("#ws-timeline")).to_contain_text("Fatou Ndiaye")
    page.get_by_role("button", name="Retirer Fatou Ndiaye").click()
    expect(chips).to_have_count(1)
    assert _state(live_app, made["Agence de Thiès sans réseau"])["assignees"] == ["agent2@novalead.com"]
    page.context.close()


def test_bulk_assign_then_status_of_twenty_tickets_with_one_refused(browser, live_server, live_app):
    """T9: twenty tickets chosen in the queue are given to a colleague in one action, then set
    to wait for the client in another; the one already resolved (it may only be reopened or
    closed) is refused with the service's reason and listed, the nineteen others change, each
    with its own history line."""
    from app.extensions import db
    from app.models import NovaUser, Organisation, Ticket, TicketEvent, TicketStatus
    from app.services import tickets

    with live_app.test_request_context():
        supervisor = db.session.query(NovaUser).filter_by(email="superviseur@novalead.com").one()
        organisation = db.session.query(Organisation).filter_by(name="Crédit Solidaire du Sahel").one()
        ids = [tickets.create_ticket(supervisor, title=f"Lot de paie {n:02d} rejeté", body="Le virement groupé est refusé.", organisation_id=organisation.id).id
               for n in range(1, 21)]
        waiting = db.session.query(TicketStatus).filter_by(category="pending", active=True).order_by(TicketStatus.position).first()
        resolved = db.session.query(TicketStatus).filter_by(category="resolved", active=True).order_by(TicketStatus.position).first()
        already = db.session.get(Ticket, ids[4])
        tickets.change_status(supervisor, already, resolved.id)
        koffi = db.session.query(NovaUser).filter_by(email="agent1b@novalead.com").one()
        koffi_id, koffi_name, status_id, already_id, already_number, resolved_id = koffi.id, koffi.full_name, waiting.id, already.id, already.number, resolved.id
        db.session.commit()
        db.session.remove()

    page = _agent(browser, live_server, live_app)
    page.goto(f"{live_server}/tickets/?view=all&q=Lot+de+paie")
    counter = Counter(page)
    counter.reset()
    rows = page.locator("#ws-rows .ws-check")
    expect(rows).to_have_count(20)
    for index in range(20):
        rows.nth(index).check()
    expect(page.locator("#ws-bulk-count")).to_have_text("20 tickets sélectionnés")

    page.select_option("#ws-bulk-assign", str(koffi_id))
    result = page.locator("#ws-bulk-result")
    expect(result).to_contain_text("20 ticket(s) modifié(s).")
    expect(result).not_to_contain_text("Refusés")

    expect(page.locator("#ws-rows .ws-check:checked")).to_have_count(0)  # the queue is read again, the selection done with
    expect(rows).to_have_count(20)
    for index in range(20):
        rows.nth(index).check()
    page.select_option("#ws-bulk-status", str(status_id))
    expect(result).to_contain_text("19 ticket(s) modifié(s).")
    expect(result).to_contain_text("Refusés")
    expect(result.locator("li")).to_have_count(1)
    expect(result.locator("li")).to_contain_text(f"{already_number} — Ce changement de statut n'est pas possible.")
    check_accessibility(page, "workspace after a bulk action with a refusal")
    screenshot(page, "workspace-bulk-refused")
    assert counter.page_loads == 0

    with live_app.app_context():
        for ticket_id in ids:
            ticket = db.session.get(Ticket, ticket_id)
            assert [a.full_name for a in ticket.assignees] == [koffi_name]
            assert ticket.status_id == (resolved_id if ticket_id == already_id else status_id)
            lines = db.session.query(TicketEvent).filter(TicketEvent.ticket_id == ticket_id, TicketEvent.field == "status").count()
            # New → in progress (given to Koffi) → waiting; the refused one: its earlier change only.
            assert lines == (1 if ticket_id == already_id else 2)
        db.session.remove()
