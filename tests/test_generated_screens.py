"""Every generated screen reads as NovaDesk (U1, A5; issue 15).

The walk takes every FAB ModelView the application registered (appbuilder.baseviews, not a
list kept by hand), opens its list, a real record, its add and its edit form as an admin, in
French and in English, and reads the page as a person would (visible text, tooltips, labels).
"""
import re
import uuid
from datetime import date
from html.parser import HTMLParser

import pytest
from flask import url_for
from flask_appbuilder import ModelView

from app.models import (
    ActivityLog,
    BusinessCalendar,
    CannedResponse,
    Holiday,
    InboundMail,
    Mailbox,
    NovaUser,
    Organisation,
    SyncRun,
    SyncSource,
    TicketStatus,
    WebhookDelivery,
    WebhookSubscription,
)
from app.views.generated import GeneratedScreen
from tests.conftest import login

# FAB's own words that used to show through in French pages, and Python's values.
ENGLISH_WORDS = re.compile(
    r"\b(Cancel|OK|Show|Edit|Add|Delete|Save|Back|Search|Record|Records|record|List|Detail|True|False|None"
    r"|Yes|No|Page size|Order by|Add Filter|Added Row|Changed Row|registre|Afficer)\b"
)
ISO_MOMENT = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


class _PageText(HTMLParser):
    """What a person reads or hears on a page: text outside scripts and styles, tooltips,
    accessible names and placeholders."""

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("title", "aria-label", "placeholder", "alt", "data-no-row") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def page_text(html):
    parser = _PageText()
    parser.feed(html)
    return " | ".join(parser.parts)


def _rows_the_demo_lacks(db):
    """One row for each screen the demo data leaves empty, so that every record view opens."""
    from app.services import accounts, api_keys

    calendar = db.session.query(BusinessCalendar).first()
    db.session.add(Holiday(calendar_id=calendar.id, day=date(2026, 12, 25), name="Noël"))
    source = SyncSource(name="Annuaire de l'ERP", kind="file", location="/srv/erp/annuaire.csv")
    db.session.add(source)
    db.session.add(SyncRun(kind="directory", origin="upload", source_label="annuaire.csv", created=3, updated=1))
    accounts.request_account(
        first_name="Adama", last_name="Keïta", email="adama@nouvelle-imf.example", organisation_name="Nouvelle IMF",
        password="Un-mot-de-passe-42", phone=None,
    )
    admin = db.session.query(NovaUser).filter_by(email="admin@novalead.com").one()
    api_keys.issue_api_key(admin, "client@credit-solidaire.sn", "Script de l'ERP")
    db.session.add(Mailbox(name="Support", host="imap.novalead.com", username="support", password="secret"))
    db.session.add(InboundMail(message_key=uuid.uuid4().hex, source="pipe", sender="x@cofina.ci", subject="Question", size=12, raw=b"Subject: Q\r\n\r\nQ"))
    hook = WebhookSubscription(name="CRM", url="https://crm.example/hook", events=["ticket.created"], secret="s" * 40)
    db.session.add(hook)
    db.session.flush()
    db.session.add(WebhookDelivery(subscription_id=hook.id, event="ticket.created", event_id=str(uuid.uuid4()), body="{}"))
    db.session.commit()


def _screens(app):
    """(view, method) for every generated screen an admin can open."""
    found = []
    for view in app.appbuilder.baseviews:
        if not isinstance(view, ModelView):
            continue
        for method in ("list", "show", "add", "edit"):
            if f"{view.endpoint}.{method}" in app.view_functions:
                found.append((view, method))
    return found


def _url(db, view, method):
    if method in ("list", "add"):
        return url_for(f"{view.endpoint}.{method}")
    model = view.datamodel.obj
    row = db.session.query(model).order_by(model.id).first()
    assert row is not None, f"no {model.__name__} to open in {view.__class__.__name__}.{method}: add one to the demo or to _rows_the_demo_lacks"
    return url_for(f"{view.endpoint}.{method}", pk=row.id)


