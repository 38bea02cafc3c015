"""The knowledge base's one door (K1–K5): categories, articles and their workflow, versions
and restore, images, drafts from resolved tickets, views and votes, suggestions shown before a
ticket or a chat. Each function checks the actor's rights through scopes.py and flushes; the
caller commits."""
import re
import secrets
import threading
import time
from collections import Counter

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, update

from app.extensions import db
from app.models import (
    ArticleKind,
    ArticleStatus,
    KbArticle,
    KbArticleVersion,
    KbCategory,
    KbFile,
    KbSuggestion,
    KbVote,
    Organisation,
    Product,
    StatusCategory,
    TicketMessage,
    Visibility,
)
from app.security import scopes
from app.services import ServiceError, clock, search, uploads

TITLE_MAX = 200
SUMMARY_MAX = 300
BODY_MAX = 200_000
TAGS_MAX = 300

KIND_LABELS = {
    ArticleKind.FAQ: _l("Question fréquente"),
    ArticleKind.GUIDE: _l("Guide d'utilisation"),
    ArticleKind.INCIDENT: _l("Résolution d'incident"),
    ArticleKind.RELEASE_NOTE: _l("Note de version"),
    ArticleKind.WIKI: _l("Page du wiki client"),
}
STATUS_LABELS = {
    ArticleStatus.DRAFT: _l("Brouillon"),
    ArticleStatus.REVIEW: _l("En relecture"),
    ArticleStatus.PUBLISHED: _l("Publié"),
    ArticleStatus.ARCHIVED: _l("Archivé"),
}
VISIBILITY_LABELS = {
    Visibility.PUBLIC: _l("Public (sans connexion)"),
    Visibility.PARTNERS: _l("Tous les partenaires connectés"),
    Visibility.ORGANISATIONS: _l("Organisations choisies"),
    Visibility.INTERNAL: _l("Interne (équipe NOVA LEAD)"),
}
LANGUAGE_LABELS = {"fr": _l("Français"), "en": _l("Anglais")}

# (from, to): who may move an article — "write" (staff) or "publish" (supervisors, admins).
TRANSITIONS = {
    (ArticleStatus.DRAFT, ArticleStatus.REVIEW): "write",
    (ArticleStatus.REVIEW, ArticleStatus.DRAFT): "write",
    (ArticleStatus.REVIEW, ArticleStatus.PUBLISHED): "publish",
    (ArticleStatus.DRAFT, ArticleStatus.PUBLISHED): "publish",
    (ArticleStatus.PUBLISHED, ArticleStatus.ARCHIVED): "publish",
    (ArticleStatus.PUBLISHED, ArticleStatus.DRAFT): "publish",
    (ArticleStatus.ARCHIVED, ArticleStatus.DRAFT): "write",
}


class ArticleNotFound(ServiceError):
    not_found = True

    def __init__(self):
        super().__init__(_("Cet article n'existe pas ou ne vous est pas accessible."))


# --- checks ---------------------------------------------------------------------------


def _check_writer(actor):
    if not scopes.writes_articles(actor):
        raise ServiceError(_("Seule l'équipe de support rédige les articles."))


def _text(value, field, maximum, required=False):
    value = (value or "").strip()
    if required and not value:
        raise ServiceError(_("Ce champ est obligatoire : %(field)s.", field=field), {field: "required"})
    if len(value) > maximum:
        raise ServiceError(_("%(field)s : %(n)s caractères au plus.", field=field, n=maximum), {field: "too_long"})
    return value


def _choice(value, allowed, field, default=None):
    value = value or default
    if value not in allowed:
        raise ServiceError(_("Valeur inconnue pour « %(field)s ».", field=field), {field: "invalid"})
    return value


def _id(value):
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ServiceError(_("Identifiant invalide."))


def _organisations(ids):
    ids = [i for i in (_id(v) for v in ids or []) if i]
    found = db.session.query(Organisation).filter(Organisation.id.in_(ids), scopes.partner_organisations_filter()).all() if ids else []
    if len(found) != len(set(ids)):
        raise ServiceError(_("Organisation inconnue."))
    return found


def slugify(value):
    slug = re.sub(r"[^a-z0-9]+", "-", search.normalise(value)).strip("-")
    return slug[:80] or "article"


def access_article(actor, article_id):
    try:
        return scopes.access_article(db.session, actor, _id(article_id))
    except (scopes.NotVisible, ServiceError):
        raise ArticleNotFound()


