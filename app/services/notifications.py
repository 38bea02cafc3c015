"""Who hears about what happens to a ticket, by e-mail (T11, T13).

Called by the ticket services in the same transaction as the change, so a notice exists if
and only if the change does. Nobody is told about their own action; internal notes are never
sent to partners; each person may turn off the optional kinds on their profile.
"""
from contextlib import contextmanager
from contextvars import ContextVar

from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import StatusCategory, TicketMessage
from app.security import scopes
from app.services import satisfaction
from app.services.mail import queue_mail, queue_mail_to_user
from app.services.public_address import external_url

# The kinds a person may turn off, with the label of their checkbox. Account and security
# mail (codes, password links, account opened) are not optional.
PARTNER_KINDS = {
    "ticket_created": _l("Accusé de réception de mes demandes"),
    "agent_reply": _l("Réponses du support à mes demandes"),
    "ticket_status": _l("Changements de statut de mes demandes (dont la résolution)"),
}
STAFF_KINDS = {
    "ticket_assigned": _l("Tickets qui me sont attribués"),
    "client_reply": _l("Réponses des clients sur mes tickets"),
    "sla_alert": _l("Tickets proches du dépassement ou en dépassement de délai (SLA)"),
}
OPTIONAL_KINDS = {**PARTNER_KINDS, **STAFF_KINDS}


_silenced = ContextVar("notifications_silenced", default=False)


@contextmanager
def silenced():
    """Replaying history (demo data, imports): the changes are real, nobody is told."""
    token = _silenced.set(True)
    try:
        yield
    finally:
        _silenced.reset(token)


def kinds_for(user):
    """The optional kinds that concern this person (staff and commercials also file tickets)."""
    if scopes.sees_internal_notes(user):
        return {**STAFF_KINDS, **PARTNER_KINDS}
    return dict(PARTNER_KINDS)


# Mail kinds governed by another kind's checkbox.
_PREFERENCE_OF = {"ticket_resolved": "ticket_status"}


def wants(user, kind):
    if _silenced.get() or user is None or not user.active or not user.email:
        return False
    return _PREFERENCE_OF.get(kind, kind) not in (user.muted_notifications or [])


def set_muted(user, muted_kinds):
    user.muted_notifications = sorted(set(muted_kinds) & set(OPTIONAL_KINDS))


def _same_person(user, actor):
    return actor is not None and user is not None and user.id == getattr(actor, "id", None)


def ticket_link(ticket):
    return external_url("TicketDeskView.show", ticket_id=ticket.id)


def _to_requester(kind, ticket, actor, in_reply_to=None, auto_submitted=True, **context):
    """The requester's account, or the bare address a mail came from when there is none."""
    context.setdefault("link", ticket_link(ticket))
    if _silenced.get():
        return None
    requester = ticket.requester
    if requester is not None:
        if not wants(requester, kind) or (_same_person(requester, actor) and kind != "ticket_created"):
            return None
        return queue_mail_to_user(kind, requester, ticket=ticket, in_reply_to=in_reply_to, auto_submitted=auto_submitted, **context)
    if ticket.requester_email:  # no account (yet): the address the mail came from
        return queue_mail(kind, ticket.requester_email, ticket=ticket, in_reply_to=in_reply_to, auto_submitted=auto_submitted, user=None, **context)
    return None


def ticket_created(ticket, actor, in_reply_to=None, body=None):
    _to_requester("ticket_created", ticket, actor, in_reply_to=in_reply_to, body=body if body is not None else _first_message(ticket))


def replied(ticket, message, actor, in_reply_to=None):
    """A public reply: the support's goes to the requester, the client's to the assignees."""
    if message.internal:
        return
    if scopes.sees_internal_notes(actor):
        _to_requester("agent_reply", ticket, actor, in_reply_to=in_reply_to, auto_submitted=False, message=message, author=actor.full_name)
        return
    author = actor.full_name if actor is not None else (message.author_email or "")
    for assignee in ticket.assignees:
        if not _same_person(assignee, actor) and wants(assignee, "client_reply"):
            queue_mail_to_user("client_reply", assignee, ticket=ticket, message=message, author=author, link=ticket_link(ticket))


def status_changed(ticket, old_status_name, actor):
    resolved = ticket.status_category == StatusCategory.RESOLVED
    kind = "ticket_resolved" if resolved else "ticket_status"
    extra = {}
    if resolved and scopes.sees_internal_notes(actor) and ticket.requester is not None and wants(ticket.requester, kind):
        extra["satisfaction_link"] = satisfaction.invite_link(ticket)  # P4: one-time rating link
    _to_requester(kind, ticket, actor, old_status=old_status_name, status=ticket.status.name, **extra)


def assigned(ticket, new_assignees, actor):
    for assignee in new_assignees:
        if not _same_person(assignee, actor) and wants(assignee, "ticket_assigned"):
            queue_mail_to_user("ticket_assigned", assignee, ticket=ticket, body=_first_message(ticket), link=ticket_link(ticket))


def _first_message(ticket):
    with db.session.no_autoflush:  # spare a flush (a pending first message is found below)
        body = (
            db.session.query(TicketMessage.body)
            .filter(TicketMessage.ticket_id == ticket.id, TicketMessage.internal.is_(False))
            .order_by(TicketMessage.id)
            .limit(1)
            .scalar()
        )
    if body is None:  # a ticket being opened: its first message may not be written yet
        pending = [m for m in db.session.new if isinstance(m, TicketMessage) and not m.internal and (m.ticket_id == ticket.id or m.ticket is ticket)]
        body = pending[0].body if pending else None
    return body or ""
