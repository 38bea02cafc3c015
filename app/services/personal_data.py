"""Personal data (A4): export everything NovaDesk holds about a person, erase a person, and
anonymise closed tickets once the retention period has passed.

It is a registry of *holders*: each module that keeps personal data registers one, with
  export(person) → something JSON can write (or None when it holds nothing),
  erase(person, pseudonym) → how many rows it anonymised,
  expire(cutoff) → optional, anonymises what the retention period says is too old.
The ticket desk, mail and audit log register theirs below; another module (the chat) calls
`register(Holder(...))` when it is imported. After every holder has run, a sweep reads every
text column of every table and scrubs what is still there, so a table nobody registered
never keeps a trace of the person.

Erasing keeps statistics identical: no row is deleted (except the files the person sent, when
asked, and their second-factor codes), no date, status, score or count changes; names, e-mail
addresses and phone numbers are replaced by a pseudonym in fields and in free text.
"""
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import JSON, String, Text, func, or_, select, update

from app.extensions import db
from app.models import (
    AccountRequest,
    ActivityLog,
    EmailCode,
    InboundMail,
    KbArticle,
    KbArticleVersion,
    NovaUser,
    OutboxMail,
    RecoveryCode,
    SatisfactionRating,
    StatusCategory,
    Ticket,
    TicketEvent,
    TicketMessage,
)
from app.services import ServiceError, audit, clock, events, search

ANONYMOUS_NAME = "Personne anonymisée"
PHONE_REPLACEMENT = "[téléphone effacé]"
PSEUDONYM_DOMAIN = "anonymised.invalid"


# --- who ------------------------------------------------------------------------------------


@dataclass
class Person:
    """Someone NovaDesk knows by an e-mail address, with or without an account."""

    email: str
    user: NovaUser | None = None
    names: list = field(default_factory=list)
    phones: list = field(default_factory=list)

    @property
    def label(self):
        return self.names[0] if self.names else self.email

    def needles(self):
        """The strings whose presence in a text is a trace of the person (LIKE prefilters)."""
        return [self.email] + [n for n in self.names if len(n) >= 5]

    def phone_tails(self):
        """The last six digits of each phone number, to look for in texts stripped of spaces,
        dots and dashes."""
        return [d[-6:] for d in (re.sub(r"\D", "", p) for p in self.phones) if len(d) >= 6]


def find_person(email):
    """The person behind an address: their account, if any, and every name and phone number
    recorded with it (account requests included)."""
    email = (email or "").strip().lower()
    if "@" not in email:
        raise ServiceError(_("Saisissez une adresse e-mail."))
    user = db.session.query(NovaUser).filter(NovaUser.email == email).one_or_none()
    person = Person(email=email, user=user)
    names, phones = [], []
    if user is not None:
        names.append(f"{user.first_name} {user.last_name}".strip())
        names.append(f"{user.last_name} {user.first_name}".strip())
        phones.append(user.phone)
    for request in db.session.query(AccountRequest).filter(AccountRequest.email == email):
        names.append(f"{request.first_name} {request.last_name}".strip())
        phones.append(request.phone)
    person.names = list(dict.fromkeys(n for n in names if n and n != ANONYMOUS_NAME))
    person.phones = list(dict.fromkeys(p for p in phones if p))
    return person


def pseudonym_for(person):
    key = person.user.id if person.user is not None else secrets.token_hex(4)
    return f"anonyme-{key}@{PSEUDONYM_DOMAIN}"


# --- scrubbing text ---------------------------------------------------------------------------


def _phone_pattern(phone):
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) < 6:
        return None
    # +221 77 000 11 22, 77 000 11 22, 0033-1-23…, (77) 000.11.22: the subscriber number's
    # digits (the last nine), whatever separates them, with or without a country code or a
    # leading zero.
    separators = r"[\s.\-()/]*"
    national = separators.join(re.escape(d) for d in digits[-9:])
    return r"(?<!\d)(?:\+?\d{1,5}" + separators + r")?(?:0" + separators + r")?" + national + r"(?!\d)"


