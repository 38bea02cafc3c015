"""Images of an article, and drafts from resolved tickets (personal data redacted)."""
import re

from flask import current_app
from flask_babel import gettext as _

from app.extensions import db
from app.models import ArticleKind, KbFile, StatusCategory, TicketMessage, Visibility
from app.security import scopes
from app.services import ServiceError, clock, uploads
from app.services.kb.articles import _check_can_change, create_article
from app.services.kb.common import _check_writer

# --- files ----------------------------------------------------------------------------


def add_file(actor, article, filename, stream):
    """An image or file for the article; returns it with the Markdown that shows it."""
    _check_writer(actor)
    _check_can_change(actor, article)  # a published article's files go live: same rule as its text
    root = current_app.config["UPLOAD_FOLDER"]
    try:
        stored = uploads.store_upload(root, filename, stream, max_bytes=current_app.config["MAX_ATTACHMENT_BYTES"])
    except uploads.UploadRefused as refused:
        raise ServiceError(refused.message, {"file": refused.reason})
    item = KbFile(
        article_id=article.id, filename=stored.filename, content_type=stored.content_type, size=stored.size,
        sha256=stored.sha256, storage_key=stored.storage_key, is_image=stored.is_image, uploaded_by_id=actor.id,
        created_on=clock.now(),
    )
    db.session.add(item)
    db.session.flush()
    return item


def file_markdown(item):
    url = f"/help/files/{item.id}"
    return f"![{item.filename}]({url})" if item.is_image else f"[{item.filename}]({url})"


# --- from a resolved ticket (K4) ------------------------------------------------------

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"(?<!\w)\+?\d[\d .-]{7,}\d")


def redact(value, ticket):
    """The ticket's text without the client's details: people, organisation, contacts."""
    value = _EMAIL.sub("[adresse e-mail]", value or "")
    value = _PHONE.sub("[téléphone]", value)
    names = set()
    for person in filter(None, [ticket.requester, ticket.created_by]):
        if person.organisation_id == ticket.organisation_id:
            names.update(n for n in (person.full_name, person.first_name, person.last_name) if n and len(n) > 1)
    for member in ticket.organisation.members:
        names.update(n for n in (member.full_name, member.first_name, member.last_name) if n and len(n) > 1)
    replacements = [(ticket.organisation.name, "[client]"), *((n, "[nom]") for n in names)]
    if ticket.number:
        replacements.append((ticket.number, "[ticket]"))
    for needle, placeholder in sorted(replacements, key=lambda r: -len(r[0])):
        value = re.sub(rf"(?<!\w){re.escape(needle)}(?!\w)", placeholder, value, flags=re.IGNORECASE)
    return value


def draft_from_ticket(actor, ticket):
    """A draft incident resolution with the ticket's question and accepted answer, client
    details removed, linked to the ticket."""
    _check_writer(actor)
    if ticket.status_category not in StatusCategory.DONE:
        raise ServiceError(_("Un article se rédige à partir d'un ticket résolu."))
    public = (
        db.session.query(TicketMessage)
        .filter(TicketMessage.ticket_id == ticket.id, TicketMessage.internal.is_(False))
        .order_by(TicketMessage.created_on, TicketMessage.id)
        .all()
    )
    question = public[0].body if public else ticket.title
    answers = [m for m in public[1:] if m.author is not None and scopes.is_staff(m.author)]
    answer = answers[-1].body if answers else ""
    body = "## {q}\n\n{question}\n\n## {a}\n\n{answer}\n".format(
        q=_("Le problème"), a=_("La solution"), question=redact(question, ticket), answer=redact(answer, ticket) or _("(à compléter)")
    )
    return create_article(
        actor,
        title=redact(ticket.title, ticket),
        body=body,
        kind=ArticleKind.INCIDENT,
        product_id=ticket.product_id,
        visibility=Visibility.INTERNAL,
        source_ticket_id=ticket.id,
    )
