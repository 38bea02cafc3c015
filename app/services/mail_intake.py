"""What an incoming e-mail becomes (T10, T11): a new ticket, a reply in its ticket, or noise
kept aside. The one door for mail-born changes; the channel (app/channels/mail_in.py) records
the message first and calls `apply` inside the transaction that marks it processed.
"""
import io
import re
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func

from app.extensions import db
from app.models import (
    InboundMail,
    InboundStatus,
    Mailbox,
    NovaUser,
    Organisation,
    OrganisationKind,
    OutboxMail,
    StatusCategory,
    Ticket,
    TicketMessage,
)
from app.security import scopes
from app.services import clock, ticket_links, tickets
from app.services.accounts import organisation_for_email
from app.services.mail import queue_mail, sender_domain
from app.services.public_address import external_url

NOISE_LABELS = {
    "own_mail": "message envoyé par NovaDesk lui-même",
    "receipt": "accusé de lecture",
    "bounce": "avis de non-remise",
    "auto_reply": "réponse automatique (absence, robot)",
    "list": "liste de diffusion ou envoi en nombre",
}
UNIDENTIFIED_NAME = "Expéditeurs non identifiés"


@dataclass
class Outcome:
    status: str
    line: str
    reason: str | None = None
    ticket: Ticket | None = None


def own_addresses():
    addresses = {parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1], parseaddr(current_app.config.get("MAIL_REPLY_TO") or "")[1]}
    addresses |= {a for (a,) in db.session.query(Mailbox.address).filter(Mailbox.address.isnot(None))}
    return {a.lower() for a in addresses if a}


def apply(inbound, parsed):
    """Turn one recorded message into its effect; the caller commits or rolls back."""
    if parsed.noise == "bounce":
        if parsed.forged or _flooding(inbound):
            return Outcome(InboundStatus.IGNORED, "Écarté : avis de non-remise non authentifié ou trop nombreux.", "bounce")
        return _bounce(parsed)
    if parsed.noise:
        return Outcome(InboundStatus.IGNORED, f"Écarté : {NOISE_LABELS[parsed.noise]}.", parsed.noise)
    if not parsed.sender:
        return Outcome(InboundStatus.FAILED, "Non traitable : l'expéditeur est illisible.", "no_sender")
    if _flooding(inbound):
        return Outcome(InboundStatus.IGNORED, f"Écarté : plus de {current_app.config['MAIL_FLOOD_PER_HOUR']} messages en une heure de {parsed.sender}.", "flood")
    limit = current_app.config["MAIL_MAX_MESSAGE_MB"] * 1024 * 1024
    if inbound.size > limit:
        _tell_sender_refused(parsed, _("le message dépasse %(n)s Mo.", n=current_app.config["MAIL_MAX_MESSAGE_MB"]))
        return Outcome(InboundStatus.IGNORED, f"Écarté : message de {inbound.size // (1024 * 1024)} Mo, au-delà de la limite.", "too_large")
    if parsed.forged:  # never an account's nor a client's, never answered: held for a person to judge
        ticket = _unidentified_ticket(inbound, parsed)
        return Outcome(InboundStatus.PROCESSED, f"Ticket {ticket.number} créé pour expéditeur non identifié ({parsed.sender}) : authentification DMARC en échec.", "forged", ticket)
    user = _account(parsed.sender)
    claimed = _claimed_organisation(user, parsed.sender)
    if not parsed.authenticated and claimed is not None and claimed.require_authenticated_mail:
        # The client asked that only mail our server vouched for speaks in its name: the message
        # goes to the unidentified senders, unanswered, with the reason on the ticket.
        ticket = _unidentified_ticket(inbound, parsed)
        tickets.record_event(ticket, None, "mail_unverified", field="organisation", new=claimed.name, internal=True)
        return Outcome(
            InboundStatus.PROCESSED,
            f"Ticket {ticket.number} créé pour expéditeur non identifié ({parsed.sender}) : {claimed.name} n'accepte que les e-mails authentifiés.",
            "unauthenticated", ticket,
        )
    ticket = _thread(parsed)
    if ticket is not None and _may_reply(ticket, user, parsed.sender):
        outcome = _reply(ticket, user, inbound, parsed)
    else:
        outcome = _new_ticket(user, inbound, parsed, follows=None)
    if not parsed.authenticated:
        _mark_unverified(outcome.ticket, inbound, new=outcome.reason == "new_ticket")
    return outcome