def scrubber(person, pseudonym):
    """A function that replaces the person's address, names and phones in a text."""
    parts = [(re.escape(person.email), pseudonym)]
    parts += [(re.escape(name), ANONYMOUS_NAME) for name in sorted(person.names, key=len, reverse=True) if len(name) >= 5]
    parts += [(p, PHONE_REPLACEMENT) for p in filter(None, map(_phone_pattern, person.phones))]
    patterns = [(re.compile(p, re.IGNORECASE), r) for p, r in parts]

    def scrub(value):
        if isinstance(value, str):
            for pattern, replacement in patterns:
                value = pattern.sub(replacement, value)
            return value
        if isinstance(value, (bytes, bytearray)):
            return scrub(value.decode("utf-8", errors="replace")).encode("utf-8")
        if isinstance(value, list):
            return [scrub(v) for v in value]
        if isinstance(value, dict):
            return {scrub(k): scrub(v) for k, v in value.items()}
        return value

    return scrub


def _mentions(column, person, json_text=False):
    needles = person.needles()
    if json_text:  # JSON columns may keep non-ASCII letters as \\uXXXX escapes
        needles = needles + [json.dumps(n)[1:-1] for n in needles if not n.isascii()]
    conditions = [column.icontains(needle, autoescape=True) for needle in needles]
    tails = person.phone_tails()
    if tails:
        bare = column
        for separator in (" ", ".", "-", "(", ")", "/", "\u00a0"):
            bare = func.replace(bare, separator, "")
        conditions += [bare.contains(tail) for tail in tails]
    return or_(*conditions)


# --- the registry -----------------------------------------------------------------------------


@dataclass
class Holder:
    name: str
    label: str
    export: object
    erase: object
    expire: object = None


HOLDERS = []


def register(holder):
    """Add (or replace, by name) a holder of personal data."""
    HOLDERS[:] = [h for h in HOLDERS if h.name != holder.name] + [holder]
    return holder


def _iso(moment):
    return moment.isoformat() if moment else None


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


# --- the sweep: every text column of every table ---------------------------------------------------


def text_columns():
    """(table, column) for every column that can hold text, in every table of the schema."""
    for table in db.metadata.sorted_tables:
        primary = [c for c in table.primary_key.columns]
        if len(primary) != 1:
            continue
        for column in table.columns:
            if isinstance(column.type, (String, Text, JSON)) and not column.primary_key:
                yield table, column, primary[0]


def _sweep(person, pseudonym, scrub):
    """Whatever no holder knew about: scrub it where it is."""
    count = 0
    for table, column, key in text_columns():
        if table.name in ("ab_user",) and column.name in ("password",):
            continue
        is_json = isinstance(column.type, JSON)
        target = column.cast(Text) if is_json else column
        rows = db.session.execute(select(key, column).where(_mentions(target, person, json_text=is_json))).all()
        for ident, value in rows:
            cleaned = scrub(value)
            if cleaned != value:
                db.session.execute(update(table).where(key == ident).values({column.name: cleaned}))
                count += 1
    return count


register(Holder("account", "Compte", _export_account, _erase_account))
register(Holder("account_requests", "Demandes de compte", _export_account_requests, _erase_account_requests))
register(Holder("tickets", "Tickets et messages", _export_tickets, _erase_tickets))
register(Holder("files", "Pièces jointes envoyées", _export_files, _erase_files))
register(Holder("mail", "Courriels reçus et envoyés", _export_mail, _erase_mail))
register(Holder("activity", "Journal d'activité", _export_log, _erase_log))
register(Holder("knowledge_base", "Base de connaissances", lambda person: None, _erase_kb))


# --- the doors --------------------------------------------------------------------------------------


def export(person):
    """Everything held about the person, per holder (holders with nothing are left out)."""
    data = {"person": {"email": person.email, "names": person.names, "phones": person.phones}, "exported_on": _iso(clock.now()), "holders": {}}
    for holder in HOLDERS:
        held = holder.export(person)
        if held:
            data["holders"][holder.name] = {"label": holder.label, "data": held}
    return data


