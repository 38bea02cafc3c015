"""The help centre at /help/ (K1–K3, K5): home, search, categories, articles with votes,
client wikis, article files, and the suggestions proposed while a ticket is typed or before a
chat. Open to anonymous visitors; everything read goes through app/security/scopes.py."""
import secrets

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from sqlalchemy import or_

from app.extensions import db
from app.models import ArticleKind, KbArticle, Product
from app.security import kb_queries, scopes
from app.security.bounds import to_id
from app.services import ServiceError, kb, search
from app.views.markdown import render_markdown
from app.web.downloads import send_stored_file

help_centre = Blueprint("help", __name__, url_prefix="/help")
PAGE_SIZE = 10


def _user():
    return getattr(g, "user", None)


def _int_arg(name):
    return to_id(request.args.get(name)) or None


def _visible_categories():
    return kb_queries.visible_categories(db.session, _user())


def _articles():
    return kb_queries.readable_articles(db.session, _user())


def _breadcrumbs(category):
    trail = []
    while category is not None and len(trail) < 20:
        trail.insert(0, category)
        category = category.parent
    return trail


@help_centre.context_processor
def _portal_context():
    user = _user()
    signed_in = scopes.audience_of(user) != scopes.Audience.NOBODY
    return {
        "kind_labels": kb.KIND_LABELS,
        "signed_in": signed_in,
        "portal_user": user if signed_in else None,
        "is_staff": scopes.is_staff(user),
        "wiki_count": len(scopes.wiki_organisations(db.session, user)) if signed_in else 0,
        "vendor_name": current_app.config.get("VENDOR_NAME", "NOVA LEAD"),
        "current_locale": lambda: str(get_locale() or "fr"),
    }


@help_centre.route("/")
def home():
    categories = _visible_categories()
    counts = dict(
        _articles().filter(KbArticle.category_id.isnot(None)).with_entities(KbArticle.category_id, db.func.count(KbArticle.id)).group_by(KbArticle.category_id).all()
    )
    parents = {c.id: c.parent_id for c in categories}
    for category_id, n in list(counts.items()):  # a theme counts the articles of its sub-themes
        parent, depth = parents.get(category_id), 0
        while parent is not None and depth < 20:
            counts[parent] = counts.get(parent, 0) + n
            parent, depth = parents.get(parent), depth + 1
    popular = _articles().filter(KbArticle.wiki_organisation_id.is_(None)).order_by(KbArticle.view_count.desc(), KbArticle.id.desc()).limit(6).all()
    releases = _articles().filter(KbArticle.kind == ArticleKind.RELEASE_NOTE).order_by(KbArticle.published_on.desc(), KbArticle.id.desc()).limit(3).all()
    return render_template(
        "help/home.html",
        top_categories=[c for c in categories if c.parent_id is None or c.parent_id not in {x.id for x in categories}],
        counts=counts,
        popular=popular,
        releases=releases,
    )


