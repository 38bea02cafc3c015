"""Queue e-mail into the outbox, in the caller's transaction.

Templates live in templates/mail/<locale>/<kind>.txt; their first line is `Subject: …`.
The HTML part wraps the same text in NovaDesk's mail layout. With no MAIL_SERVER configured,
mail is kept for the development mailbox (and written to the log) instead of being sent.
Mail about a ticket carries its reference in the subject, a Message-ID fixed now (a retry
resends the same message) and the ticket's thread id, so that replies find their ticket.
"""
import logging
import secrets

from flask import current_app, render_template
from markupsafe import Markup, escape

from app.extensions import db
from app.models import OutboxMail, OutboxStatus
from app.services import events

log = logging.getLogger(__name__)
SUPPORTED_LOCALES = ("fr", "en")


# Everything above this line in a reply is the new message (app/channels/mail_parse.py cuts there).
REPLY_MARKER = {"fr": "##- Répondez au-dessus de cette ligne -##", "en": "##- Please type your reply above this line -##"}


def sender_domain():
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    return sender.rsplit("@", 1)[-1].strip("> ").lower() or "novadesk.local"


def ticket_thread_id(ticket):
    """The id every mail about a ticket refers to: mail clients thread on it, NovaDesk too."""
    return f"<ticket-{ticket.id}@{sender_domain()}>"


def new_message_id(ticket=None):
    prefix = f"nd-{ticket.id}-" if ticket is not None else "nd-"
    return f"<{prefix}{secrets.token_hex(8)}@{sender_domain()}>"


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
    marker = REPLY_MARKER[locale] if context.get("ticket") is not None else None
    if marker:
        body = f"{marker}\n\n{body}"
    html = render_template("mail/layout.html", subject=subject, paragraphs=paragraphs, locale=locale, marker=marker, **context)
    return subject, body, html


def queue_mail(kind, recipient, locale="fr", ticket=None, in_reply_to=None, auto_submitted=True, **context):
    """Write one mail into the outbox. With a ticket: reference in the subject, reply marker,
    threading headers and the Reply-To of the support mailbox."""
    subject, text, html = render_mail(kind, locale, ticket=ticket, **context)
    kept = not current_app.config.get("MAIL_SERVER")
    references = None
    if ticket is not None:
        tag = f"[{ticket.number}]"
        subject = subject if tag in subject else f"{tag} {subject}"
        references = " ".join(filter(None, [ticket_thread_id(ticket), in_reply_to]))
    message = OutboxMail(
        kind=kind,
        recipient=recipient,
        subject=subject[:300],
        body_text=text,
        body_html=html,
        status=OutboxStatus.KEPT if kept else OutboxStatus.QUEUED,
        message_id=new_message_id(ticket),
        references_header=references,
        reply_to=current_app.config.get("MAIL_REPLY_TO") or None,
        ticket_id=getattr(ticket, "id", None),
        auto_submitted=auto_submitted,
    )
    db.session.add(message)  # flushed with the caller's change, like everything else
    if kept:
        events.publish("mail.kept", {"recipient": recipient, "subject": subject, "text": text})
    else:
        events.publish("worker.wake")
    return message


def log_kept_mail(event):
    """Event sink: without an SMTP relay, a committed mail is written to the log."""
    if event.kind == "mail.kept":
        log.info("Development mailbox — to %s: %s\n%s", event.payload["recipient"], event.payload["subject"], event.payload["text"])


def queue_mail_to_user(kind, user, **context):
    return queue_mail(kind, user.email, locale=user.locale or "fr", user=user, **context)
