"""Webhooks' one door: `emit(event, payload, ticket=None)` queues one delivery per active
subscription to the event, in the caller's transaction (nothing leaves if it rolls back).
The worker sends them (app/channels/webhook_out.py).

Every delivery is a POST of this JSON body:
    {"id": "<event id, a UUID>", "event": "ticket.created", "occurred_at": "2026-11-27T14:00:00+00:00",
     "data": {...}}
with the headers X-NovaDesk-Event, X-NovaDesk-Event-Id, X-NovaDesk-Timestamp (Unix seconds
of the attempt) and X-NovaDesk-Signature: sha256=<hex HMAC-SHA256 of the body, keyed by the
subscription's secret>.

`data` by event:
- ticket.created, ticket.updated, ticket.closed: {"ticket": TICKET} (+ "changes":
  {field: [old, new]} for ticket.updated);
- ticket.replied: {"ticket": TICKET, "message": {"id", "body", "author_email", "channel", "created_on"}}
  (public replies only; internal notes never leave NovaDesk);
- sla.breached: {"ticket": TICKET, "deadline": "first_response"|"resolution", "due": ISO time};
- chat.started: {"conversation": {...}} as the chat service gives it to `chat_started()`:
  {"id", "organisation": {"id", "name", "external_id"}, "visitor_external_id", "visitor_email",
  "identified", "question", "started_on"}.
TICKET = {"id", "number", "title", "status", "status_category", "priority", "type", "product",
"channel", "organisation": {"id", "name", "external_id"}, "requester_email", "created_on",
"resolved_on", "closed_on", "first_response_due", "resolution_due"}.
"""
import hashlib
import hmac
import json
import secrets
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import DeliveryStatus, WebhookDelivery, WebhookEvent, WebhookSubscription
from app.services import ServiceError, audit, clock, events

EVENT_LABELS = {
    WebhookEvent.TICKET_CREATED: _l("Ticket créé"),
    WebhookEvent.TICKET_UPDATED: _l("Ticket modifié (statut, priorité, assignation…)"),
    WebhookEvent.TICKET_REPLIED: _l("Réponse publique sur un ticket"),
    WebhookEvent.TICKET_CLOSED: _l("Ticket fermé"),
    WebhookEvent.CHAT_STARTED: _l("Conversation de chat ouverte"),
    WebhookEvent.SLA_BREACHED: _l("Délai SLA dépassé"),
}
STATUS_LABELS = {DeliveryStatus.QUEUED: _l("En attente"), DeliveryStatus.DELIVERED: _l("Livré"), DeliveryStatus.FAILED: _l("En échec")}


# --- subscriptions (admin screens) -------------------------------------------------------


def check_url(url):
    """Only http(s) URLs with a host: no file:, gopher:, javascript: or relative targets."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 1000:
        raise ServiceError(_("L'adresse doit commencer par http:// ou https:// et nommer un serveur."), {"url": "invalid"})
    return url


def check_subscription(actor, subscription, created=False):
    """Validate an admin's subscription before it is written; a new one gets its secret."""
    subscription.name = (subscription.name or "").strip()[:120]
    if not subscription.name:
        raise ServiceError(_("Ce champ est obligatoire : %(field)s.", field=_("Nom")), {"name": "required"})
    subscription.url = check_url(subscription.url)
    events = list(subscription.events or [])
    unknown = [e for e in events if e not in WebhookEvent.ALL]
    if unknown or not events:
        raise ServiceError(_("Choisissez au moins un événement parmi ceux proposés."), {"events": "invalid"})
    subscription.events = [e for e in WebhookEvent.ALL if e in events]
    if created or not subscription.secret:
        subscription.secret = new_secret()
    audit.record(db.session, "webhook.created" if created else "webhook.updated", actor=actor, details={"name": subscription.name, "url": subscription.url})


def new_secret():
    return secrets.token_hex(32)


def renew_secret(actor, subscription):
    subscription.secret = new_secret()
    audit.record(db.session, "webhook.secret_renewed", actor=actor, details={"name": subscription.name})


# --- emitting ------------------------------------------------------------------------------


def emit(event, payload, ticket=None):
    """Queue `event` for every active subscription to it; returns the deliveries. Call it in
    the transaction of the change; the body is fixed now, so retries send the same bytes."""
    if event not in WebhookEvent.ALL:
        raise ValueError(f"unknown webhook event {event!r}")
    subscriptions = [s for s in _active_subscriptions() if event in (s.events or ())]
    if not subscriptions:
        return []
    now = clock.now()
    ticket_id = getattr(ticket, "id", ticket)
    deliveries = []
    for subscription in subscriptions:
        event_id = str(uuid.uuid4())
        body = json.dumps({"id": event_id, "event": event, "occurred_at": now.isoformat(), "data": payload}, ensure_ascii=False, default=str, sort_keys=True)
        delivery = WebhookDelivery(
            subscription_id=subscription.id, event=event, event_id=event_id, ticket_id=ticket_id, body=body,
            status=DeliveryStatus.QUEUED, next_attempt_on=now, created_on=now,
        )
        db.session.add(delivery)
        deliveries.append(delivery)
    db.session.flush()
    events.publish("worker.wake")
    return deliveries


