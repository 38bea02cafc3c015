"""Mail in (T10): a corpus of real-world messages, threading, unknown senders, loops and
noise, floods, oversized and broken mail, and the pipe command. Every message is recorded
whatever becomes of it."""
from datetime import timedelta
from pathlib import Path

import pytest

from app.channels import mail_in
from app.models import (
    Attachment,
    InboundMail,
    InboundStatus,
    OutboxMail,
    StatusCategory,
    Ticket,
    TicketEvent,
    TicketLink,
    TicketMessage,
    TicketStatus,
)
from app.services import clock, mailboxes, tickets
from tests.conftest import login
from tests.ticket_helpers import org, status, user

CORPUS = Path(__file__).parent / "mail_corpus"
CLIENT = "client@credit-solidaire.sn"


@pytest.fixture
def first_ticket(demo):
    """NL-000001, filed on the web by Ibrahima Fall of Crédit Solidaire du Sahel."""
    ticket = tickets.create_ticket(user(CLIENT), title="Impression des reçus", body="Les reçus ne s'impriment plus.")
    demo.session.commit()
    assert ticket.number == "NL-000001"
    return ticket


def ingest(name_or_bytes):
    raw = name_or_bytes if isinstance(name_or_bytes, bytes) else (CORPUS / name_or_bytes).read_bytes()
    line = mail_in.ingest(raw)
    from app.extensions import db

    db.session.expire_all()
    row = db.session.query(InboundMail).order_by(InboundMail.id.desc()).first()
    return row, line


def body_of(ticket):
    return next(m for m in sorted(ticket.messages, key=lambda m: m.id)).body


def mails_to(db, recipient):
    db.session.expire_all()
    return db.session.query(OutboxMail).filter_by(recipient=recipient).order_by(OutboxMail.id).all()


# --- the corpus: each message with the outcome a person would expect ---------------------


def test_latin1_mail_from_a_known_user_opens_a_ticket_for_them(first_ticket, demo):
    row, line = ingest("01-latin1-quoted-printable.eml")
    assert row.status == InboundStatus.PROCESSED and "NL-000002 créé pour Crédit Solidaire du Sahel" in line
    ticket = row.ticket
    assert ticket.title == "Arrêté de caisse impossible à valider"
    assert ticket.requester.email == CLIENT and ticket.channel == "email" and ticket.type is None
    assert "l'arrêté de caisse de l'agence de Thiès refuse d'être validé" in body_of(ticket)
    assert "Responsable informatique" not in body_of(ticket)  # signature trimmed, kept in the original
    assert b"Responsable informatique" in demo.session.get(InboundMail, row.id).raw
    acknowledgement = mails_to(demo, CLIENT)[-1]
    assert acknowledgement.subject.startswith("[NL-000002] Demande reçue")
    assert acknowledgement.ticket_id == ticket.id and acknowledgement.references_header.startswith("<ticket-2@")


def test_windows1252_mail_from_an_unknown_person_of_a_known_domain(first_ticket, demo):
    row, _ = ingest("02-windows1252-8bit-domain-sender.eml")
    ticket = row.ticket
    assert ticket.organisation.name == "Crédit Solidaire du Sahel"
    assert ticket.requester is None and ticket.requester_email == "m.ba@credit-solidaire.sn"
    assert ticket.title == "Export des créances douteuses"
    assert "« douteuses »" in body_of(ticket) and "« Accès refusé »" in body_of(ticket)
    assert mails_to(demo, "m.ba@credit-solidaire.sn")[-1].subject.startswith("[NL-000002]")


def test_html_only_mail_is_read_as_text_and_nothing_of_its_markup_survives(first_ticket, demo):
    row, _ = ingest("03-html-only-base64.eml")
    body = body_of(row.ticket)
    assert "tableau de bord" in body and "négatifs" in body
    for dangerous in ("<script", "alert", "<b>", "onerror", "tracker.example"):
        assert dangerous not in body
    assert row.ticket.title == "Montants négatifs sur le tableau de bord"


