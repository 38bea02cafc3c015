"""Queue e-mail into the outbox, in the caller's transaction.

Templates live in templates/mail/<locale>/<kind>.txt; their first line is `Subject: …`.
The HTML part wraps the same text in NovaDesk's mail layout. With no MAIL_SERVER configured,
mail is kept for the development mailbox (and written to the log) instead of being sent.
"""
import logging

from flask import current_app, render_template
from markupsafe import Markup, escape

from app.extensions import db
from app.models import OutboxMail, OutboxStatus
from app.services.transactions import on_commit

log = logging.getLogger(__name__)
SUPPORTED_LOCALES = ("fr", "en")


def render_mail(kind, locale, **context):
    locale = locale if locale in SUPPORTED_LOCALES else "fr"
    context.setdefault("app_name", current_app.config["APP_NAME"])
    context.setdefault("vendor_name", current_app.config["VENDOR_NAME"])
    text = render_template(f"mail/{locale}/{kind}.txt", **context)
    first_line, _, body = text.partition("\n")
    if not first_line.startswith("Subject:"):
        raise ValueError(f"mail template {locale}/{kind} must start with 'Subject:'")
    subject = first_line[len("Subject:"):].strip()
    body = body.strip() + "\n"
    paragraphs = [Markup("<br>").join(escape(line) for line in block.splitlines()) for block in body.split("\n\n")]
    html = render_template("mail/layout.html", subject=subject, paragraphs=paragraphs, locale=locale, **context)
    return subject, body, html


def queue_mail(kind, recipient, locale="fr", **context):
    subject, text, html = render_mail(kind, locale, **context)
    kept = not current_app.config.get("MAIL_SERVER")
    message = OutboxMail(
        kind=kind,
        recipient=recipient,
        subject=subject,
        body_text=text,
        body_html=html,
        status=OutboxStatus.KEPT if kept else OutboxStatus.QUEUED,
    )
    db.session.add(message)
    db.session.flush()
    if kept:
        on_commit(lambda: log.info("Development mailbox — to %s: %s\n%s", recipient, subject, text))
    else:
        from app import worker

        on_commit(worker.wake)
    return message


def queue_mail_to_user(kind, user, **context):
    return queue_mail(kind, user.email, locale=user.locale or "fr", user=user, **context)