def _activity_codes():
    from app.views.labels import _activity_sentences

    return set(_activity_sentences())


def test_every_generated_screen_reads_as_novadesk(app, demo):
    _rows_the_demo_lacks(demo)
    client = app.test_client()
    login(client, demo, "admin@novalead.com")
    codes = _activity_codes() | {a for (a,) in demo.session.query(ActivityLog.action).distinct()}
    raw_code = re.compile(r"(?<![\w.@/-])(" + "|".join(re.escape(c) for c in sorted(codes, key=len, reverse=True)) + r")(?![\w-])")
    screens = _screens(app)
    assert len(screens) > 40  # every FAB screen, not a handful
    problems = []
    for language in ("fr", "en"):
        client.get(f"/lang/{language}")
        for view, method in screens:
            with app.test_request_context():
                url = _url(demo, view, method)
            response = client.get(url, follow_redirects=True)  # the roles' list and record lead to the permission matrix
            where = f"[{language}] {url}"
            if response.status_code != 200:
                problems.append(f"{where}: status {response.status_code}")
                continue
            html = response.get_data(as_text=True)
            text = page_text(html)
            if f'lang="{language}"' not in html:
                problems.append(f"{where}: not in {language}")
            if len(re.findall(r"<h1[ >]", html)) != 1:
                problems.append(f"{where}: {len(re.findall(r'<h1[ >]', html))} <h1>")
            if re.search(r"<th[^>]*>\s*</th>", html):
                problems.append(f"{where}: an empty table header")
            if language == "fr":
                english = sorted(set(ENGLISH_WORDS.findall(text)))
                if english:
                    problems.append(f"{where}: English words {english}")
            for pattern, what in ((raw_code, "raw code"), (ISO_MOMENT, "ISO timestamp")):
                found = pattern.search(text)
                if found:
                    problems.append(f"{where}: {what} « {text[max(0, found.start() - 40):found.end() + 20]} »")
    assert not problems, "\n".join(problems)


def test_every_generated_screen_shares_novadesk_behaviour(app):
    """A screen added later inherits the unticked booleans and the return after saving."""
    plain = [view.__class__.__name__ for view in app.appbuilder.baseviews if isinstance(view, ModelView) and not isinstance(view, GeneratedScreen)]
    assert plain == ["UnusedGroupView"]  # FAB's user groups: no route at all


def test_confirmation_dialogs_and_row_buttons_speak_french_then_english(app, demo):
    client = app.test_client()
    login(client, demo, "admin@novalead.com")
    page = client.get("/config/canned-responses/list/").get_data(as_text=True)
    assert "Annuler" in page and "Confirmer" in page and ">OK<" not in page and ">Cancel<" not in page
    assert "Afficher la fiche" in page and "Modifier" in page and "Afficer" not in page and "Editer le registre" not in page
    assert '<span class="sr-only">Actions sur la ligne</span>' in page
    client.get("/lang/en")
    page = client.get("/config/canned-responses/list/").get_data(as_text=True)
    assert "Cancel" in page and "Confirm" in page and "View record" in page and "Row actions" in page
    assert "Afficher la fiche" not in page


def test_values_read_as_words(app, demo):
    client = app.test_client()
    login(client, demo, "admin@novalead.com")
    org = demo.session.query(Organisation).filter_by(name="Crédit Solidaire du Sahel").one()
    text = page_text(client.get(f"/organisations/show/{org.id}").get_data(as_text=True))
    assert "Téléphone | —" in text and "Active | Oui" in text and "None" not in text
    assert re.search(r"Créée le \| \d\d/\d\d/\d{4} \d\d:\d\d", text)
    client.get("/lang/en")
    text = page_text(client.get(f"/organisations/show/{org.id}").get_data(as_text=True))
    assert "Active | Yes" in text and "Phone | —" in text


