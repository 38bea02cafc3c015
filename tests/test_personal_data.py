"""Personal data (A4): export everything held about a person; erase them so that no table,
export or search index keeps their name, e-mail or phone, while the figures stay the same;
retention anonymises old closed tickets through the worker."""
import json
from datetime import date, timedelta

from sqlalchemy import JSON, LargeBinary, String, Text, select

from app.models import ActivityLog, Attachment, NovaUser, Ticket
from app.services import clock, figures
from tests.conftest import login
from tests.ticket_helpers import file_, png_bytes, status

EMAIL = "client@credit-solidaire.sn"
NAME = "Ibrahima Fall"
PHONE = "+221 70 123 45 67"


def _world(app, db):
    """Ibrahima files tickets (with a file), writes by mail, rates, is named in replies, and is
    synced from the ERP; his colleague Khady does the same on her side."""
    from app.channels import mail_in
    from app.services import directory_sync, satisfaction, tickets

    client = db.session.query(NovaUser).filter_by(email=EMAIL).one()
    client.phone = PHONE
    agent = db.session.query(NovaUser).filter_by(email="agent1@novalead.com").one()
    colleague = db.session.query(NovaUser).filter_by(email="comptable@credit-solidaire.sn").one()
    with app.test_request_context():
        first = tickets.create_ticket(client, title=f"Export bloqué pour {NAME}", body=f"Rappelez-moi au {PHONE} ou à {EMAIL}.", files=[("moi.png", file_("moi.png", png_bytes())[0])])
        tickets.add_message(agent, first, "Bonjour Ibrahima Fall, nous appelons le 70 123 45 67.")
        tickets.add_message(agent, first, f"Note : {NAME} est le comptable.", internal=True)
        other = tickets.create_ticket(colleague, title="Question de Khady", body="Rien sur lui.")
        tickets.change_status(agent, first, status("resolved").id)
        satisfaction.rate_ticket(client, first, 5, f"Merci, signé {NAME}")
        orgs, contacts = directory_sync.entries_from_json({"contacts": [{"external_id": "C-77", "organisation_external_id": "ERP-0101", "first_name": "Ibrahima", "last_name": "Fall", "email": EMAIL, "phone": PHONE}]})
        directory_sync.sync(None, orgs, contacts, origin="api", source_label="API")
        db.session.commit()
    raw = (f"From: {NAME} <{EMAIL}>\r\nTo: support@novalead.com\r\nSubject: Relance de {NAME}\r\n"
           f"Message-ID: <relance@credit-solidaire.sn>\r\n\r\nMon numero : {PHONE}\r\n").encode()
    mail_in.ingest(raw)
    db.session.commit()
    return first.id, other.id


def _traces(db, needles):
    """Every (table.column, id) where a text column still holds one of the needles."""
    found = []
    for table in db.metadata.sorted_tables:
        keys = list(table.primary_key.columns)
        for column in table.columns:
            if not isinstance(column.type, (String, Text, JSON, LargeBinary)):
                continue
            for row in db.session.execute(select(*keys, column)).all():
                value = row[-1]
                if value is None:
                    continue
                if isinstance(value, bytes):
                    text = value.decode("utf-8", "replace")
                elif isinstance(value, (dict, list)):
                    text = json.dumps(value, ensure_ascii=False)
                else:
                    text = str(value)
                lowered = text.lower()
                for needle in needles:
                    if needle.lower() in lowered:
                        found.append(f"{table.name}.{column.name} #{row[0]}: {needle}")
    return found


NEEDLES = [EMAIL, NAME, "Fall Ibrahima", "70 123 45 67", "701234567"]


def _figures(db):
    admin = db.session.query(NovaUser).filter_by(email="admin@novalead.com").one()
    period = figures.Period(date(2000, 1, 1), date(2100, 1, 1))
    # Per requester, the figures stay under the same key; only the person's label changes.
    return figures.summary(admin, period).as_dict(), [{**f.as_dict(), "label": None} for f in figures.breakdown(admin, period, "requester")]


def test_export_holds_everything_about_the_person(app, demo):
    _world(app, demo)
    client = app.test_client()
    login(client, demo, "admin@novalead.com")
    page = client.post("/personal-data/person", data={"email": EMAIL}).get_data(as_text=True)
    assert "Tickets et messages" in page and "Courriels reçus et envoyés" in page
    exported = client.post("/personal-data/export", data={"email": EMAIL, "format": "json"})
    assert exported.headers["Content-Disposition"].endswith('.json"')
    data = json.loads(exported.get_data(as_text=True))
    holders = data["holders"]
    assert holders["account"]["data"]["phone"] == PHONE and holders["account"]["data"]["external_id"] == "C-77"
    requested = holders["tickets"]["data"]["requested"]
    assert [t["title"] for t in requested] == [f"Export bloqué pour {NAME}", f"Relance de {NAME}"]  # the second came by mail
    assert all("est le comptable" not in m["body"] for m in requested[0]["messages"])  # internal notes are not theirs
    assert requested[0]["rating"][0]["score"] == 5
    assert holders["files"]["data"][0]["filename"] == "moi.png"
    assert holders["mail"]["data"]["received"][0]["subject"] == f"Relance de {NAME}"
    readable = client.post("/personal-data/export", data={"email": EMAIL, "format": "html"}).get_data(as_text=True)
    assert "Export bloqué pour Ibrahima Fall" in readable and "<table>" in readable
    assert demo.session.query(ActivityLog).filter_by(action="personal_data.exported").count() == 2


