"""Reads of the help centre (K1–K4) that decide what a reader sees: the themes and the
articles open to them, and an article's other languages among those. Built on scopes.py."""
from sqlalchemy.orm import defer, joinedload

from app.models import KbArticle, KbCategory
from app.security import scopes


def visible_categories(session, user):
    """The themes `user` may browse, in their display order."""
    ids = scopes.visible_category_ids(session, user)
    query = session.query(KbCategory)
    if ids is not None:
        query = query.filter(KbCategory.id.in_(ids))
    return query.order_by(KbCategory.position, KbCategory.name).all()


def readable_articles(session, user):
    """A query of the articles `user` may read, for lists: without their long texts, with
    their product."""
    return (
        session.query(KbArticle)
        .filter(scopes.articles_filter(user))
        .options(defer(KbArticle.body), defer(KbArticle.search_title), defer(KbArticle.search_body), defer(KbArticle.search_tags), joinedload(KbArticle.product))
    )


def translations_of(session, user, article):
    """The article's other languages that `user` may read (found by their link, an index)."""
    root = article.translation_of_id or article.id
    linked = [i for (i,) in session.query(KbArticle.id).filter(KbArticle.translation_of_id == root)] + [root]
    linked = [i for i in linked if i != article.id]
    return readable_articles(session, user).filter(KbArticle.id.in_(linked)).all() if linked else []