# --- categories -----------------------------------------------------------------------


def _category_fields(category, *, name, parent_id=None, description=None, position=0, visibility=None, organisation_ids=(), icon=None):
    category.name = name
    category.parent_id = _id(parent_id)
    category.parent = db.session.get(KbCategory, category.parent_id) if category.parent_id else None
    category.description = _text(description, _("Description"), 1000)
    category.icon = _text(icon, _("Icône"), 40) or None
    try:
        category.position = int(position or 0)
    except (TypeError, ValueError):
        raise ServiceError(_("L'ordre doit être un nombre."))
    category.visibility = visibility or Visibility.PUBLIC
    category.organisations = _organisations(organisation_ids) if category.visibility == Visibility.ORGANISATIONS else []


def check_category(actor, category):
    """The rules of a category, however it was filled in (service call or admin screen)."""
    _check_writer(actor)
    category.name = _text(category.name, _("Nom"), 150, required=True)
    ancestor = category.parent
    if category.parent_id is not None and ancestor is None:
        ancestor = db.session.get(KbCategory, category.parent_id)
        if ancestor is None:
            raise ServiceError(_("Thème parent inconnu."))
    depth = 0
    while ancestor is not None and depth < 50:  # a category cannot sit under itself
        if ancestor is category or (category.id is not None and ancestor.id == category.id):
            raise ServiceError(_("Un thème ne peut pas être rangé sous lui-même."))
        ancestor, depth = ancestor.parent, depth + 1
    _choice(category.visibility, Visibility.ALL, _("Visibilité"))
    if category.visibility == Visibility.ORGANISATIONS and not category.organisations:
        raise ServiceError(_("Choisissez au moins une organisation."))
    if any(o.kind == "vendor" or o.holds_unidentified for o in category.organisations):
        raise ServiceError(_("Un thème ne s'adresse qu'à des organisations partenaires."))
    if category.visibility != Visibility.ORGANISATIONS:
        category.organisations = []


def create_category(actor, **fields):
    _check_writer(actor)
    category = KbCategory()
    _category_fields(category, **fields)
    check_category(actor, category)
    db.session.add(category)
    db.session.flush()
    return category


def check_category_removable(actor, category):
    _check_writer(actor)
    if category.children or db.session.query(KbArticle.id).filter_by(category_id=category.id).first():
        raise ServiceError(_("Ce thème contient des articles ou des sous-thèmes : déplacez-les d'abord."))


# --- articles -------------------------------------------------------------------------

_CONTENT = ("title", "summary", "body", "tags")


def _article_fields(article, *, title, body, summary=None, kind=None, category_id=None, product_id=None,
                    product_version=None, tags=None, language=None, translation_of_id=None, visibility=None,
                    organisation_ids=(), wiki_organisation_id=None):
    article.title = _text(title, _("Titre"), TITLE_MAX, required=True)
    article.body = _text(body, _("Contenu"), BODY_MAX, required=True)
    article.summary = _text(summary, _("Résumé"), SUMMARY_MAX) or None
    article.tags = ", ".join(t.strip() for t in _text(tags, _("Mots-clés"), TAGS_MAX).split(",") if t.strip())
    article.language = _choice(language, LANGUAGE_LABELS, _("Langue"), "fr")
    wiki_id = _id(wiki_organisation_id)
    if wiki_id is not None:
        wiki = db.session.query(Organisation).filter(Organisation.id == wiki_id, scopes.partner_organisations_filter()).one_or_none()
        if wiki is None:
            raise ServiceError(_("Le wiki appartient à une organisation cliente."))
        article.wiki_organisation_id = wiki_id
        article.kind = ArticleKind.WIKI
        article.visibility = Visibility.ORGANISATIONS
        article.organisations = [wiki]
    else:
        article.wiki_organisation_id = None
        article.kind = _choice(kind, [k for k in ArticleKind.ALL if k != ArticleKind.WIKI], _("Type"), ArticleKind.FAQ)
        article.visibility = _choice(visibility, Visibility.ALL, _("Visibilité"), Visibility.INTERNAL)
        article.organisations = _organisations(organisation_ids) if article.visibility == Visibility.ORGANISATIONS else []
        if article.visibility == Visibility.ORGANISATIONS and not article.organisations:
            raise ServiceError(_("Choisissez au moins une organisation."))
    category_id = _id(category_id)
    if category_id is not None and db.session.get(KbCategory, category_id) is None:
        raise ServiceError(_("Catégorie inconnue."))
    article.category_id = category_id
    product_id = _id(product_id)
    if product_id is not None and db.session.get(Product, product_id) is None:
        raise ServiceError(_("Produit inconnu."))
    article.product_id = product_id
    article.product = db.session.get(Product, product_id) if product_id else None
    article.product_version = _text(product_version, _("Version"), 50) or None
    translation_of_id = _id(translation_of_id)
    if translation_of_id is not None:
        original = db.session.get(KbArticle, translation_of_id)
        if original is None or original.id == article.id:
            raise ServiceError(_("Article d'origine inconnu."))
        article.translation_of_id = original.translation_of_id or original.id
    else:
        article.translation_of_id = None
    article.slug = slugify(article.title)
    search.prepare(article)