_SUBSCRIPTIONS = "webhook_subscriptions"


def _active_subscriptions():
    """Read once per transaction (a request, a batch of mail), and again after a change to
    any subscription."""
    cached = db.session.info.get(_SUBSCRIPTIONS)
    if cached is None:
        with db.session.no_autoflush:  # settings: the change being told does not change them (spares a flush)
            cached = db.session.query(WebhookSubscription).filter(WebhookSubscription.active.is_(True)).order_by(WebhookSubscription.id).all()
        db.session.info[_SUBSCRIPTIONS] = cached
    return cached


@sa_event.listens_for(Session, "after_flush")
def _forget_changed_subscriptions(session, _context):
    if any(isinstance(obj, WebhookSubscription) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info.pop(_SUBSCRIPTIONS, None)


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_subscriptions(session, transaction):
    if transaction.parent is None:
        session.info.pop(_SUBSCRIPTIONS, None)


def _iso(moment):
    return moment.isoformat() if moment is not None else None


def ticket_payload(ticket):
    organisation = ticket.organisation
    return {
        "id": ticket.id,
        "number": ticket.number,
        "title": ticket.title,
        "status": ticket.status.name if ticket.status else None,
        "status_category": ticket.status_category,
        "priority": ticket.priority.key if ticket.priority else None,
        "type": ticket.type.name if ticket.type else None,
        "product": ticket.product.code if ticket.product else None,
        "channel": ticket.channel,
        "organisation": {"id": organisation.id, "name": organisation.name, "external_id": organisation.external_id} if organisation else None,
        "requester_email": ticket.requester.email if ticket.requester else ticket.requester_email,
        "created_on": _iso(ticket.created_on),
        "resolved_on": _iso(ticket.resolved_on),
        "closed_on": _iso(ticket.closed_on),
        "first_response_due": _iso(ticket.first_response_due),
        "resolution_due": _iso(ticket.resolution_due),
    }


def ticket_created(ticket):
    return emit(WebhookEvent.TICKET_CREATED, {"ticket": ticket_payload(ticket)}, ticket=ticket)


def ticket_updated(ticket, field, old, new):
    return emit(WebhookEvent.TICKET_UPDATED, {"ticket": ticket_payload(ticket), "changes": {field: [old, new]}}, ticket=ticket)


def ticket_closed(ticket):
    return emit(WebhookEvent.TICKET_CLOSED, {"ticket": ticket_payload(ticket)}, ticket=ticket)


def ticket_replied(ticket, message):
    if message.internal:
        return []
    author_email = message.author.email if message.author else message.author_email
    data = {
        "ticket": ticket_payload(ticket),
        "message": {"id": message.id, "body": message.body, "author_email": author_email, "channel": message.channel or "web", "created_on": _iso(message.created_on)},
    }
    return emit(WebhookEvent.TICKET_REPLIED, data, ticket=ticket)


def chat_started(conversation, ticket=None):
    """For the chat service: `conversation` is a dict, e.g. {"id", "organisation": {"id",
    "name", "external_id"}, "visitor_email", "product", "started_on" (ISO)}; give `ticket` when
    the conversation already has one, so its events stay in order with the ticket's."""
    return emit(WebhookEvent.CHAT_STARTED, {"conversation": conversation}, ticket=ticket)


def sla_breached(ticket, deadline, due):
    return emit(WebhookEvent.SLA_BREACHED, {"ticket": ticket_payload(ticket), "deadline": deadline, "due": _iso(due)}, ticket=ticket)


# --- signing, retries, resending ---------------------------------------------------------


def signature(secret, body):
    """The value of X-NovaDesk-Signature for this body."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return "sha256=" + hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).hexdigest()


def backoff(attempts):
    """Wait before the next attempt: WEBHOOK_RETRY_SECONDS doubled at each failure, at most an hour."""
    base = current_app.config.get("WEBHOOK_RETRY_SECONDS", 30)
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 3600))


def resend(actor, deliveries):
    """"Renvoyer": queue deliveries again, now (the receiver gets the same event id)."""
    now = clock.now()
    for delivery in deliveries:
        delivery.status = DeliveryStatus.QUEUED
        delivery.next_attempt_on = now
        delivery.attempts = 0
        delivery.delivered_on = None
        audit.record(db.session, "webhook.resent", actor=actor, details={"event": delivery.event, "event_id": delivery.event_id})
    events.publish("worker.wake")
