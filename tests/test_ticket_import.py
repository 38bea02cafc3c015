"""Import from the previous help desk: JSON and CSV exports with messages and attachments,
original numbers kept, dates kept for the reports, no mail, no duplicates on a second run,
bad rows reported one by one (CLI and admin screen)."""
import base64
import io
import json
import zipfile
from datetime import date

from app.models import Attachment, OutboxMail, SyncRun, Ticket, TicketMessage
from app.services import figures
from tests.conftest import login
from tests.ticket_helpers import png_bytes

CSV = (
    "reference;titre;organisation_id;demandeur;statut;type;priorite;cree_le;resolu_le;auteur;date_message;message;interne;pieces_jointes\n"
    "HD-1;Export comptable bloqué;ERP-0101;client@credit-solidaire.sn;Fermé;Problème technique / incident;haute;05/02/2024 09:15;07/02/2024 16:00;client@credit-solidaire.sn;05/02/2024 09:15;L'export ne part plus.;0;capture.png\n"
    "HD-1;Export comptable bloqué;ERP-0101;client@credit-solidaire.sn;Fermé;;;;;agent1@novalead.com;05/02/2024 10:00;Nous regardons.;0;\n"
    "HD-1;;;;;;;;;agent1@novalead.com;05/02/2024 10:05;Voir le ticket éditeur 77;1;\n"
    "HD-2;Question sur les états BCEAO;;ancien.client@epargneplus.ci;en cours;Formation;urgente;2024-06-10T08:00:00Z;;;;Comment sortir l'état ?;;\n"
    "HD-3;Sans organisation;;inconnu@nulle-part.org;Fermé;;;01/01/2024;;;;Bonjour;;\n"  # unknown organisation
    "HD-4;Statut bizarre;ERP-0101;;Archivé-X;;;01/01/2024;;;;Bonjour;;\n"  # unknown status
    "HD-5;Date fausse;ERP-0101;;Fermé;;;31/02/2024 25:00;;;;Bonjour;;\n"  # bad date
    "HD-6;;ERP-0101;;Fermé;;;01/01/2024;;;;Bonjour;;\n"  # no title
    "HD-7;Pièce jointe perdue;ERP-0101;;Fermé;;;01/01/2024;;;;Bonjour;;perdu.pdf\n"  # missing file
)


def _write_export(tmp_path):
    export = tmp_path / "export.csv"
    export.write_bytes(CSV.encode("cp1252"))
    (tmp_path / "capture.png").write_bytes(png_bytes())
    return export


def _import(app, path, *args):
    return app.test_cli_runner().invoke(args=["novadesk", "import-tickets", str(path), *args])


def test_cli_imports_history_once_and_reports_bad_rows(app, demo, tmp_path):
    export = _write_export(tmp_path)
    dry = _import(app, export, "--dry-run")
    assert "2 ticket(s) would be created" in dry.output and "5 in error" in dry.output
    assert demo.session.query(Ticket).count() == 0
    result = _import(app, export)
    assert result.exit_code == 0, result.output
    for message in ("Organisation introuvable", "Statut inconnu", "Date illisible", "Titre manquant", "Pièce jointe introuvable"):
        assert message in result.output, message
    demo.session.expire_all()
    hd1 = demo.session.query(Ticket).filter_by(external_reference="HD-1").one()
    assert hd1.number.startswith("NL-") and hd1.status.name == "Fermé" and hd1.priority.key == "high"
    assert hd1.requester.email == "client@credit-solidaire.sn" and hd1.organisation.external_id == "ERP-0101"
    assert (hd1.created_on.year, hd1.created_on.month, hd1.created_on.day) == (2024, 2, 5)
    assert hd1.resolved_on.day == 7 and hd1.closed_on is not None
    bodies = [(m.body, m.internal, m.author.email if m.author else m.author_email) for m in sorted(hd1.messages, key=lambda m: m.created_on)]
    assert bodies == [
        ("L'export ne part plus.", False, "client@credit-solidaire.sn"),
        ("Nous regardons.", False, "agent1@novalead.com"),
        ("Voir le ticket éditeur 77", True, "agent1@novalead.com"),
    ]
    attachment = demo.session.query(Attachment).one()
    assert attachment.filename == "capture.png" and attachment.is_image
    hd2 = demo.session.query(Ticket).filter_by(external_reference="HD-2").one()
    assert hd2.requester_id is None and hd2.requester_email == "ancien.client@epargneplus.ci"  # no account: the address kept
    assert hd2.organisation.name == "Fonds Épargne Plus"  # found by the address's domain
    assert hd2.status_category == "open" and hd2.type is None and hd2.priority.key == "urgent"
    # No mail at all for imported history (acknowledgements, assignments, satisfaction).
    assert demo.session.query(OutboxMail).count() == 0
    # Running it again adds nothing.
    again = _import(app, export)
    assert "0 ticket(s) created, 2 already imported" in again.output
    assert demo.session.query(Ticket).count() == 2 and demo.session.query(TicketMessage).count() == 4
    assert [r.created for r in demo.session.query(SyncRun).order_by(SyncRun.id)] == [2, 0]