def _snapshot(article, actor, changed_fields, note=None):
    db.session.add(
        KbArticleVersion(
            article_id=article.id,
            number=article.version,
            title=article.title,
            summary=article.summary,
            body=article.body,
            tags=article.tags or "",
            status=article.status,
            changed_fields=",".join(changed_fields)[:300],
            note=(note or "")[:300] or None,
            changed_by_id=actor.id if actor else None,
            changed_on=clock.now(),
        )
    )


def create_article(actor, *, source_ticket_id=None, **fields):
    _check_writer(actor)
    article = KbArticle(status=ArticleStatus.DRAFT, author_id=actor.id, version=1, created_on=clock.now(), updated_on=clock.now())
    _article_fields(article, **fields)
    article.source_ticket_id = source_ticket_id
    db.session.add(article)
    db.session.flush()
    _snapshot(article, actor, ["created"], note=_("Création"))
    db.session.flush()
    return article


def _check_can_change(actor, article):
    _check_writer(actor)
    if article.status in (ArticleStatus.PUBLISHED, ArticleStatus.ARCHIVED) and not scopes.publishes_articles(actor):
        raise ServiceError(_("Un article publié ou archivé est modifié par un superviseur ; repassez-le en brouillon d'abord."))


def update_article(actor, article, note=None, **fields):
    _check_can_change(actor, article)
    before = {name: getattr(article, name) for name in (*_CONTENT, "category_id", "product_id", "product_version", "visibility", "kind", "language", "wiki_organisation_id")}
    before_orgs = sorted(o.id for o in article.organisations)
    _article_fields(article, **fields)
    changed = [name for name, value in before.items() if getattr(article, name) != value]
    if sorted(o.id for o in article.organisations) != before_orgs:
        changed.append("organisations")
    if not changed:
        return article
    article.updated_on = clock.now()
    article.version += 1
    _snapshot(article, actor, changed, note=note)
    db.session.flush()
    return article


def change_status(actor, article, target):
    _check_writer(actor)
    target = _choice(target, ArticleStatus.ALL, _("Statut"))
    needed = TRANSITIONS.get((article.status, target))
    if needed is None:
        raise ServiceError(_("Passage impossible de « %(old)s » à « %(new)s ».", old=STATUS_LABELS[article.status], new=STATUS_LABELS[target]))
    if needed == "publish" and not scopes.publishes_articles(actor):
        raise ServiceError(_("Seuls les superviseurs et les administrateurs approuvent et publient les articles."))
    old = article.status
    article.status = target
    article.updated_on = clock.now()
    if target == ArticleStatus.PUBLISHED:
        article.published_on = clock.now()
    article.version += 1
    _snapshot(article, actor, ["status"], note=f"{STATUS_LABELS[old]} → {STATUS_LABELS[target]}")
    db.session.flush()
    return article


def next_statuses(actor, article):
    """The states the actor may move the article to, in a sensible order for buttons."""
    publisher = scopes.publishes_articles(actor)
    return [to for to in (ArticleStatus.REVIEW, ArticleStatus.PUBLISHED, ArticleStatus.DRAFT, ArticleStatus.ARCHIVED)
            if TRANSITIONS.get((article.status, to)) in (("write", "publish") if publisher else ("write",))]


def versions(article):
    return db.session.query(KbArticleVersion).filter_by(article_id=article.id).order_by(KbArticleVersion.number.desc()).all()


