"""The holders of the ticket desk, mail, audit log and knowledge base: what each exports and erases."""
import re

from sqlalchemy import Text, or_

from app.extensions import db
from app.models import (
    AccountRequest,
    ActivityLog,
    EmailCode,
    InboundMail,
    KbArticle,
    KbArticleVersion,
    OutboxMail,
    RecoveryCode,
    SatisfactionRating,
    Ticket,
    TicketEvent,
    TicketMessage,
)
from app.services import events, search
from app.services.personal_data.common import Holder, _iso, _mentions, register

# --- the account ------------------------------------------------------------------------------


def _export_account(person):
    user = person.user
    if user is None:
        return None
    return {
        "first_name": user.first_name, "last_name": user.last_name, "email": user.email, "phone": user.phone,
        "organisation": user.organisation.name if user.organisation else None, "roles": sorted(user.role_names),
        "external_id": user.external_id, "locale": user.locale, "timezone": user.timezone, "active": user.active,
        "created_on": _iso(user.created_on), "last_login": _iso(user.last_login), "login_count": user.login_count,
        "two_factor": "totp" if user.totp_enabled else ("email" if user.two_factor_email else "none"),
    }


def _erase_account(person, pseudonym, scrub):
    user = person.user
    if user is None:
        return 0
    user.first_name, user.last_name = "Personne", "anonymisée"
    user.email = user.username = pseudonym
    user.phone = None
    user.external_id = None
    user.active = False
    user.password = None
    user.totp_secret, user.totp_enabled = None, False
    db.session.query(EmailCode).filter(EmailCode.user_id == user.id).delete(synchronize_session=False)
    db.session.query(RecoveryCode).filter(RecoveryCode.user_id == user.id).delete(synchronize_session=False)
    return 1


def _export_account_requests(person):
    rows = db.session.query(AccountRequest).filter(AccountRequest.email == person.email).all()
    return [{
        "first_name": r.first_name, "last_name": r.last_name, "email": r.email, "phone": r.phone,
        "organisation_name": r.organisation_name, "message": r.message, "status": r.status, "created_on": _iso(r.created_on),
    } for r in rows] or None


def _erase_account_requests(person, pseudonym, scrub):
    rows = db.session.query(AccountRequest).filter(AccountRequest.email == person.email).all()
    for r in rows:
        r.first_name, r.last_name, r.email, r.phone = "Personne", "anonymisée", pseudonym, None
        r.message = scrub(r.message)
    return len(rows)


# --- tickets, messages, files -------------------------------------------------------------------


def _their_tickets(person):
    conditions = [Ticket.requester_email == person.email]
    if person.user is not None:
        conditions.append(Ticket.requester_id == person.user.id)
    return db.session.query(Ticket).filter(or_(*conditions)).order_by(Ticket.id)


def _their_messages(person):
    conditions = [TicketMessage.author_email == person.email]
    if person.user is not None:
        conditions.append(TicketMessage.author_id == person.user.id)
    return db.session.query(TicketMessage).filter(or_(*conditions)).order_by(TicketMessage.id)


def _export_tickets(person):
    tickets = [{
        "number": t.number, "title": t.title, "organisation": t.organisation.name, "status": t.status.name,
        "created_on": _iso(t.created_on), "resolved_on": _iso(t.resolved_on), "closed_on": _iso(t.closed_on),
        "messages": [{"created_on": _iso(m.created_on), "body": m.body} for m in sorted(t.messages, key=lambda m: m.created_on) if not m.internal],
        "rating": [{"score": r.score, "comment": r.comment} for r in t.satisfaction] or None,
    } for t in _their_tickets(person)]
    written = [{"ticket": m.ticket.number, "created_on": _iso(m.created_on), "body": m.body} for m in _their_messages(person) if not m.internal]
    if not tickets and not written:
        return None
    return {"requested": tickets, "messages_written": written}


def _erase_tickets(person, pseudonym, scrub):
    count = 0
    for ticket in _their_tickets(person):
        if ticket.requester_email == person.email:
            ticket.requester_email = pseudonym
        count += 1
    for message in _their_messages(person):
        if message.author_email == person.email:
            message.author_email = pseudonym
    for model, columns in ((Ticket, ("title",)), (TicketMessage, ("body",)), (TicketEvent, ("old_value", "new_value")), (SatisfactionRating, ("comment",))):
        for column_name in columns:
            column = getattr(model, column_name)
            for row in db.session.query(model).filter(_mentions(column, person)):
                setattr(row, column_name, scrub(getattr(row, column_name)))
                count += 1
    return count


def _export_files(person):
    files = [{"ticket": a.message.ticket.number, "filename": a.filename, "size": a.size, "created_on": _iso(a.created_on)}
             for m in _their_messages(person) for a in m.attachments]
    return files or None