def erase(actor, person, remove_files=True):
    """Anonymise the person everywhere; flushes, the caller commits (the files go once that
    is done: a `files.removed` event). Returns the counts per holder."""
    if person.user is not None and actor is not None and person.user.id == actor.id:
        raise ServiceError(_("Vous ne pouvez pas effacer vos propres données depuis votre compte."))
    if person.email.endswith("@" + PSEUDONYM_DOMAIN):
        raise ServiceError(_("Cette personne est déjà anonymisée."))
    pseudonym = pseudonym_for(person)
    scrub = scrubber(person, pseudonym)
    counts = {}
    for holder in HOLDERS:
        if holder.name == "files":
            counts[holder.name] = holder.erase(person, pseudonym, scrub, remove_files=remove_files)
        else:
            counts[holder.name] = holder.erase(person, pseudonym, scrub)
        db.session.flush()  # the audit hook logs changed accounts now, so the sweep sees it
    counts["sweep"] = _sweep(person, pseudonym, scrub)
    audit.record(db.session, "personal_data.erased", actor=actor, subject_user=person.user, details={"pseudonym": pseudonym, "counts": counts})
    db.session.flush()
    return counts


# --- retention ---------------------------------------------------------------------------------------

_last_retention = {"at": None}


def retention_cutoff():
    years = current_app.config.get("PERSONAL_DATA_RETENTION_YEARS") or 0
    if years <= 0:
        return None
    return clock.now() - timedelta(days=round(365.25 * years))


def apply_retention(force=False, limit=500):
    """Anonymise the partner-side people of tickets closed before the retention period
    (their account stays: it may have newer tickets); then each holder's own expiry. Runs at
    most once an hour from the worker. Returns how many tickets it anonymised."""
    cutoff = retention_cutoff()
    now = clock.now()
    if cutoff is None or (not force and _last_retention["at"] and now - _last_retention["at"] < timedelta(hours=1)):
        return 0
    _last_retention["at"] = now
    tickets = (
        db.session.query(Ticket)
        .filter(Ticket.status_category == StatusCategory.CLOSED, Ticket.closed_on < cutoff, Ticket.anonymised_on.is_(None))
        .order_by(Ticket.id).limit(limit).all()
    )
    for ticket in tickets:
        anonymise_ticket(ticket)
    for holder in HOLDERS:
        if holder.expire is not None:
            holder.expire(cutoff)
    db.session.flush()
    return len(tickets)


def anonymise_ticket(ticket):
    """The ticket keeps its dates, status, figures; its people's names, addresses and phone
    numbers leave its title, messages, history, rating comment and mail copies."""
    people = []
    if ticket.requester is not None:
        people.append(find_person(ticket.requester.email))
    elif ticket.requester_email:
        people.append(find_person(ticket.requester_email))
    for message in ticket.messages:
        author = message.author
        if author is not None and author.organisation is not None and author.organisation.kind != "vendor":
            people.append(find_person(author.email))
        elif author is None and message.author_email:
            people.append(find_person(message.author_email))
    seen = set()
    for person in people:
        if person.email in seen:
            continue
        seen.add(person.email)
        pseudonym = f"anonyme-t{ticket.id}@{PSEUDONYM_DOMAIN}"
        scrub = scrubber(person, pseudonym)
        ticket.title = scrub(ticket.title)
        if ticket.requester_email == person.email:
            ticket.requester_email = pseudonym
        for message in ticket.messages:
            message.body = scrub(message.body)
            if message.author_email == person.email:
                message.author_email = pseudonym
        for event in db.session.query(TicketEvent).filter(TicketEvent.ticket_id == ticket.id):
            event.old_value, event.new_value = scrub(event.old_value), scrub(event.new_value)
        for rating in ticket.satisfaction:
            rating.comment = scrub(rating.comment)
        for mail in db.session.query(InboundMail).filter(InboundMail.ticket_id == ticket.id):
            mail.sender = pseudonym if mail.sender == person.email else mail.sender
            mail.subject = scrub(mail.subject)
            mail.raw = scrub(mail.raw) if mail.raw else mail.raw
        for mail in db.session.query(OutboxMail).filter(OutboxMail.ticket_id == ticket.id):
            mail.recipient = pseudonym if mail.recipient == person.email else mail.recipient
            mail.subject, mail.body_text, mail.body_html = scrub(mail.subject), scrub(mail.body_text), scrub(mail.body_html)
    ticket.anonymised_on = clock.now()
    return ticket