def restore_version(actor, article, number):
    """The content of an earlier version becomes the current one, as a new version."""
    _check_can_change(actor, article)
    old = db.session.query(KbArticleVersion).filter_by(article_id=article.id, number=_id(number)).one_or_none()
    if old is None:
        raise ServiceError(_("Cette version n'existe pas."))
    changed = [name for name in _CONTENT if (getattr(article, name) or "") != (getattr(old, name) or "")]
    article.title, article.summary, article.body, article.tags = old.title, old.summary, old.body, old.tags
    article.slug = slugify(article.title)
    article.updated_on = clock.now()
    search.prepare(article)
    article.version += 1
    _snapshot(article, actor, changed or ["restored"], note=_("Version %(n)s rétablie", n=old.number))
    db.session.flush()
    return article


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


# --- readers: views, votes, suggestions -----------------------------------------------


# Views are counted in memory and written in one transaction every few seconds per process:
# reading an article then costs no write (a crash loses at most those seconds of counts).
_pending_views = Counter()
_views_lock = threading.Lock()
_last_views_flush = [0.0]
VIEW_FLUSH_SECONDS = 10


def record_view(article):
    with _views_lock:
        _pending_views[article.id] += 1


def flush_views(force=False):
    """Write the counted views when the interval has passed (or when forced); returns whether
    anything was written, so that the caller knows to commit."""
    with _views_lock:
        if not _pending_views or (not force and time.monotonic() - _last_views_flush[0] < VIEW_FLUSH_SECONDS):
            return False
        pending = dict(_pending_views)
        _pending_views.clear()
        _last_views_flush[0] = time.monotonic()
    for article_id, count in sorted(pending.items()):
        db.session.execute(update(KbArticle).where(KbArticle.id == article_id).values(view_count=KbArticle.view_count + count))
    return True


def vote(actor, article, voter_key, helpful):
    """One vote per reader; voting again replaces the earlier vote."""
    if not voter_key:
        raise ServiceError(_("Vote impossible sans session."))
    helpful = bool(helpful)
    existing = db.session.query(KbVote).filter_by(article_id=article.id, voter_key=voter_key).one_or_none()
    if existing is not None:
        if existing.helpful == helpful:
            return existing
        column = KbArticle.helpful_yes if existing.helpful else KbArticle.helpful_no
        db.session.execute(update(KbArticle).where(KbArticle.id == article.id).values({column: column - 1}))
        existing.helpful = helpful
        item = existing
    else:
        item = KbVote(article_id=article.id, voter_key=voter_key, user_id=getattr(actor, "id", None), helpful=helpful, created_on=clock.now())
        db.session.add(item)
    column = KbArticle.helpful_yes if helpful else KbArticle.helpful_no
    db.session.execute(update(KbArticle).where(KbArticle.id == article.id).values({column: column + 1}))
    db.session.flush()
    return item


SUGGESTION_CHANNELS = ("ticket_form", "chat")


def record_suggestions(actor, query, articles, channel):
    """Remember what was proposed; the token comes back with the ticket if one is filed."""
    channel = _choice(channel, SUGGESTION_CHANNELS, "channel", "ticket_form")
    item = KbSuggestion(
        token=secrets.token_urlsafe(18), channel=channel, user_id=getattr(actor, "id", None),
        query=(query or "")[:200], article_ids=",".join(str(a.id) for a in articles)[:200], shown_on=clock.now(),
    )
    db.session.add(item)
    db.session.flush()
    return item


def _own_suggestion(actor, token):
    if not token:
        return None
    item = db.session.query(KbSuggestion).filter_by(token=str(token)[:40]).one_or_none()
    if item is None or item.user_id != getattr(actor, "id", None):
        return None
    return item


def suggestion_opened(actor, token, article):
    item = _own_suggestion(actor, token)
    if item is not None and item.opened_article_id is None:
        item.opened_article_id = article.id
        db.session.flush()


def ticket_filed_after_suggestions(actor, token, ticket):
    """The ticket was filed anyway: this suggestion did not deflect it."""
    item = _own_suggestion(actor, token)
    if item is not None and item.ticket_id is None:
        item.ticket_id = ticket.id
        db.session.flush()


def deflection(since=None):
    """Suggestions shown (with at least one article) and how many ended without a ticket."""
    query = db.session.query(func.count(KbSuggestion.id), func.count(KbSuggestion.ticket_id)).filter(KbSuggestion.article_ids != "")
    if since is not None:
        query = query.filter(KbSuggestion.shown_on >= since)
    shown, filed = query.one()
    return {"shown": shown, "filed": filed, "deflected": shown - filed, "rate": (shown - filed) / shown if shown else None}