def test_inline_image_and_attachment_are_kept_as_attachments(first_ticket, demo):
    row, _ = ingest("04-gmail-inline-image-and-pdf.eml")
    files = {a.filename: a for a in demo.session.query(Attachment).filter_by(ticket_id=row.ticket_id)}
    assert set(files) == {"erreur.png", "échéancier.pdf"}
    assert files["erreur.png"].is_image
    assert "remboursement anticipé" in body_of(row.ticket)


def test_gmail_reply_in_french_lands_in_its_ticket_without_the_quoted_history(first_ticket, demo):
    row, line = ingest("05-gmail-reply-fr.eml")
    assert row.ticket_id == first_ticket.id and "NL-000001 : réponse ajoutée" in line
    reply = demo.session.query(TicketMessage).filter_by(source_mail_id=row.id).one()
    assert reply.body == "Merci, le redémarrage du service d'impression a réglé le problème."
    assert reply.author.email == CLIENT and reply.channel == "email"


def test_outlook_reply_from_a_colleague_of_the_same_organisation(first_ticket, demo):
    row, _ = ingest("06-outlook-reply-fr.eml")
    assert row.ticket_id == first_ticket.id
    reply = demo.session.query(TicketMessage).filter_by(source_mail_id=row.id).one()
    assert "l'impression fonctionne de nouveau à l'agence de Mbour" in reply.body
    for quoted in ("Envoyé :", "Bonjour Khady", "Répondez au-dessus"):
        assert quoted not in reply.body
    assert reply.author.email == "comptable@credit-solidaire.sn"


@pytest.mark.parametrize(
    "name, reason",
    [
        ("07-out-of-office.eml", "auto_reply"),
        ("08-vacation-x-autoreply.eml", "auto_reply"),
        ("10-mailing-list.eml", "list"),
        ("14-own-notification-looped.eml", "own_mail"),
        ("16-read-receipt.eml", "receipt"),
    ],
)
def test_robots_lists_and_our_own_mail_are_kept_aside_and_never_answered(first_ticket, demo, name, reason):
    before_tickets = demo.session.query(Ticket).count()
    before_mail = demo.session.query(OutboxMail).count()
    before_messages = demo.session.query(TicketMessage).count()
    row, line = ingest(name)
    assert (row.status, row.reason) == (InboundStatus.IGNORED, reason)
    assert line.startswith("Écarté")
    assert demo.session.query(Ticket).count() == before_tickets
    assert demo.session.query(TicketMessage).count() == before_messages
    assert demo.session.query(OutboxMail).count() == before_mail  # no automatic answer


def test_bounce_marks_the_mail_and_the_ticket_address_as_failing(first_ticket, demo):
    demo.session.add(
        OutboxMail(kind="agent_reply", recipient="ancien.employe@credit-solidaire.sn", subject="[NL-000001] Nouvelle réponse", body_text="…", status="sent", message_id="<nd-1-bouncebouncebounc@novadesk.local>", ticket_id=first_ticket.id)
    )
    demo.session.commit()
    before_mail = demo.session.query(OutboxMail).count()
    row, line = ingest("09-bounce-dsn.eml")
    assert (row.status, row.reason) == (InboundStatus.IGNORED, "bounce")
    assert "ancien.employe@credit-solidaire.sn est en échec (ticket NL-000001)" in line
    sent = demo.session.query(OutboxMail).filter_by(message_id="<nd-1-bouncebouncebounc@novadesk.local>").one()
    assert sent.bounced_on is not None and "User unknown" in sent.bounce_reason
    event = demo.session.query(TicketEvent).filter_by(ticket_id=first_ticket.id, action="mail_bounced").one()
    assert event.internal and "ancien.employe@credit-solidaire.sn" in event.new_value
    assert demo.session.query(OutboxMail).count() == before_mail