def test_erasure_leaves_no_trace_and_the_same_figures(app, demo):
    first_id, other_id = _world(app, demo)
    before = _figures(demo)
    assert _traces(demo, NEEDLES)  # the scan does find him before
    client = app.test_client()
    login(client, demo, "admin@novalead.com")
    refused = client.post("/personal-data/erase", data={"email": EMAIL, "confirm_email": "autre@x.sn", "remove_files": "y"})
    assert "saisissez à nouveau" in refused.get_data(as_text=True)
    assert demo.session.query(NovaUser).filter_by(email=EMAIL).count() == 1
    response = client.post("/personal-data/erase", data={"email": EMAIL, "confirm_email": EMAIL, "remove_files": "y"})
    assert response.status_code == 302
    demo.session.expire_all()
    assert _traces(demo, NEEDLES) == []
    assert _figures(demo) == before
    ticket = demo.session.get(Ticket, first_id)
    assert ticket.requester.active is False and ticket.requester.email.endswith("@anonymised.invalid")
    assert "Personne anonymisée" in ticket.title and len(ticket.messages) == 3
    assert demo.session.query(Attachment).filter_by(ticket_id=first_id).count() == 0
    assert demo.session.get(Ticket, other_id).title == "Question de Khady"  # the colleague keeps hers
    assert demo.session.query(NovaUser).filter_by(email="comptable@credit-solidaire.sn").one().active
    entry = demo.session.query(ActivityLog).filter_by(action="personal_data.erased").one()
    assert entry.actor.email == "admin@novalead.com" and entry.subject_user_id == ticket.requester_id
    # The export of the erased address now holds nothing.
    data = json.loads(client.post("/personal-data/export", data={"email": EMAIL, "format": "json"}).get_data(as_text=True))
    assert data["holders"] == {}
    # The ticket list's search no longer finds him.
    page = client.get("/tickets/?q=Ibrahima").get_data(as_text=True)
    assert "Export bloqué" not in page


def test_a_holder_registered_by_another_module_is_called(app, demo):
    from app.services import personal_data

    calls = []
    personal_data.register(personal_data.Holder(
        "chat_test", "Conversations", lambda person: [{"said": "bonjour"}], lambda person, pseudonym, scrub: calls.append(pseudonym) or 1,
    ))
    try:
        person = personal_data.find_person(EMAIL)
        assert personal_data.export(person)["holders"]["chat_test"]["data"] == [{"said": "bonjour"}]
        counts = personal_data.erase(None, person)
        assert counts["chat_test"] == 1 and calls[0].endswith("@anonymised.invalid")
    finally:
        personal_data.HOLDERS[:] = [h for h in personal_data.HOLDERS if h.name != "chat_test"]


def test_retention_anonymises_old_closed_tickets_only(app, demo):
    from app.extensions import db
    from app.services import personal_data, tickets
    from app.worker import run_once

    first_id, other_id = _world(app, demo)
    agent = db.session.query(NovaUser).filter_by(email="agent1@novalead.com").one()
    with app.test_request_context():
        tickets.change_status(agent, db.session.get(Ticket, first_id), status("closed").id)
        db.session.commit()
    before = _figures(demo)
    app.config["PERSONAL_DATA_RETENTION_YEARS"] = 2
    try:
        assert personal_data.apply_retention(force=True) == 0  # closed today: kept
        db.session.get(Ticket, first_id).closed_on = clock.now() - timedelta(days=3 * 366)
        db.session.commit()
        personal_data._last_retention["at"] = None
        run_once(app)  # the worker's pass
    finally:
        app.config["PERSONAL_DATA_RETENTION_YEARS"] = 0
    demo.session.expire_all()
    old = demo.session.get(Ticket, first_id)
    assert old.anonymised_on is not None and NAME not in old.title
    assert all(NAME not in m.body and "70 123 45 67" not in m.body for m in old.messages)
    assert demo.session.query(NovaUser).filter_by(email=EMAIL).one().active  # the account stays
    assert demo.session.get(Ticket, other_id).anonymised_on is None
    assert _figures(demo) == before
