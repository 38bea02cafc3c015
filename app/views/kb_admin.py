"""The knowledge base's staff screens (K1, K4): the list of articles in every state, the editor
with its workflow buttons, images and history with restore, a draft from a resolved ticket,
and the categories (FAB-generated). Thin: parse, call app/services/kb.py, commit, render."""
from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_
from wtforms import SelectField

from app.extensions import db
from app.formatting import local_datetime
from app.models import KbArticle, KbCategory, NovaUser, Product, Visibility
from app.security import scopes
from app.services import ServiceError, kb, tickets
from app.views.generated import NovaModelView
from app.views.markdown import render_markdown
from app.views.outcome import commit_or_refuse
from app.web.scoping import PartnerOrganisations

PAGE_SIZE = 50
_FIELDS = ("title", "summary", "body", "kind", "category_id", "product_id", "product_version", "tags", "language", "translation_of_id", "visibility", "wiki_organisation_id")


def _form_fields(form):
    fields = {name: form.get(name) for name in _FIELDS}
    fields["organisation_ids"] = form.getlist("organisation_ids")
    return fields


class KnowledgeBaseView(BaseView):
    route_base = "/kb"
    class_permission_name = "KnowledgeBase"
    default_view = "index"

    def _article(self, article_id):
        try:
            return kb.access_article(g.user, article_id)
        except kb.ArticleNotFound:
            abort(404)

    def _choices(self):
        return {
            "categories": db.session.query(KbCategory).order_by(KbCategory.position, KbCategory.name).all(),
            "products": db.session.query(Product).order_by(Product.name).all(),
            "organisations": scopes.partner_organisations(db.session),
            "originals": db.session.query(KbArticle.id, KbArticle.title, KbArticle.language).filter(KbArticle.translation_of_id.is_(None)).order_by(KbArticle.title).limit(500).all(),
            "kind_labels": kb.KIND_LABELS,
            "status_labels": kb.STATUS_LABELS,
            "visibility_labels": kb.VISIBILITY_LABELS,
            "language_labels": kb.LANGUAGE_LABELS,
        }

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):
        query = db.session.query(KbArticle).filter(scopes.articles_filter(g.user, published_only=False))
        status = request.args.get("status")
        if status in kb.STATUS_LABELS:
            query = query.filter(KbArticle.status == status)
        kind = request.args.get("kind")
        if kind in kb.KIND_LABELS:
            query = query.filter(KbArticle.kind == kind)
        text = (request.args.get("q") or "").strip()[:100]
        if text:
            query = query.filter(or_(KbArticle.title.ilike(f"%{text}%"), KbArticle.tags.ilike(f"%{text}%")))
        total = query.count()
        articles = query.order_by(KbArticle.updated_on.desc(), KbArticle.id.desc()).limit(PAGE_SIZE).all()
        return self.render_template(
            "kb/list.html", title=_("Base de connaissances"), articles=articles, total=total, status=status, kind=kind, q=text,
            kind_labels=kb.KIND_LABELS, status_labels=kb.STATUS_LABELS, visibility_labels=kb.VISIBILITY_LABELS,
            deflection=kb.deflection(), local_datetime=local_datetime,
        )

    @expose("/new", methods=["GET", "POST"])
    @has_access
    @permission_name("add")
    def new(self):
        form = request.form
        if request.method == "POST":
            try:
                article = kb.create_article(g.user, **_form_fields(form))
            except ServiceError as error:
                db.session.rollback()
                flash(error.message, "danger")
            else:
                db.session.commit()
                flash(_("Brouillon enregistré."), "success")
                return redirect(url_for(".edit", article_id=article.id))
        return self.render_template("kb/edit.html", title=_("Nouvel article"), article=None, form=form, **self._choices())

    @expose("/<int:article_id>", methods=["GET", "POST"])
    @has_access
    @permission_name("edit")
    def edit(self, article_id):
        article = self._article(article_id)
        form = request.form
        if request.method == "POST":
            if commit_or_refuse(lambda: kb.update_article(g.user, article, note=form.get("note"), **_form_fields(form)), _("Article enregistré.")):
                return redirect(url_for(".edit", article_id=article.id))
        return self.render_template(
            "kb/edit.html", title=article.title, article=article, form=form, preview=render_markdown(article.body),
            can_publish=scopes.publishes_articles(g.user), transitions=kb.next_statuses(g.user, article),
            file_markdown=kb.file_markdown, **self._choices(),
        )

    @expose("/<int:article_id>/status", methods=["POST"])
    @has_access
    @permission_name("edit")
    def status(self, article_id):
        article = self._article(article_id)
        target = request.form.get("status")
        commit_or_refuse(lambda: kb.change_status(g.user, article, target), _("Statut changé : %(s)s.", s=kb.STATUS_LABELS.get(target, target)))
        return redirect(url_for(".edit", article_id=article.id))

    @expose("/<int:article_id>/history")
    @has_access
    @permission_name("show")
    def history(self, article_id):
        article = self._article(article_id)
        people = {p.id: p for p in db.session.query(NovaUser).filter(NovaUser.id.in_({v.changed_by_id for v in kb.versions(article)})).all()}
        return self.render_template(
            "kb/history.html", title=_("Historique : %(t)s", t=article.title), article=article, versions=kb.versions(article),
            people=people, status_labels=kb.STATUS_LABELS, local_datetime=local_datetime, render_markdown=render_markdown,
        )

    @expose("/<int:article_id>/restore/<int:number>", methods=["POST"])
    @has_access
    @permission_name("edit")
    def restore(self, article_id, number):
        article = self._article(article_id)
        commit_or_refuse(lambda: kb.restore_version(g.user, article, number), _("Version %(n)s rétablie.", n=number))
        return redirect(url_for(".edit", article_id=article.id))

    @expose("/<int:article_id>/files", methods=["POST"])
    @has_access
    @permission_name("edit")
    def upload(self, article_id):
        article = self._article(article_id)
        upload = request.files.get("file")
        if not upload or not upload.filename:
            flash(_("Choisissez un fichier."), "danger")
            return redirect(url_for(".edit", article_id=article.id))
        added = []
        if commit_or_refuse(lambda: added.append(kb.add_file(g.user, article, upload.filename, upload.stream))):
            flash(_("Fichier ajouté ; copiez « %(md)s » dans le contenu pour l'afficher.", md=kb.file_markdown(added[0])), "success")
        return redirect(url_for(".edit", article_id=article.id))

    @expose("/from-ticket/<int:ticket_id>", methods=["POST"])
    @has_access
    @permission_name("add")
    def from_ticket(self, ticket_id):
        try:
            ticket = tickets.access_ticket(g.user, ticket_id)
        except tickets.TicketNotFound:
            abort(404)
        created = []
        if commit_or_refuse(lambda: created.append(kb.draft_from_ticket(g.user, ticket)), _("Brouillon créé à partir du ticket %(n)s : relisez-le avant de le proposer.", n=ticket.number)):
            return redirect(url_for(".edit", article_id=created[0].id))
        return redirect(url_for("TicketDeskView.show", ticket_id=ticket.id))


