"""Satisfaction (P4): when the support resolves a ticket, the mail that tells the requester
carries a link to rate it, 1 to 5 with a comment. The link works once, without signing in,
and expires; the portal's ticket page asks the same question. A new rating of a reopened
ticket replaces the old one."""
import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _

from app.extensions import db
from app.models import SatisfactionInvite, SatisfactionRating, StatusCategory
from app.security import scopes
from app.services import ServiceError, clock
from app.services.public_address import external_url
from app.services.ticket_history import record_event

COMMENT_MAX = 4000


class InviteNotValid(ServiceError):
    """Unknown, tampered, for another ticket, already used or expired: one answer for all."""

    not_found = True

    def __init__(self):
        super().__init__(_("Ce lien d'évaluation n'est plus valable : il a déjà servi, a expiré ou est incomplet. Vous pouvez noter la demande depuis votre espace client."))


def _hash(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invite_link(ticket):
    """A one-time rating link for the requester, for the mail that says the ticket is resolved
    (notifications.status_changed); None when there is nobody to ask."""
    person = ticket.requester
    if person is None or scopes.is_staff(person) or ticket.merged_into_id:
        return None
    token = secrets.token_urlsafe(32)
    now = clock.now()
    days = current_app.config.get("SATISFACTION_LINK_DAYS", 14)
    db.session.add(
        SatisfactionInvite(ticket_id=ticket.id, user_id=person.id, token_hash=_hash(token), created_on=now, expires_on=now + timedelta(days=days))
    )
    return external_url("SatisfactionView.rate", ticket_id=ticket.id, token=token)


def check_invite(ticket_id, token):
    """The invite behind a link, if it may still be used."""
    if not token or len(token) > 100:
        raise InviteNotValid()
    invite = db.session.query(SatisfactionInvite).filter_by(token_hash=_hash(token)).one_or_none()
    if invite is None or invite.ticket_id != ticket_id or invite.used_on is not None or invite.expires_on <= clock.now():
        raise InviteNotValid()
    if invite.ticket.status_category not in StatusCategory.DONE:
        raise InviteNotValid()  # reopened since: the question will come again at the next resolution
    ticket = invite.ticket
    if ticket.merged_into_id or invite.user_id != ticket.requester_id or (ticket.resolved_on and invite.created_on < ticket.resolved_on):
        raise InviteNotValid()  # asked about an earlier resolution, or of someone no longer the requester
    return invite


def _clean(score, comment):
    try:
        score = int(str(score).strip())
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise ServiceError(_("Choisissez une note de 1 à 5."), {"score": "range"})
    comment = (comment or "").replace("\x00", "").strip()
    if len(comment) > COMMENT_MAX:
        raise ServiceError(_("Commentaire : %(n)s caractères au plus.", n=COMMENT_MAX), {"comment": "too_long"})
    return score, comment or None


def _record(ticket, person, score, comment, via):
    rating = db.session.query(SatisfactionRating).filter_by(ticket_id=ticket.id).one_or_none()
    if rating is None:
        rating = SatisfactionRating(ticket_id=ticket.id)
        db.session.add(rating)
    rating.score, rating.comment, rating.via = score, comment, via
    rating.rated_by_id = getattr(person, "id", None)
    rating.rated_on = clock.now()

    record_event(ticket, person, "rated", "satisfaction", None, f"{score}/5")
    db.session.flush()
    return rating


def rate_with_invite(ticket_id, token, score, comment):
    """A rating through the e-mailed link: the link is spent, whatever came before it."""
    invite = check_invite(ticket_id, token)
    score, comment = _clean(score, comment)
    invite.used_on = clock.now()
    return _record(invite.ticket, invite.user, score, comment, "email")


def can_rate(user, ticket):
    """The partner side rates its own resolved tickets (the support does not rate itself)."""
    audience = scopes.audience_of(user)
    return audience in (scopes.Audience.CLIENT, scopes.Audience.RESELLER) and ticket.status_category in StatusCategory.DONE and ticket.merged_into_id is None


def rate_ticket(actor, ticket, score, comment):
    """A rating from the portal's ticket page (the ticket was loaded through the scopes)."""
    if not can_rate(actor, ticket):
        raise ServiceError(_("Cette demande ne peut pas être notée maintenant."))
    score, comment = _clean(score, comment)
    return _record(ticket, actor, score, comment, "portal")


def rating_of(ticket):
    return db.session.query(SatisfactionRating).filter_by(ticket_id=ticket.id).one_or_none()