@help_centre.route("/search")
def search_page():
    query = (request.args.get("q") or "").strip()[:200]
    page = _int_arg("page") or 1
    kind = request.args.get("kind") if request.args.get("kind") in kb.KIND_LABELS else None
    category_id = _int_arg("category")
    if category_id is not None:
        try:
            scopes.access_category(db.session, _user(), category_id)
        except scopes.NotVisible:
            category_id = None
    product_id = _int_arg("product")
    results = search.search(_user(), query, category_id=category_id, kind=kind, product_id=product_id, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render_template(
        "help/search.html",
        query=query,
        results=results,
        page=page,
        pages=max(1, -(-results.total // PAGE_SIZE)),
        kind=kind,
        category_id=category_id,
        product_id=product_id,
        categories=_visible_categories(),
        products=db.session.query(Product).filter(scopes.help_centre_products_filter()).order_by(Product.name).all(),
        title_highlight=search.title_highlight,
    )


@help_centre.route("/categories/<int:category_id>")
def category(category_id):
    try:
        item = scopes.access_category(db.session, _user(), category_id)
    except scopes.NotVisible:
        abort(404)
    visible = {c.id for c in _visible_categories()}
    children = [c for c in sorted(item.children, key=lambda c: (c.position, c.name)) if c.id in visible]
    articles = _articles().filter(KbArticle.category_id == item.id).order_by(KbArticle.title).all()
    return render_template("help/category.html", category=item, children=children, articles=articles, trail=_breadcrumbs(item.parent))


def _related(article, limit=5):
    """Articles of the same category or sharing a tag, that the reader may see."""
    conditions = []
    if article.category_id:
        conditions.append(KbArticle.category_id == article.category_id)
    for tag in article.tag_list[:5]:
        conditions.append(KbArticle.tags.ilike(f"%{tag}%"))
    if article.wiki_organisation_id:
        conditions.append(KbArticle.wiki_organisation_id == article.wiki_organisation_id)
    if not conditions:
        return []
    return _articles().filter(KbArticle.id != article.id, or_(*conditions)).order_by(KbArticle.view_count.desc(), KbArticle.id.desc()).limit(limit).all()


@help_centre.route("/articles/<int:article_id>")
@help_centre.route("/articles/<int:article_id>-<slug>")
def article(article_id, slug=None):
    user = _user()
    try:
        item = scopes.access_article(db.session, user, article_id)
    except scopes.NotVisible:
        abort(404)
    translations = kb_queries.translations_of(db.session, user, item)
    voted = session.get("kb_votes", {}).get(str(item.id))
    page = render_template(
        "help/article.html",
        article=item,
        html=render_markdown(item.body),
        trail=_breadcrumbs(item.category),
        related=_related(item),
        translations=translations,
        voted=voted,
        status_label=kb.STATUS_LABELS.get(item.status),
    )
    if item.status == "published":  # counted once the page is ready: a commit expires nothing it needs
        kb.record_view(item)
        token = request.args.get("s")
        if token:
            kb.suggestion_opened(user, token, item)
        if kb.flush_views() or token:
            db.session.commit()
    return page


def _voter_key():
    user = _user()
    if scopes.audience_of(user) != scopes.Audience.NOBODY:
        return f"user:{user.id}"
    if "kb_voter" not in session:
        session["kb_voter"] = secrets.token_urlsafe(16)
    return f"visitor:{session['kb_voter']}"


@help_centre.route("/articles/<int:article_id>/vote", methods=["POST"])
def vote(article_id):
    user = _user()
    try:
        item = scopes.access_article(db.session, user, article_id, published_only=True)
    except scopes.NotVisible:
        abort(404)
    helpful = request.form.get("helpful") == "yes"
    try:
        kb.vote(user, item, _voter_key(), helpful)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        votes = dict(session.get("kb_votes", {}))
        votes[str(item.id)] = "yes" if helpful else "no"
        session["kb_votes"] = votes
    return redirect(url_for(".article", article_id=item.id, slug=item.slug, _anchor="helpful"))


@help_centre.route("/wiki/")
def wikis():
    organisations = scopes.wiki_organisations(db.session, _user())
    if scopes.audience_of(_user()) == scopes.Audience.NOBODY:
        return redirect(url_for("NovaAuthView.login", next=request.path))
    if len(organisations) == 1:
        return redirect(url_for(".wiki", organisation_id=organisations[0].id))
    counts = dict(
        _articles().filter(KbArticle.wiki_organisation_id.isnot(None)).with_entities(KbArticle.wiki_organisation_id, db.func.count(KbArticle.id)).group_by(KbArticle.wiki_organisation_id).all()
    )
    return render_template("help/wikis.html", organisations=organisations, counts=counts)


@help_centre.route("/wiki/<int:organisation_id>")
def wiki(organisation_id):
    user = _user()
    if scopes.audience_of(user) == scopes.Audience.NOBODY:
        abort(404)
    try:
        organisation = scopes.access_organisation(db.session, user, organisation_id)
    except scopes.NotVisible:
        abort(404)
    if organisation.kind == "vendor":
        abort(404)
    pages = _articles().filter(KbArticle.wiki_organisation_id == organisation.id).order_by(KbArticle.title).all()
    return render_template("help/wiki.html", organisation=organisation, pages=pages)


@help_centre.route("/files/<int:file_id>")
def file(file_id):
    try:
        item = scopes.access_kb_file(db.session, _user(), file_id)
    except scopes.NotVisible:
        abort(404)
    return send_stored_file(item, as_attachment=not item.is_image)


def _ticket_reader(user, ticket_ref):
    """Whose eyes a reply on this ticket is for: its requester, else an anonymous visitor."""
    try:
        ticket = scopes.access_ticket(db.session, user, to_id(ticket_ref) or 0)
    except scopes.NotVisible:
        abort(404)
    return ticket.requester if ticket.requester is not None and ticket.requester.active else None


@help_centre.route("/suggest")
def suggest():
    """Articles for what is being typed (a ticket's title, a question before a chat), as JSON.
    What was shown is recorded; the token comes back with the ticket if one is filed."""
    query = (request.args.get("q") or "").strip()[:200]
    channel = request.args.get("channel") if request.args.get("channel") in kb.SUGGESTION_CHANNELS else "ticket_form"
    user = _user()
    reader, record = user, True
    if request.args.get("for_ticket"):
        # An agent looking for a link to put in a reply: only what the ticket's requester may
        # read is offered (an article title in a reply is already a disclosure), and nothing
        # is counted as a suggestion shown to a partner.
        reader, record = _ticket_reader(user, request.args.get("for_ticket")), False
    articles = search.suggest(reader, query, limit=5) if len(query) >= 3 else []
    token = None
    if articles and record:
        token = kb.record_suggestions(user if scopes.audience_of(user) != scopes.Audience.NOBODY else None, query, articles, channel).token
        db.session.commit()
    return jsonify(
        {
            "query": query,
            "token": token,
            "articles": [
                {
                    "id": a.id,
                    "title": a.title,
                    "summary": a.summary or "",
                    "kind": str(kb.KIND_LABELS.get(a.kind, a.kind)),
                    "url": url_for(".article", article_id=a.id, slug=a.slug, s=token),
                }
                for a in articles
            ],
        }
    )



def limit_help_centre(appbuilder, app):
    """Suggestions are asked at every pause in typing and each answer is recorded; votes are
    posted by visitors: both are rate-limited per address."""
    if app.config.get("RATELIMIT_ENABLED"):
        limiter = appbuilder.sm.limiter
        # Flask-Limiter checks in the decorated function: the registered views are replaced.
        for endpoint, limit in (
            ("help.suggest", app.config.get("HELP_SUGGEST_RATE_LIMIT", "120 per minute")),
            ("help.vote", app.config["SENSITIVE_RATE_LIMIT"]),
            ("chat_public.widget_upload", app.config["CHAT_UPLOADS_PER_MINUTE"]),
        ):
            app.view_functions[endpoint] = limiter.limit(limit)(app.view_functions[endpoint])
