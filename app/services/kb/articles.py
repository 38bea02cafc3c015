"""Articles: fields, creation, changes, workflow, versions and restore."""
from flask_babel import gettext as _

from app.extensions import db
from app.models import ArticleKind, ArticleStatus, KbArticle, KbArticleVersion, KbCategory, Organisation, Product, Visibility
from app.security import scopes
from app.services import ServiceError, clock, search
from app.services.kb.common import (
    BODY_MAX,
    LANGUAGE_LABELS,
    STATUS_LABELS,
    SUMMARY_MAX,
    TAGS_MAX,
    TITLE_MAX,
    TRANSITIONS,
    _check_writer,
    _choice,
    _id,
    _organisations,
    _text,
    slugify,
)

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