def _erase_files(person, pseudonym, scrub, remove_files=True):
    if not remove_files:
        return 0
    attachments = [a for m in _their_messages(person) for a in m.attachments]
    keys = [k for a in attachments for k in (a.storage_key, a.preview_key) if k]
    for attachment in attachments:
        db.session.delete(attachment)
    db.session.flush()
    # Files go once the rows are gone (an error before this point leaves them in place).
    events.publish("files.removed", {"keys": keys})
    return len(attachments)


# --- mail ---------------------------------------------------------------------------------------


def _export_mail(person):
    received = [{"received_on": _iso(m.received_on), "subject": m.subject, "status": m.status}
                for m in db.session.query(InboundMail).filter(InboundMail.sender == person.email).order_by(InboundMail.id)]
    sent = [{"created_on": _iso(m.created_on), "subject": m.subject, "status": m.status, "body": m.body_text}
            for m in db.session.query(OutboxMail).filter(OutboxMail.recipient == person.email).order_by(OutboxMail.id)]
    if not received and not sent:
        return None
    return {"received": received, "sent_to_them": sent}


def _erase_mail(person, pseudonym, scrub):
    count = 0
    ticket_ids = [t.id for t in _their_tickets(person)]
    inbound = db.session.query(InboundMail).filter(or_(InboundMail.sender == person.email, _mentions(InboundMail.subject, person),
                                                       InboundMail.ticket_id.in_(ticket_ids) if ticket_ids else False))
    for mail in inbound:
        if mail.sender == person.email:
            mail.sender = pseudonym
        mail.subject = scrub(mail.subject)
        mail.outcome = scrub(mail.outcome)
        mail.error = scrub(mail.error)
        raw = mail.raw
        if raw and (any(n.lower().encode() in raw.lower() for n in person.needles()) or any(t.encode() in re.sub(rb"[^0-9]", b"", raw) for t in person.phone_tails())):
            mail.raw = scrub(raw)  # the raw copy keeps its structure, not the person
        count += 1
    outbox = db.session.query(OutboxMail).filter(or_(OutboxMail.recipient == person.email, OutboxMail.reply_to == person.email,
                                                     _mentions(OutboxMail.subject, person), _mentions(OutboxMail.body_text, person)))
    for mail in outbox:
        if mail.recipient == person.email:
            mail.recipient = pseudonym
        if mail.reply_to == person.email:
            mail.reply_to = pseudonym
        mail.subject, mail.body_text, mail.body_html = scrub(mail.subject), scrub(mail.body_text), scrub(mail.body_html)
        mail.last_error = scrub(mail.last_error)
        count += 1
    return count


# --- activity log, knowledge base -------------------------------------------------------------


def _their_log(person):
    conditions = [_mentions(ActivityLog.target_label, person), _mentions(ActivityLog.details.cast(Text), person, json_text=True)]
    if person.user is not None:
        conditions += [ActivityLog.subject_user_id == person.user.id, ActivityLog.actor_id == person.user.id]
    return db.session.query(ActivityLog).filter(or_(*conditions)).order_by(ActivityLog.id)


def _export_log(person):
    rows = [{"at": _iso(e.at), "action": e.action, "target": e.target_label, "ip_address": e.ip_address} for e in _their_log(person)]
    return rows or None


def _erase_log(person, pseudonym, scrub):
    count = 0
    for entry in _their_log(person):
        entry.target_label = scrub(entry.target_label)
        entry.details = scrub(entry.details)
        if person.user is not None and person.user.id in (entry.actor_id, entry.subject_user_id):
            entry.ip_address = None
        count += 1
    return count


def _erase_kb(person, pseudonym, scrub):
    count = 0
    for article in db.session.query(KbArticle).filter(or_(_mentions(KbArticle.title, person), _mentions(KbArticle.summary, person), _mentions(KbArticle.body, person))):
        article.title, article.summary, article.body = scrub(article.title), scrub(article.summary), scrub(article.body)
        search.prepare(article)  # the search index follows the article
        count += 1
    for version in db.session.query(KbArticleVersion).filter(or_(_mentions(KbArticleVersion.title, person), _mentions(KbArticleVersion.body, person), _mentions(KbArticleVersion.summary, person))):
        version.title, version.summary, version.body = scrub(version.title), scrub(version.summary), scrub(version.body)
        count += 1
    return count


register(Holder("account", "Compte", _export_account, _erase_account))
register(Holder("account_requests", "Demandes de compte", _export_account_requests, _erase_account_requests))
register(Holder("tickets", "Tickets et messages", _export_tickets, _erase_tickets))
register(Holder("files", "Pièces jointes envoyées", _export_files, _erase_files))
register(Holder("mail", "Courriels reçus et envoyés", _export_mail, _erase_mail))
register(Holder("activity", "Journal d'activité", _export_log, _erase_log))
register(Holder("knowledge_base", "Base de connaissances", lambda person: None, _erase_kb))