def test_broken_mime_and_unknown_charset_still_make_a_ticket(first_ticket, demo):
    row, _ = ingest("11-broken-mime-unknown-charset.eml")
    assert row.status == InboundStatus.PROCESSED
    ticket = row.ticket
    assert ticket.organisation.name == "Caisse Populaire de l'Avenir" and ticket.title == "Relevé de compte illisible"
    assert "Le relevé de compte du client 4411" in body_of(ticket)
    refused = demo.session.query(TicketEvent).filter_by(ticket_id=ticket.id, action="attachment_refused").one()
    assert "releve.bin" in refused.new_value and refused.internal


def test_8bit_headers_from_an_unknown_sender_give_an_unidentified_ticket(first_ticket, demo):
    row, line = ingest("12-8bit-headers-unknown-sender.eml")
    ticket = row.ticket
    assert ticket.title == "Demande de démonstration du module épargne"
    assert ticket.organisation.holds_unidentified and ticket.requester_email == "aminata@nouvelle-caisse.example"
    assert "expéditeur non identifié" in line


def test_forwarded_message_is_read_into_the_ticket(first_ticket, demo):
    row, _ = ingest("13-forwarded-as-attachment.eml")
    body = body_of(row.ticket)
    assert "Je vous transfère le message" in body and "code E-204" in body and "Agence Parakou" in body


def test_apple_mail_reply_in_english_threads_on_in_reply_to(first_ticket, demo):
    row, _ = ingest("15-apple-mail-reply-en.eml")
    assert row.ticket_id == first_ticket.id
    reply = demo.session.query(TicketMessage).filter_by(source_mail_id=row.id).one()
    assert reply.body == "It happened again this afternoon at the Thies branch."


def test_disguised_attachment_is_refused_and_the_ticket_still_made(first_ticket, demo):
    row, _ = ingest("17-disguised-attachment.eml")
    assert demo.session.query(Attachment).filter_by(ticket_id=row.ticket_id).count() == 0
    event = demo.session.query(TicketEvent).filter_by(ticket_id=row.ticket_id, action="attachment_refused").one()
    assert "facture.pdf" in event.new_value


def test_a_forged_sender_neither_speaks_for_the_account_nor_enters_its_ticket(first_ticket, demo):
    row, line = ingest("19-dmarc-fail-forged-sender.eml")
    assert row.reason == "forged" and "DMARC" in line
    assert row.ticket_id != first_ticket.id and len(first_ticket.messages) == 1
    assert row.ticket.organisation.holds_unidentified and row.ticket.requester is None
    assert [m.kind for m in mails_to(demo, CLIENT)] == ["ticket_created"]  # only the real one's


def test_mail_without_sender_is_kept_as_unprocessable(first_ticket, demo):
    row, line = ingest("18-no-sender.eml")
    assert (row.status, row.reason) == (InboundStatus.FAILED, "no_sender")
    assert "illisible" in line and row.raw.startswith(b"To: support@novadesk.local")


# --- exactly once ------------------------------------------------------------------------


def test_the_same_message_twice_makes_one_ticket(first_ticket, demo):
    ingest("01-latin1-quoted-printable.eml")
    row, line = ingest("01-latin1-quoted-printable.eml")
    assert line.startswith("Déjà reçu")
    assert demo.session.query(Ticket).count() == 2
    assert demo.session.query(InboundMail).count() == 1


def test_a_claimed_message_is_not_processed_again(first_ticket, demo):
    row, _ = mail_in.record((CORPUS / "01-latin1-quoted-printable.eml").read_bytes())
    assert mail_in.process(row.id) is not None
    assert mail_in.process(row.id) is None  # a second worker finds nothing to claim
    assert mail_in.process_pending() == 0
    assert demo.session.query(Ticket).count() == 2


