"""Sending queued webhook deliveries: signed POSTs with short timeouts, retried with
exponential backoff, in order per ticket and subscription (a delivery waits while an earlier
one for the same ticket is still queued). Each delivery is committed on its own."""
import logging
import time

import requests
from flask import current_app
from sqlalchemy import and_, exists
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import DeliveryStatus, WebhookDelivery
from app.services import clock, webhooks

log = logging.getLogger(__name__)


def deliver_due_webhooks(limit=100):
    """One pass over what is due; returns (delivered, failed). Needs an app context."""
    earlier = aliased(WebhookDelivery)
    waiting_behind_earlier = exists().where(
        and_(
            earlier.subscription_id == WebhookDelivery.subscription_id,
            earlier.ticket_id == WebhookDelivery.ticket_id,
            earlier.id < WebhookDelivery.id,
            earlier.status == DeliveryStatus.QUEUED,
        )
    )
    due = (
        db.session.query(WebhookDelivery.id)
        .filter(WebhookDelivery.status == DeliveryStatus.QUEUED, WebhookDelivery.next_attempt_on <= clock.now(), ~waiting_behind_earlier)
        .order_by(WebhookDelivery.id)
        .limit(limit)
        .all()
    )
    delivered = failed = 0
    blocked = set()  # (subscription, ticket) whose earlier delivery failed in this pass
    for (delivery_id,) in due:
        delivery = db.session.get(WebhookDelivery, delivery_id, with_for_update={"skip_locked": True})
        if delivery is None or delivery.status != DeliveryStatus.QUEUED:
            db.session.commit()
            continue
        key = (delivery.subscription_id, delivery.ticket_id)
        if delivery.ticket_id is not None and key in blocked:
            db.session.commit()
            continue
        ok = attempt(delivery)
        if not ok:
            blocked.add(key)
        delivered, failed = delivered + ok, failed + (not ok)
        db.session.commit()
    return delivered, failed


def attempt(delivery):
    subscription = delivery.subscription
    body = delivery.body.encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "NovaDesk-Webhooks/1",
        "X-NovaDesk-Event": delivery.event,
        "X-NovaDesk-Event-Id": delivery.event_id,
        "X-NovaDesk-Timestamp": str(int(time.time())),
        "X-NovaDesk-Signature": webhooks.signature(subscription.secret, body),
    }
    delivery.attempts += 1
    timeout = current_app.config.get("WEBHOOK_TIMEOUT_SECONDS", 5)
    try:
        webhooks.check_url(subscription.url)
        response = requests.post(subscription.url, data=body, headers=headers, timeout=(min(timeout, 3), timeout), allow_redirects=False)
        delivery.last_status_code = response.status_code
        if 200 <= response.status_code < 300:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_on = clock.now()
            delivery.last_error = None
            return True
        delivery.last_error = f"HTTP {response.status_code}: {response.text[:300]}"
    except Exception as error:  # network, timeout, refused URL: all retried alike
        delivery.last_error = f"{type(error).__name__}: {str(error)[:300]}"
    if delivery.attempts >= current_app.config.get("WEBHOOK_MAX_ATTEMPTS", 10):
        delivery.status = DeliveryStatus.FAILED
        log.warning("webhook %s to %s given up after %s attempts", delivery.event_id, subscription.url, delivery.attempts)
    else:
        delivery.next_attempt_on = clock.now() + webhooks.backoff(delivery.attempts)
    return False
