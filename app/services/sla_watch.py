"""The SLA watch (T13), run by the worker at every pass: a warning shortly before a deadline
(SLA_WARNING_MINUTES), an alert once it has passed, each sent once to the ticket's
assignees and the supervisors — by e-mail through the outbox, and on the dashboards, which
read the recorded alerts. The escalation rules an admin configured act at the same moment:
next support level, another assignee, a higher priority, a word to the client's commercial.

A deadline that moves (priority raised, time waiting for the client) is a new deadline and
is watched again. Breaches older than SLA_ALERT_LOOKBACK_HOURS are not mailed: a worker
that was stopped for a week does not flood everyone when it starts again.
"""
import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, or_
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import EscalationRule, SlaAlert, SlaDeadline, SlaStage, StatusCategory, Ticket
from app.security import scopes
from app.services import ServiceError, clock, mail, notifications, rollups, tickets, webhooks
from app.services.notifications import ticket_link

log = logging.getLogger(__name__)


def _deadlines(ticket):
    if ticket.first_responded_on is None and ticket.first_response_due is not None:
        yield SlaDeadline.FIRST_RESPONSE, ticket.first_response_due
    if ticket.resolution_due is not None:
        yield SlaDeadline.RESOLUTION, ticket.resolution_due


def check_deadlines():
    """One pass: record and announce every new warning and breach; returns how many."""
    now = clock.now()
    soon = now + timedelta(minutes=current_app.config.get("SLA_WARNING_MINUTES", 60))
    since = now - timedelta(hours=current_app.config.get("SLA_ALERT_LOOKBACK_HOURS", 24))
    window = lambda column: and_(column >= since, column <= soon)  # noqa: E731
    candidates = (
        db.session.query(Ticket)
        .filter(
            Ticket.status_category.in_(StatusCategory.ACTIVE),
            Ticket.merged_into_id.is_(None),
            Ticket.sla_paused_since.is_(None),
            or_(and_(Ticket.first_responded_on.is_(None), window(Ticket.first_response_due)), window(Ticket.resolution_due)),
        )
        .order_by(Ticket.id)
        .all()
    )
    raised = 0
    for ticket in candidates:
        for deadline, due in list(_deadlines(ticket)):
            if not since <= due <= soon:
                continue
            stage = SlaStage.BREACH if due <= now else SlaStage.WARNING
            if _record_once(ticket, deadline, stage, due, now):
                raised += 1
                priority_before = ticket.priority_id
                actions = _apply_rules(ticket, deadline, stage, priority_before)
                _announce(ticket, deadline, stage, due, actions)
                if stage == SlaStage.BREACH:
                    webhooks.sla_breached(ticket, deadline, due)
    return raised


def _record_once(ticket, deadline, stage, due, now):
    exists = db.session.query(SlaAlert.id).filter_by(ticket_id=ticket.id, deadline=deadline, stage=stage, due=due).first()
    if exists:
        return False
    try:
        with db.session.begin_nested():  # another worker may record the same alert first
            db.session.add(SlaAlert(ticket_id=ticket.id, deadline=deadline, stage=stage, due=due, created_on=now))
    except IntegrityError:
        return False
    tickets.record_event(ticket, None, f"sla_{stage}", "deadline", None, deadline, internal=True)
    if stage == SlaStage.BREACH:
        rollups.deadline_passed(db.session, ticket.id)  # the reports count it late from now on
    return True


def _apply_rules(ticket, deadline, stage, priority_id):
    """The admin's escalation rules for this alert, in order; what they did, in words."""
    rules = (
        db.session.query(EscalationRule)
        .filter(EscalationRule.active.is_(True), EscalationRule.stage == stage)
        .order_by(EscalationRule.position, EscalationRule.id)
        .all()
    )
    done = []
    for rule in rules:
        if rule.deadline not in (None, "", deadline) or rule.priority_id not in (None, priority_id):
            continue
        if rule.raise_level:
            try:
                tickets.move_to_next_level(None, ticket)
                done.append(("level", ticket.queue.support_level))
            except ServiceError:
                pass  # already at the top level
        if rule.reassign_to is not None and tickets.hand_over(ticket, rule.reassign_to):
            done.append(("reassigned", rule.reassign_to.full_name))
        if rule.raise_priority and tickets.raise_priority_one_step(ticket):
            done.append(("priority", ticket.priority.name))
        if rule.notify_commercial and ticket.organisation.account_manager is not None:
            done.append(("commercial", ticket.organisation.account_manager))
    return done


def _supervisors():
    return scopes.supervisors(db.session)


def _sees(person, ticket):
    try:
        scopes.access_ticket(db.session, person, ticket.id)
        return True
    except scopes.NotVisible:
        return False


def _recipients(ticket, actions):
    """Assignees and supervisors who keep SLA alerts on (their profile's notification
    choices), and the commercial a rule asked to tell (always)."""
    people = {}
    for person in [*ticket.assignees, *_supervisors()]:
        if scopes.is_staff(person) and notifications.wants(person, "sla_alert"):
            people[person.id] = person
    for kind, person in actions:
        if kind == "commercial" and person.active and person.email and _sees(person, ticket):
            people[person.id] = person
    return list(people.values())


def _action_words(actions):
    words = []
    for kind, value in actions:
        if kind == "level":
            words.append(_("transmis au support de niveau %(n)s", n=value))
        elif kind == "reassigned":
            words.append(_("confié à %(name)s", name=value))
        elif kind == "priority":
            words.append(_("priorité relevée à « %(name)s »", name=value))
        elif kind == "commercial":
            words.append(_("%(name)s (commercial) prévenu", name=value.full_name))
    return words


def _announce(ticket, deadline, stage, due, actions):
    link = ticket_link(ticket)
    kind = "sla_breach" if stage == SlaStage.BREACH else "sla_warning"
    for person in _recipients(ticket, actions):
        with force_locale(person.locale or "fr"):
            label = _("première réponse") if deadline == SlaDeadline.FIRST_RESPONSE else _("résolution")
            when = due.astimezone(ZoneInfo(person.timezone or "Europe/Paris")).strftime("%d/%m/%Y %H:%M")
            mail.queue_mail_to_user(kind, person, ticket=ticket, deadline_label=label, due=when, link=link, actions=_action_words(actions))


def check_rule(rule):
    """An escalation rule as an admin typed it: it must do something, and hand tickets only
    to an active support member."""
    rule.deadline = rule.deadline or None
    if rule.stage not in SlaStage.ALL or rule.deadline not in (None, *SlaDeadline.ALL):
        raise ServiceError(_("Choisissez quand la règle s'applique."))
    if not (rule.raise_level or rule.reassign_to or rule.raise_priority or rule.notify_commercial):
        raise ServiceError(_("La règle doit faire au moins une chose : niveau suivant, nouvel attribué, priorité ou commercial."))
    if rule.reassign_to is not None and rule.reassign_to not in tickets.staff_members():
        raise ServiceError(_("Seuls des membres actifs du support peuvent recevoir un ticket."))