def test_a_failure_is_kept_with_its_error_and_retried_after_a_fix(first_ticket, demo):
    new_statuses = demo.session.query(TicketStatus).filter_by(category=StatusCategory.NEW).all()
    for s in new_statuses:
        s.active = False  # an admin's mistake: no status to open tickets with
    demo.session.commit()
    row, line = ingest("01-latin1-quoted-printable.eml")
    assert row.status == InboundStatus.FAILED and "Aucun statut actif" in line and row.error
    assert demo.session.query(Ticket).count() == 1
    for s in new_statuses:
        s.active = True
    assert mailboxes.retry_inbound(user("admin@novalead.com"), [row]) == 1
    demo.session.commit()
    assert mail_in.process_pending() == 1
    demo.session.expire_all()
    assert demo.session.get(InboundMail, row.id).status == InboundStatus.PROCESSED
    assert demo.session.query(Ticket).count() == 2


def test_one_message_failing_in_a_batch_leaves_the_others_done(first_ticket, demo):
    """Messages are processed several per transaction, each all or nothing: the one the
    database refuses half-way (its ticket written, then its first message refused by a
    trigger) is kept with its error and leaves nothing behind; the reply before it and the new
    request after it are written, in the same pass."""
    from sqlalchemy import text

    reply, _ = mail_in.record(reply_mail(CLIENT, "Re: [NL-000001]", "Toujours bloqué.", "<b1@credit-solidaire.sn>"))
    broken, _ = mail_in.record(reply_mail(CLIENT, "Nouvelle demande", "Le journal de caisse est faux.", "<b2@credit-solidaire.sn>"))
    fine, _ = mail_in.record(reply_mail("client@epargneplus.ci", "Virements", "Les virements sont refusés.", "<b3@epargneplus.ci>"))
    ids = [reply.id, broken.id, fine.id]
    postgres = demo.engine.dialect.name == "postgresql"
    with demo.engine.begin() as connection:
        if postgres:
            connection.execute(text(
                "CREATE FUNCTION refuse_message() RETURNS trigger AS $$ BEGIN "
                "IF NEW.body LIKE '%journal de caisse est faux%' THEN RAISE EXCEPTION 'disque plein'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            ))
            connection.execute(text("CREATE TRIGGER refuse_message BEFORE INSERT ON ticket_message FOR EACH ROW EXECUTE FUNCTION refuse_message()"))
        else:
            connection.execute(text(
                "CREATE TRIGGER refuse_message BEFORE INSERT ON ticket_message WHEN NEW.body LIKE '%journal de caisse est faux%' "
                "BEGIN SELECT RAISE(ABORT, 'disque plein'); END"
            ))
    try:
        assert len(mail_in.process_batch(ids)) == 3
    finally:
        demo.session.rollback()
        with demo.engine.begin() as connection:
            connection.execute(text("DROP TRIGGER refuse_message" + (" ON ticket_message" if postgres else "")))
            if postgres:
                connection.execute(text("DROP FUNCTION refuse_message()"))
    demo.session.expire_all()
    rows = {r.id: r for r in demo.session.query(InboundMail).filter(InboundMail.id.in_(ids))}
    assert rows[reply.id].ticket_id == first_ticket.id and rows[reply.id].status == InboundStatus.PROCESSED
    assert rows[broken.id].status == InboundStatus.FAILED and "disque plein" in rows[broken.id].error and rows[broken.id].ticket_id is None
    assert rows[fine.id].status == InboundStatus.PROCESSED and rows[fine.id].ticket.organisation.name == "Fonds Épargne Plus"
    assert demo.session.query(Ticket).count() == 2  # the broken one's ticket was undone with it
    assert demo.session.query(TicketMessage).filter(TicketMessage.source_mail_id.in_(ids)).count() == 2
    assert mail_in.process_pending() == 0  # nothing left half done


# --- threading rules -------------------------------------------------------------------


def reply_mail(sender, subject, body, message_id, in_reply_to=None):
    headers = f"From: {sender}\r\nTo: support@novadesk.local\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
    if in_reply_to:
        headers += f"In-Reply-To: {in_reply_to}\r\n"
    return (headers + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n").encode()


def test_a_stranger_quoting_a_reference_opens_a_ticket_of_their_own(first_ticket, demo):
    row, _ = ingest(reply_mail("client@epargneplus.ci", "Re: [NL-000001] Impression", "Nous aussi !", "<x1@epargneplus.ci>"))
    assert row.ticket_id != first_ticket.id
    assert row.ticket.organisation.name == "Fonds Épargne Plus"
    assert len(first_ticket.messages) == 1


def test_a_colleague_without_an_account_at_the_clients_domain_adds_to_the_ticket(first_ticket, demo):
    row, _ = ingest(reply_mail("tresorier@credit-solidaire.sn", "Re: [NL-000001]", "Même souci à la trésorerie.", "<x7@credit-solidaire.sn>"))
    assert row.ticket_id == first_ticket.id
    reply = demo.session.query(TicketMessage).filter_by(source_mail_id=row.id).one()
    assert reply.author is None and reply.author_email == "tresorier@credit-solidaire.sn"


def test_reply_by_the_message_id_of_a_notification(first_ticket, demo):
    notification = mails_to(demo, CLIENT)[-1]
    row, _ = ingest(reply_mail(CLIENT, "Re: votre demande", "Voici le numéro de l'agence : 12.", "<x2@credit-solidaire.sn>", notification.message_id))
    assert row.ticket_id == first_ticket.id


def test_reply_to_a_resolved_ticket_reopens_it(first_ticket, demo):
    agent = user("agent1@novalead.com")
    tickets.change_status(agent, first_ticket, status(StatusCategory.RESOLVED).id)
    demo.session.commit()
    row, line = ingest(reply_mail(CLIENT, "Re: [NL-000001]", "Le problème est revenu.", "<x3@credit-solidaire.sn>"))
    assert row.ticket_id == first_ticket.id and "rouvert" in line
    assert demo.session.get(Ticket, first_ticket.id).status_category == StatusCategory.OPEN


def test_reply_to_a_closed_ticket_reopens_it_within_the_period_then_opens_a_linked_one(first_ticket, demo, app):
    agent = user("agent1@novalead.com")
    tickets.change_status(agent, first_ticket, status(StatusCategory.CLOSED).id)
    demo.session.commit()
    row, _ = ingest(reply_mail(CLIENT, "Re: [NL-000001]", "Encore une question.", "<x4@credit-solidaire.sn>"))
    assert row.ticket_id == first_ticket.id
    assert demo.session.get(Ticket, first_ticket.id).status_category == StatusCategory.OPEN

    tickets.change_status(agent, first_ticket, status(StatusCategory.CLOSED).id)
    demo.session.commit()
    later = clock.now() + timedelta(days=app.config["MAIL_REOPEN_DAYS"] + 1)
    with clock.frozen(later):
        row, line = ingest(reply_mail(CLIENT, "Re: [NL-000001]", "Trois semaines plus tard, même souci.", "<x5@credit-solidaire.sn>"))
    assert row.ticket_id != first_ticket.id and "suite du ticket fermé NL-000001" in line
    assert demo.session.get(Ticket, first_ticket.id).status_category == StatusCategory.CLOSED
    assert demo.session.query(TicketLink).filter_by(ticket_id=row.ticket_id, linked_id=first_ticket.id).count() == 1


def test_reply_to_a_merged_ticket_lands_in_the_one_it_was_merged_into(first_ticket, demo):
    from app.services import ticket_links

    agent = user("agent1@novalead.com")
    second = tickets.create_ticket(user(CLIENT), title="Doublon", body="Même problème d'impression.")
    demo.session.flush()
    ticket_links.merge(agent, second, first_ticket.number)
    demo.session.commit()
    row, _ = ingest(reply_mail(CLIENT, f"Re: [{second.number}]", "Toujours bloqué.", "<x6@credit-solidaire.sn>"))
    assert row.ticket_id == first_ticket.id


# --- unknown senders ---------------------------------------------------------------------


def test_unidentified_tickets_are_attached_to_their_client_with_the_same_address_others(first_ticket, demo, client):
    ingest(reply_mail("aminata@nouvelle-caisse.example", "Démonstration", "Une démo ?", "<u1@nouvelle-caisse.example>"))
    row, _ = ingest(reply_mail("aminata@nouvelle-caisse.example", "Tarifs", "Et les tarifs ?", "<u2@nouvelle-caisse.example>"))
    unidentified = row.ticket.organisation
    assert unidentified.holds_unidentified

    # A client of another organisation never sees them; a commercial does, to help attach them.
    login(client, demo, CLIENT)
    assert client.get(f"/tickets/{row.ticket_id}").status_code == 404
    client.post("/logout/")
    login(client, demo, "commercial1@novalead.com")
    page = client.get(f"/tickets/{row.ticket_id}")
    assert page.status_code == 200 and "Rattacher l'expéditeur" in page.get_data(as_text=True)
    assert "Rattacher aussi l'autre ticket non identifié" in page.get_data(as_text=True)
    target = org("Fonds Épargne Plus")
    response = client.post(f"/tickets/{row.ticket_id}/identify", data={"organisation": target.id, "include_others": "1"})
    assert response.status_code == 302
    demo.session.expire_all()
    moved = demo.session.query(Ticket).filter_by(requester_email="aminata@nouvelle-caisse.example").all()
    assert len(moved) == 2 and {t.organisation.name for t in moved} == {"Fonds Épargne Plus"}
    assert demo.session.query(TicketEvent).filter_by(action="identified").count() == 2


def test_identifying_attaches_the_persons_account_when_there_is_one(first_ticket, demo):
    row, _ = ingest(reply_mail("comptable@credit-solidaire.sn", "Question", "Bonjour", "<u3@x>"))
    assert row.ticket.requester.email == "comptable@credit-solidaire.sn"  # known: no identification needed
    agent = user("agent1@novalead.com")
    with pytest.raises(Exception):
        tickets.identify_requester(agent, row.ticket, org("Fonds Épargne Plus").id)


# --- floods and size ---------------------------------------------------------------------


def test_a_flood_from_one_sender_is_kept_aside(first_ticket, demo, app):
    app.config["MAIL_FLOOD_PER_HOUR"] = 3
    try:
        rows = [ingest(reply_mail("client@mf-horizon.cm", f"Message {i}", "Bonjour", f"<flood-{i}@mf-horizon.cm>"))[0] for i in range(5)]
    finally:
        app.config["MAIL_FLOOD_PER_HOUR"] = 30
    assert [r.status for r in rows] == [InboundStatus.PROCESSED] * 3 + [InboundStatus.IGNORED] * 2
    assert {r.reason for r in rows[3:]} == {"flood"}
    # an admin decides it was legitimate: the kept messages are processed
    mailboxes.retry_inbound(user("admin@novalead.com"), rows[3:])
    demo.session.commit()
    assert mail_in.process_pending() == 2


def test_an_oversized_message_is_kept_and_the_sender_told(first_ticket, demo, app):
    app.config["MAIL_MAX_MESSAGE_MB"] = 0
    try:
        row, line = ingest(reply_mail(CLIENT, "Gros fichier", "Voir pièce jointe", "<big@credit-solidaire.sn>"))
    finally:
        app.config["MAIL_MAX_MESSAGE_MB"] = 30
    assert (row.status, row.reason) == (InboundStatus.IGNORED, "too_large")
    assert demo.session.query(Ticket).count() == 1
    refusal = mails_to(demo, CLIENT)[-1]
    assert refusal.kind == "mail_refused" and "Gros fichier" in refusal.subject


# --- the pipe command ----------------------------------------------------------------------


def test_pipe_command_records_processes_and_says_what_happened(first_ticket, demo, app):
    runner = app.test_cli_runner()
    raw = (CORPUS / "01-latin1-quoted-printable.eml").read_bytes()
    result = runner.invoke(args=["mail", "ingest"], input=raw)
    assert result.exit_code == 0, result.output
    assert "Ticket NL-000002 créé pour Crédit Solidaire du Sahel" in result.output
    again = runner.invoke(args=["mail", "ingest"], input=raw)
    assert again.exit_code == 0 and "Déjà reçu" in again.output
    noise = runner.invoke(args=["mail", "ingest"], input=(CORPUS / "07-out-of-office.eml").read_bytes())
    assert noise.exit_code == 0 and "réponse automatique" in noise.output
    empty = runner.invoke(args=["mail", "ingest"], input=b"")
    assert empty.exit_code == 75  # nothing stored: the mail server keeps the message


# --- the admin screens ---------------------------------------------------------------------


def test_admin_sees_received_mail_downloads_the_original_and_retries(first_ticket, demo, client):
    row, _ = ingest("18-no-sender.eml")
    login(client, demo, "admin@novalead.com")
    listing = client.get("/mail/received/list/").get_data(as_text=True)
    assert "Message sans expéditeur" in listing and "Non traitable" in listing
    raw = client.get(f"/mail/received/{row.id}/raw")
    assert raw.status_code == 200 and raw.mimetype == "message/rfc822" and raw.data == row.raw
    response = client.post("/mail/received/action_post", data={"action": "retry", "rowid": [row.id]})
    assert response.status_code == 302
    demo.session.expire_all()
    assert demo.session.get(InboundMail, row.id).status == InboundStatus.RECEIVED


def test_staff_download_the_original_mail_behind_a_message_partners_do_not(first_ticket, demo, client):
    row, _ = ingest("05-gmail-reply-fr.eml")
    message = demo.session.query(TicketMessage).filter_by(source_mail_id=row.id).one()
    login(client, demo, "agent1@novalead.com")
    assert client.get(f"/tickets/messages/{message.id}/original").data == row.raw
    client.post("/logout/")
    login(client, demo, CLIENT)
    assert client.get(f"/tickets/messages/{message.id}/original").status_code in (302, 403, 404)


# --- found in review ---------------------------------------------------------------------


def test_partners_never_see_unknown_senders_mail_even_when_attached_to_its_holder(first_ticket, demo):
    from app.security import scopes
    from app.services.mail_intake import unidentified_organisation

    row, _ = ingest(reply_mail("inconnu@ailleurs.example", "Secret", "Contenu", "<r1@ailleurs.example>"))
    holder = unidentified_organisation()
    intruder = user("comptable@credit-solidaire.sn")
    intruder.organisation = holder  # an admin's slip: a partner account attached to the holder
    demo.session.commit()
    visible = demo.session.query(Ticket).filter(scopes.tickets_filter(intruder)).all()
    assert row.ticket_id not in {t.id for t in visible}


def test_an_organisation_named_like_the_holder_is_never_adopted(demo):
    from app.models import Organisation
    from app.services.mail_intake import UNIDENTIFIED_NAME

    namesake = Organisation(name=UNIDENTIFIED_NAME, kind="client", email_domains="")
    demo.session.add(namesake)
    demo.session.commit()
    row, _ = ingest(reply_mail("inconnu@ailleurs.example", "Bonjour", "Contenu", "<r2@ailleurs.example>"))
    assert row.ticket.organisation.holds_unidentified and row.ticket.organisation_id != namesake.id
    assert not demo.session.get(Organisation, namesake.id).holds_unidentified


def test_control_characters_in_a_subject_never_reach_the_ticket(first_ticket, demo):
    row, _ = ingest(reply_mail(CLIENT, "=?utf-8?q?Bonjour=1Bx_=07sonne?=", "Texte\x1b avec\tun échappement", "<r3@credit-solidaire.sn>"))
    assert row.ticket.title == "Bonjourx sonne"
    assert "\x1b" not in body_of(row.ticket) and "\t" in body_of(row.ticket)