def test_imported_tickets_count_in_their_own_period(app, demo, tmp_path):
    from app.models import NovaUser

    _import(app, _write_export(tmp_path))
    admin = demo.session.query(NovaUser).filter_by(email="admin@novalead.com").one()
    february = figures.summary(admin, figures.Period(date(2024, 2, 1), date(2024, 2, 29)))
    june = figures.summary(admin, figures.Period(date(2024, 6, 1), date(2024, 6, 30)))
    assert (february.tickets, february.answered, february.resolved) == (1, 1, 1)
    assert february.first_response_minutes == 45  # 09:15 → 10:00, in business hours
    assert (june.tickets, june.resolved) == (1, 0)
    assert figures.summary(admin, figures.Period(date(2024, 3, 1), date(2024, 5, 31))).tickets == 0


def _json_export():
    return {
        "mapping": {"status": {"Terminé": "Fermé"}},
        "tickets": [
            {
                "reference": "OLD-10", "title": "Mot de passe oublié", "organisation": "Baobab Microcrédit",
                "requester_email": "client@baobab-mc.tg", "status": "Terminé", "created_on": "2023-11-02T14:00:00+01:00",
                "messages": [
                    {"body": "Je ne peux plus me connecter.", "created_on": "2023-11-02T14:00:00+01:00",
                     "attachments": [{"filename": "ecran.png", "content_base64": base64.b64encode(png_bytes()).decode()}]},
                    {"author_email": "agent1@novalead.com", "body": "Lien envoyé.", "created_on": "2023-11-02T15:00:00+01:00"},
                ],
            },
            {"reference": "OLD-10", "title": "Doublon", "organisation": "Baobab Microcrédit", "status": "Fermé", "created_on": "2023-11-03", "messages": [{"body": "x"}]},
            {"reference": "OLD-11", "title": "Sans message", "organisation": "Baobab Microcrédit", "status": "Fermé", "created_on": "2023-11-03", "messages": []},
        ],
    }


def test_admin_screen_previews_a_zip_then_imports_it(app, demo):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ancien/export.json", json.dumps(_json_export()))
    client = app.test_client()
    login(client, demo, "admin@novalead.com")
    page = client.post("/ticket-import/preview", data={"file": (io.BytesIO(buffer.getvalue()), "ancien.zip")}, content_type="multipart/form-data").get_data(as_text=True)
    assert "OLD-10" in page and "en double" in page and "Aucun message" in page
    assert demo.session.query(Ticket).count() == 0
    import re

    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    assert client.post("/ticket-import/confirm", data={"token": token}).status_code == 302
    demo.session.expire_all()
    ticket = demo.session.query(Ticket).one()
    assert ticket.external_reference == "OLD-10" and ticket.status.name == "Fermé" and len(ticket.messages) == 2
    assert demo.session.query(Attachment).one().filename == "ecran.png"
    # The staged file is used once: confirming again finds nothing.
    assert client.post("/ticket-import/confirm", data={"token": token}).status_code == 404


def _stored_files(root):
    import os

    return {os.path.join(d, f) for d, _, files in os.walk(root) for f in files}


def test_a_failure_while_writing_leaves_nothing(app, demo, monkeypatch):
    """One transaction: a disk failure in the middle of an import writes no ticket and keeps no file."""
    from app.extensions import db
    from app.services import ticket_import

    content = _json_export()
    content["tickets"][0]["messages"][1]["attachments"] = [{"filename": "b.png", "content_base64": base64.b64encode(png_bytes(32, 32)).decode()}]
    the_plan = ticket_import.plan(ticket_import.read_export_bytes("export.json", json.dumps(content).encode()))
    before = _stored_files(app.config["UPLOAD_FOLDER"])
    original = ticket_import.uploads.store_upload
    calls = []

    def store_then_fail(*args, **kwargs):  # the first file is written, the disk is full for the second
        calls.append(1)
        if len(calls) > 1:
            raise OSError("No space left on device")
        return original(*args, **kwargs)

    monkeypatch.setattr(ticket_import.uploads, "store_upload", store_then_fail)
    try:
        ticket_import.apply(None, the_plan)
    except OSError:
        db.session.rollback()
    assert len(calls) == 2 and db.session.query(Ticket).count() == 0
    assert _stored_files(app.config["UPLOAD_FOLDER"]) == before