def test_an_unticked_box_saves_no(app, demo):
    """A status and a canned response can be deactivated: the box is not required."""
    client = app.test_client()
    login(client, demo, "admin@novalead.com")
    status = demo.session.query(TicketStatus).filter_by(name="En attente du client").one()
    response = client.post(f"/config/statuses/edit/{status.id}", data={"name": status.name, "category": status.category, "position": status.position})
    assert response.status_code == 302
    canned = demo.session.query(CannedResponse).order_by(CannedResponse.id).first()
    client.post(f"/config/canned-responses/edit/{canned.id}", data={"title": canned.title, "body": canned.body})
    demo.session.expire_all()
    assert status.active is False and canned.active is False
    form = client.get(f"/config/canned-responses/edit/{canned.id}").get_data(as_text=True)
    assert not re.search(r'<input[^>]*id="active"[^>]*required', form)
    # Ticked again, it is active again.
    client.post(f"/config/canned-responses/edit/{canned.id}", data={"title": canned.title, "body": canned.body, "active": "y"})
    demo.session.expire_all()
    assert canned.active is True


def test_after_saving_the_admin_is_back_where_they_came_from(app, demo):
    client = app.test_client()
    login(client, demo, "admin@novalead.com")
    canned = demo.session.query(CannedResponse).order_by(CannedResponse.id).first()
    # From a filtered, sorted list: back to that very list, with the confirmation.
    listing = "/config/canned-responses/list/?_oc_CannedResponseView=title&_od_CannedResponseView=desc"
    client.get(listing)
    client.get(f"/config/canned-responses/edit/{canned.id}")
    response = client.post(f"/config/canned-responses/edit/{canned.id}", data={"title": "Accusé de réception", "body": canned.body, "active": "y"})
    assert response.status_code == 302 and response.headers["Location"].endswith(listing)
    assert "Modifications enregistrées." in client.get(response.headers["Location"]).get_data(as_text=True)
    # From the record: back to the record.
    client.get(f"/config/canned-responses/show/{canned.id}")
    client.get(f"/config/canned-responses/edit/{canned.id}")
    response = client.post(f"/config/canned-responses/edit/{canned.id}", data={"title": "Accusé", "body": canned.body, "active": "y"})
    assert response.headers["Location"].endswith(f"/config/canned-responses/show/{canned.id}")
    # Added from the list: back to the list.
    client.get("/config/canned-responses/list/")
    client.get("/config/canned-responses/add")
    response = client.post("/config/canned-responses/add", data={"title": "Relance", "body": "Bonjour {client}", "active": "y"})
    assert response.headers["Location"].endswith("/config/canned-responses/list/")
    assert "Enregistré." in client.get(response.headers["Location"]).get_data(as_text=True)
    # With no page behind (a bookmarked form): the screen's list, not the home page.
    fresh = app.test_client()
    login(fresh, demo, "admin@novalead.com")
    response = fresh.post(f"/config/canned-responses/edit/{canned.id}", data={"title": "Accusé 2", "body": canned.body, "active": "y"})
    assert response.headers["Location"].endswith("/config/canned-responses/list/")


def test_after_a_list_action_the_admin_is_back_on_the_list(app, demo):
    client = app.test_client()
    login(client, demo, "admin@novalead.com")
    client.get("/")
    listing = "/organisations/list/?_flt_0_name=Baobab"
    client.get(listing)
    org = demo.session.query(Organisation).filter_by(name="Baobab Microcrédit").one()
    response = client.post("/organisations/action_post", data={"action": "deactivate", "rowid": [str(org.id)]})
    assert response.status_code == 302 and response.headers["Location"].endswith(listing)
    assert "Organisations désactivées." in client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_api_page_has_a_title(app, demo):
    client = app.test_client()
    login(client, demo, "admin@novalead.com")
    page = client.get("/swagger/v1").get_data(as_text=True)
    assert re.findall(r"<h1[^>]*>([^<]+)</h1>", page) == ["API de NovaDesk (OpenAPI)"]