class KbCategoryView(NovaModelView):
    datamodel = SQLAInterface(KbCategory)
    class_permission_name = "KbCategories"
    route_base = "/kb/categories"
    include_route_methods = {"list", "show", "add", "edit", "delete"}
    list_title = _l("Thèmes de la base de connaissances")
    add_title = edit_title = show_title = _l("Thème")
    label_columns = {
        "name": _l("Nom"), "parent": _l("Thème parent"), "description": _l("Description"), "position": _l("Ordre"),
        "visibility": _l("Visibilité"), "organisations": _l("Organisations (si « organisations choisies »)"), "icon": _l("Icône"),
    }
    list_columns = ["name", "parent", "visibility", "position"]
    add_columns = edit_columns = show_columns = ["name", "parent", "description", "position", "visibility", "organisations"]
    add_form_extra_fields = edit_form_extra_fields = {
        "visibility": SelectField(_l("Visibilité"), choices=[(v, kb.VISIBILITY_LABELS[v]) for v in Visibility.ALL]),
    }
    add_form_query_rel_fields = edit_form_query_rel_fields = {"organisations": [["id", PartnerOrganisations, None]]}
    formatters_columns = {"visibility": lambda v: kb.VISIBILITY_LABELS.get(v, v)}
    base_order = ("position", "asc")

    def pre_add(self, item):
        kb.check_category(g.user, item)

    pre_update = pre_add

    def pre_delete(self, item):
        kb.check_category_removable(g.user, item)