def _unidentified_ticket(inbound, parsed):
    ticket = tickets.create_ticket_from_mail(
        None, unidentified_organisation(), parsed.sender, parsed.subject, parsed.reply or parsed.text, _files(parsed), inbound, acknowledge=False
    )
    _mark_unverified(ticket, inbound, new=True)
    return ticket


def _mark_unverified(ticket, inbound, new):
    """« expéditeur non vérifié »: on the message this mail became, and on a ticket it opened."""
    if ticket is None:
        return
    if new:
        ticket.sender_unverified = True
    db.session.flush()
    db.session.query(TicketMessage).filter(TicketMessage.source_mail_id == inbound.id).update(
        {TicketMessage.sender_unverified: True}, synchronize_session="evaluate"  # the session's copies set in place, no SELECT
    )


# --- who wrote -----------------------------------------------------------------------


def _account(address):
    return db.session.query(NovaUser).filter(func.lower(NovaUser.email) == address, NovaUser.active.is_(True)).first()


def unidentified_organisation():
    """The organisation that holds tickets from unknown senders until someone attaches them."""
    holder = db.session.query(Organisation).filter_by(holds_unidentified=True).first()
    if holder is None:
        # Found by its flag only: an organisation that merely bears the name is never adopted.
        name = UNIDENTIFIED_NAME
        if db.session.query(Organisation.id).filter_by(name=name).first() is not None:
            name = f"{UNIDENTIFIED_NAME} (messagerie)"
        holder = Organisation(name=name, kind=OrganisationKind.CLIENT, email_domains="", holds_unidentified=True)
        db.session.add(holder)
        db.session.flush()
    return holder


def _claimed_organisation(user, address):
    """The client a mail claims to come from (its sender's, else its domain's), or None."""
    if user is not None and user.organisation is not None and user.organisation.kind != OrganisationKind.VENDOR:
        return user.organisation
    return organisation_for_email(address)


def _organisation_of(user, address):
    """The client the mail is about: the sender's own organisation, else the one that declared
    the address's domain, else the holder of unidentified mail."""
    if user is not None and user.organisation is not None and user.organisation.kind != OrganisationKind.VENDOR and user.organisation.active:
        return user.organisation, user
    return (organisation_for_email(address) or unidentified_organisation()), None


# --- which ticket --------------------------------------------------------------------


def _thread(parsed):
    prefix = re.escape(current_app.config["TICKET_PREFIX"])
    tagged = re.search(rf"\[({prefix}-\d+)\]", parsed.subject or "")
    ticket = None
    if tagged:
        ticket = db.session.query(Ticket).filter_by(number=tagged.group(1)).first()
    ids = parsed.thread_ids
    if ticket is None and ids:
        own = re.compile(rf"<ticket-(\d+)@{re.escape(sender_domain())}>")
        for ident in ids:
            match = own.fullmatch(ident)
            if match:
                ticket = db.session.get(Ticket, int(match.group(1)))
                break
        if ticket is None:
            row = db.session.query(OutboxMail.ticket_id).filter(OutboxMail.message_id.in_(ids), OutboxMail.ticket_id.isnot(None)).first()
            row = row or db.session.query(InboundMail.ticket_id).filter(InboundMail.message_id.in_(ids), InboundMail.ticket_id.isnot(None)).first()
            ticket = db.session.get(Ticket, row[0]) if row else None
    seen = set()
    while ticket is not None and ticket.merged_into_id and ticket.id not in seen:
        seen.add(ticket.id)
        ticket = ticket.merged_into
    return ticket


def _may_reply(ticket, user, address):
    """Only a participant of the ticket, or of its organisation, adds to it by mail; anyone
    else quoting its reference opens a ticket of their own."""
    if user is not None:
        try:
            scopes.access_ticket(db.session, user, ticket.id)
            return True
        except scopes.NotVisible:
            pass
    if address == (ticket.requester_email or "").lower():
        return True
    domain_organisation = organisation_for_email(address)
    if domain_organisation is not None and domain_organisation.id == ticket.organisation_id:
        return True  # someone at the client's declared domain: of its organisation
    return (
        db.session.query(TicketMessage.id)
        .filter(TicketMessage.ticket_id == ticket.id, func.lower(TicketMessage.author_email) == address)
        .first()
        is not None
    )


