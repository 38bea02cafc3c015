"""Closed tickets anonymised once the retention period has passed."""
from datetime import timedelta

from flask import current_app

from app.extensions import db
from app.models import InboundMail, OutboxMail, StatusCategory, Ticket, TicketEvent
from app.services import clock
from app.services.personal_data.common import HOLDERS, PSEUDONYM_DOMAIN, find_person, scrubber

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
