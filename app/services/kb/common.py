"""The knowledge base's labels, checks of what is typed and access to an article."""
import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import ArticleKind, ArticleStatus, Organisation, Visibility
from app.security import scopes
from app.services import ServiceError, search

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