def test_favicon_is_served(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file


def test_navbar_drop_downs_are_announced_and_reachable(app, demo):
    client = app.test_client()
    login(client, demo, "admin@novalead.com")
    page = client.get("/config/queues/list/").get_data(as_text=True)
    assert 'aria-haspopup="true"' in page
    assert 'tabindex="-1" href="/config' not in page  # menu entries reachable with Tab


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_new_user_of_an_organisation_gets_its_time_zone(app, demo, language):
    """The admin screen, an approved account request and the directory sync alike."""
    from app.services import accounts, directory_sync

    org = demo.session.query(Organisation).filter_by(name="MicroFinance Horizon").one()
    assert org.timezone == "Africa/Douala"
    client = app.test_client()
    login(client, demo, "admin@novalead.com")
    client_role = app.appbuilder.sm.find_role("Client")
    response = client.post("/users/add", data={
        "first_name": "Paul", "last_name": "Biya", "email": f"paul.{language}@mf-horizon.cm", "organisation": org.id,
        "roles": [client_role.id], "locale": language, "timezone": "", "active": "y", "chat_limit": "3",
        "password": "Un-mot-de-passe-42", "conf_password": "Un-mot-de-passe-42",
    })
    assert response.status_code == 302
    created = demo.session.query(NovaUser).filter_by(email=f"paul.{language}@mf-horizon.cm").one()
    assert created.timezone == "Africa/Douala"
    # An admin may still choose another zone.
    client.post("/users/add", data={
        "first_name": "Anne", "last_name": "Ngo", "email": f"anne.{language}@mf-horizon.cm", "organisation": org.id,
        "roles": [client_role.id], "locale": language, "timezone": "Africa/Lagos", "active": "y", "chat_limit": "3",
        "password": "Un-mot-de-passe-42", "conf_password": "Un-mot-de-passe-42",
    })
    assert demo.session.query(NovaUser).filter_by(email=f"anne.{language}@mf-horizon.cm").one().timezone == "Africa/Lagos"
    # An approved account request.
    admin = demo.session.query(NovaUser).filter_by(email="admin@novalead.com").one()
    request_ = accounts.request_account(first_name="Rose", last_name="Eto", email=f"rose.{language}@mf-horizon.cm", organisation_name="MF Horizon", password="Un-mot-de-passe-42")
    request_.status = "pending"
    user = accounts.approve_account_request(admin, request_, org)
    assert user.timezone == "Africa/Douala"
    # The directory sync from the ERP.
    orgs, contacts = directory_sync.entries_from_json({"contacts": [{
        "external_id": f"C-{language}", "organisation_external_id": org.external_id, "email": f"ali.{language}@mf-horizon.cm",
        "first_name": "Ali", "last_name": "Bello",
    }]})
    directory_sync.sync(admin, orgs, contacts, origin="api", source_label="test")
    assert demo.session.query(NovaUser).filter_by(email=f"ali.{language}@mf-horizon.cm").one().timezone == "Africa/Douala"
    demo.session.rollback()


def test_an_organisation_gets_the_default_zone_and_refuses_an_unknown_one(app, demo):
    client = app.test_client()
    login(client, demo, "admin@novalead.com")
    form = client.get("/organisations/add").get_data(as_text=True)
    assert re.search(r'<option selected value="Europe/Paris">|<option value="Europe/Paris" selected>', form)
    client.post("/organisations/add", data={"name": "IMF Nouvelle", "kind": "client", "email_domains": "imf-nouvelle.ne", "timezone": "Mars/Olympus", "active": "y"})
    assert demo.session.query(Organisation).filter_by(name="IMF Nouvelle").first() is None
    client.post("/organisations/add", data={"name": "IMF Nouvelle", "kind": "client", "email_domains": "imf-nouvelle.ne", "timezone": "Africa/Niamey", "active": "y"})
    assert demo.session.query(Organisation).filter_by(name="IMF Nouvelle").one().timezone == "Africa/Niamey"


def test_unknown_senders_pseudo_organisation_where_it_belongs(app, demo):
    """Offered in the ticket list's filter (agents work through it); never as an audience or
    a wiki of the knowledge base."""
    from app.services import accounts, kb, mail_intake

    holder = mail_intake.unidentified_organisation()
    demo.session.commit()
    client = app.test_client()
    login(client, demo, "agent1@novalead.com")
    assert f'<option value="{holder.id}"' in client.get("/tickets/").get_data(as_text=True)
    client = app.test_client()
    login(client, demo, "admin@novalead.com")
    editor = client.get("/kb/new").get_data(as_text=True)
    assert "Expéditeurs non identifiés" not in editor and "Crédit Solidaire du Sahel" in editor
    category_form = client.get("/kb/categories/add").get_data(as_text=True)
    assert "Expéditeurs non identifiés" not in category_form and "Crédit Solidaire du Sahel" in category_form
    # Nor through the service, whatever the form sent.
    admin = demo.session.query(NovaUser).filter_by(email="admin@novalead.com").one()
    with pytest.raises(kb.ServiceError):
        kb.create_article(admin, title="Wiki", body="Texte", wiki_organisation_id=holder.id)
    demo.session.rollback()
    # Nor as the organisation of a new account.
    request_ = accounts.request_account(first_name="Rose", last_name="Eto", email="rose@nouvelle-imf.example", organisation_name="Nouvelle IMF", password="Un-mot-de-passe-42")
    demo.session.commit()
    assert "Expéditeurs non identifiés" not in client.get(f"/account-requests/edit/{request_.id}").get_data(as_text=True)
    request_.status = "pending"
    with pytest.raises(kb.ServiceError):
        accounts.approve_account_request(admin, request_, holder)
    demo.session.rollback()
    # Partners never see it in their filter.
    partner = app.test_client()
    login(partner, demo, "client@credit-solidaire.sn")
    assert "Expéditeurs non identifiés" not in partner.get("/tickets/").get_data(as_text=True)


def _codes_used_in_the_app():
    """Every activity code the application writes, read from its source: literal codes given to
    audit.record (and to the login failure counter), the audited models' created/updated/deleted,
    and a ticket's arrival in a done category."""
    from pathlib import Path

    from app.models.tickets import StatusCategory
    from app.services.audit import _audited_types

    source = "\n".join(p.read_text() for p in Path("app").rglob("*.py"))
    codes = set(re.findall(r'(?:audit\.record\([^,]+,\s*|_count_failure\([^"]*|else\s+)"([a-z0-9_]+\.[a-z_]+|logout)"', source))
    codes |= set(re.findall(r'"(2fa\.[a-z_]+)"\s+if\b', source))
    codes |= {f"{kind}.{change}" for kind in _audited_types().values() for change in ("created", "updated", "deleted")}
    codes |= {f"ticket.{category}" for category in StatusCategory.DONE}
    return codes


def test_every_activity_code_of_the_app_has_a_sentence():
    codes = _codes_used_in_the_app()
    assert {"ticket.assigned", "login.success", "2fa.failed", "2fa.email_disabled", "logout", "ticket.closed", "role_policy.updated"} <= codes
    assert sorted(codes - _activity_codes()) == []


class _Person:
    def __init__(self, full_name):
        self.full_name = full_name


class _Entry:
    def __init__(self, action, actor=None, subject=None, target_type=None, target_label=None, details=None):
        self.action, self.target_type, self.target_label, self.details = action, target_type, target_label, details
        self.actor = _Person(actor) if actor else None
        self.subject_user = _Person(subject) if subject else None


SENTENCES = [
    (_Entry("ticket.assigned", "Fatou Ndiaye", target_type="Ticket", target_label="NL-000123 Export bloqué", details={"assignees": ["Koffi Mensah"]}),
     "Fatou Ndiaye a attribué NL-000123 à Koffi Mensah", "Fatou Ndiaye assigned NL-000123 to Koffi Mensah"),
    (_Entry("ticket.assigned", "Fatou Ndiaye", target_type="Ticket", target_label="NL-000123 Export bloqué", details={"assignees": []}),
     "Fatou Ndiaye a attribué NL-000123 à personne", "Fatou Ndiaye assigned NL-000123 to nobody"),
    (_Entry("ticket.created", "Ibrahima Fall", target_type="Ticket", target_label="NL-000124 Question", details={"channel": "email"}),
     "Ibrahima Fall a créé NL-000124 (E-mail)", "Ibrahima Fall created NL-000124 (E-mail)"),
    (_Entry("ticket.closed", "Moussa Traoré", target_type="Ticket", target_label="NL-000125 Clôture"),
     "Moussa Traoré a fermé NL-000125", "Moussa Traoré closed NL-000125"),
    (_Entry("ticket.merged", "Fatou Ndiaye", target_type="Ticket", target_label="NL-000126 Doublon", details={"into": "NL-000120"}),
     "Fatou Ndiaye a fusionné NL-000126 dans NL-000120", "Fatou Ndiaye merged NL-000126 into NL-000120"),
    (_Entry("login.success", "Awa Diallo", subject="Awa Diallo", target_type="NovaUser", target_label="Awa Diallo"),
     "Awa Diallo s'est connecté(e)", "Awa Diallo signed in"),
    (_Entry("login.failed", details={"email": "inconnu@exemple.org"}),
     "Échec de connexion pour inconnu@exemple.org", "Failed sign-in for inconnu@exemple.org"),
    (_Entry("role.updated", "Awa Diallo", target_type="Role", target_label="Commercial"),
     "Awa Diallo a modifié le rôle Commercial", "Awa Diallo changed the role Sales representative"),
    (_Entry("role.created", target_type="Role", target_label="Admin"),
     "NovaDesk a créé le rôle Administrateur", "NovaDesk created the role Administrator"),
    (_Entry("organisation.updated", "Awa Diallo", target_type="Organisation", target_label="Baobab Microcrédit"),
     "Awa Diallo a modifié l'organisation Baobab Microcrédit", "Awa Diallo changed the organisation Baobab Microcrédit"),
    (_Entry("api_key.issued", "Awa Diallo", subject="Ibrahima Fall", details={"name": "ERP"}),
     "Awa Diallo a émis la clé d'API « ERP » pour Ibrahima Fall", "Awa Diallo issued the API key “ERP” for Ibrahima Fall"),
    (_Entry("chat.started", details={"conversation": 7}),
     "Une discussion en direct a commencé (n° 7)", "A live chat started (no. 7)"),
    (_Entry("some.future_code", "Awa Diallo"),
     "Awa Diallo : action sans libellé", "Awa Diallo: an action without a description"),
]


@pytest.mark.parametrize(("entry", "french", "english"), SENTENCES, ids=[e.action + str(i) for i, (e, _f, _e) in enumerate(SENTENCES)])
def test_activity_entries_read_as_sentences(app, entry, french, english):
    from flask_babel import force_locale

    from app.views.labels import activity_sentence

    with app.test_request_context():
        assert str(activity_sentence(entry)) == french
        with force_locale("en"):
            assert str(activity_sentence(entry)) == english


def test_every_sentence_renders_in_both_languages(app):
    from flask_babel import force_locale

    from app.views.labels import activity_sentence

    with app.test_request_context():
        for code in sorted(_activity_codes()):
            entry = _Entry(code, "Awa Diallo", subject="Ibrahima Fall", target_type="Ticket", target_label="NL-000001 Titre", details={})
            for language in ("fr", "en"):
                with force_locale(language):
                    sentence = str(activity_sentence(entry))
                assert code not in sentence and "%(" not in sentence and ("Awa Diallo" in sentence or "Ibrahima Fall" in sentence or "NL-000001" in sentence or "n°" in sentence or "no." in sentence), (code, language, sentence)