# --- what it does --------------------------------------------------------------------


def _files(parsed):
    return [(f.filename, io.BytesIO(f.data)) for f in parsed.files if f.data]


def _reply(ticket, user, inbound, parsed):
    if ticket.status_category == StatusCategory.CLOSED:
        window = timedelta(days=current_app.config["MAIL_REOPEN_DAYS"])
        if ticket.closed_on is None or clock.now() - ticket.closed_on > window:
            return _new_ticket(user, inbound, parsed, follows=ticket)
    was_done = ticket.status_category in StatusCategory.DONE
    tickets.add_message_from_mail(user, parsed.sender, ticket, parsed.reply or parsed.text, _files(parsed), inbound, in_reply_to=parsed.message_id)
    verb = "rouvert par la réponse de" if was_done and ticket.status_category not in StatusCategory.DONE else "réponse ajoutée, de"
    return Outcome(InboundStatus.PROCESSED, f"Ticket {ticket.number} : {verb} {parsed.sender}.", "reply", ticket)


def _new_ticket(user, inbound, parsed, follows):
    organisation, requester = _organisation_of(user, parsed.sender)
    ticket = tickets.create_ticket_from_mail(
        requester, organisation, parsed.sender, parsed.subject, parsed.reply or parsed.text, _files(parsed), inbound, in_reply_to=parsed.message_id
    )
    if follows is not None:
        ticket_links.link_follow_up(ticket, follows)
    who = "expéditeur non identifié" if organisation.holds_unidentified else organisation.name
    after = f", suite du ticket fermé {follows.number}" if follows is not None else ""
    return Outcome(InboundStatus.PROCESSED, f"Ticket {ticket.number} créé pour {who} ({parsed.sender}){after}.", "new_ticket", ticket)


def _flooding(inbound):
    since = clock.now() - timedelta(hours=1)
    recent = (
        db.session.query(func.count(InboundMail.id))
        .filter(
            InboundMail.sender == inbound.sender,
            InboundMail.id != inbound.id,
            InboundMail.received_on >= since,
            InboundMail.status == InboundStatus.PROCESSED,
        )
        .scalar()
    )
    return recent >= current_app.config["MAIL_FLOOD_PER_HOUR"]


def _tell_sender_refused(parsed, reason):
    user = _account(parsed.sender)
    locale = user.locale if user is not None else "fr"
    queue_mail("mail_refused", parsed.sender, locale=locale, user=user, mail_subject=parsed.subject or "—", reason=reason, link=external_url("TicketDeskView.new"))


def _bounce(parsed):
    """A delivery failure: the mail it reports is marked, and its ticket says the address fails."""
    sent = None
    if parsed.bounce_message_ids:
        sent = db.session.query(OutboxMail).filter(OutboxMail.message_id.in_(parsed.bounce_message_ids)).order_by(OutboxMail.id.desc()).first()
    if sent is None and parsed.bounce_recipients:
        since = clock.now() - timedelta(days=7)
        sent = (
            db.session.query(OutboxMail)
            .filter(func.lower(OutboxMail.recipient).in_(parsed.bounce_recipients), OutboxMail.created_on >= since)
            .order_by(OutboxMail.id.desc())
            .first()
        )
    if sent is None:
        return Outcome(InboundStatus.IGNORED, "Écarté : avis de non-remise sans message correspondant.", "bounce")
    reason = parsed.bounce_reason or "adresse refusée"
    sent.bounced_on = clock.now()
    sent.bounce_reason = reason[:500]
    ticket = db.session.get(Ticket, sent.ticket_id) if sent.ticket_id else None
    if ticket is not None:
        tickets.record_event(ticket, None, "mail_bounced", field="email", new=f"{sent.recipient} — {reason}", internal=True)
    where = f" (ticket {ticket.number})" if ticket is not None else ""
    return Outcome(InboundStatus.IGNORED, f"Avis de non-remise : {sent.recipient} est en échec{where}.", "bounce", ticket)
