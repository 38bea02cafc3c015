"""Admin screens of the integrations (U6, A4): directory import with its dry run, the
scheduled sources and the sync log, the previous help desk's ticket import, personal data.

An uploaded file is kept under instance/imports/ between its preview and its confirmation,
under a random name only the admin's page knows: nothing is written to the database before
the admin confirms what the preview showed, and the confirmation re-reads the same bytes."""
import json
import os
import re
import secrets
import time

from flask import Response, abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.actions import action
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange

from app.extensions import db
from app.formatting import datetime_formatters, local_datetime, yes_no_formatters
from app.models import SyncRun, SyncSource, SyncSourceKind
from app.services import ServiceError, audit, directory_sources, directory_sync, personal_data, ticket_import
from app.views.generated import NovaModelView

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
MAX_UPLOAD_BYTES = 100 * 1024 * 1024


def _staging_dir():
    path = os.path.join(current_app.instance_path, "imports")
    os.makedirs(path, exist_ok=True)
    return path


def stage_upload(kind):
    """Keep the uploaded file until it is confirmed; returns (token, filename, bytes)."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ServiceError(_("Choisissez un fichier."))
    data = upload.stream.read(MAX_UPLOAD_BYTES + 1)
    if not data:
        raise ServiceError(_("Le fichier est vide."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise ServiceError(_("Fichier trop volumineux."))
    _forget_old_uploads()
    token = secrets.token_urlsafe(24)
    filename = os.path.basename(upload.filename)[:200]
    with open(os.path.join(_staging_dir(), f"{kind}-{g.user.id}-{token}"), "wb") as handle:
        handle.write(data)
    with open(os.path.join(_staging_dir(), f"{kind}-{g.user.id}-{token}.name"), "w", encoding="utf-8") as handle:
        handle.write(filename)
    return token, filename, data


def _forget_old_uploads(hours=24):
    """Files previewed but never confirmed do not stay: gone after a day."""
    folder = _staging_dir()
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        try:
            if time.time() - os.path.getmtime(path) > hours * 3600:
                os.remove(path)
        except OSError:
            pass


def staged(kind, token):
    """The staged file of this admin (never another's), or 404."""
    if not token or not _TOKEN.match(token):
        abort(404)
    path = os.path.join(_staging_dir(), f"{kind}-{g.user.id}-{token}")
    if not os.path.exists(path):
        abort(404)
    with open(path, "rb") as handle:
        data = handle.read()
    with open(path + ".name", encoding="utf-8") as handle:
        filename = handle.read()
    return path, filename, data


def discard(path):
    for name in (path, path + ".name"):
        try:
            os.remove(name)
        except OSError:
            pass


class DirectoryImportView(BaseView):
    """Annuaire → Importer un fichier: upload, dry run, confirm."""

    class_permission_name = "DirectoryImport"
    route_base = "/directory-import"
    default_view = "form"

    @expose("/")
    @has_access
    @permission_name("import")
    def form(self):
        return self.render_template("novadesk/directory_import.html", title=_("Importer l'annuaire des clients"))

    @expose("/preview", methods=["POST"])
    @has_access
    @permission_name("import")
    def preview(self):
        full = bool(request.form.get("full"))
        try:
            token, filename, data = stage_upload("directory")
            orgs, contacts = directory_sync.entries_from_file(filename, data)
            the_plan = directory_sync.plan(orgs, contacts, full=full)
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return redirect(url_for(".form"))
        db.session.rollback()  # a preview never writes
        return self.render_template(
            "novadesk/directory_preview.html", title=_("Aperçu de l'import"), plan=the_plan, token=token, filename=filename, full=full,
        )

    @expose("/confirm", methods=["POST"])
    @has_access
    @permission_name("import")
    def confirm(self):
        path, filename, data = staged("directory", request.form.get("token"))
        full = bool(request.form.get("full"))
        try:
            orgs, contacts = directory_sync.entries_from_file(filename, data)
            the_plan, run = directory_sync.sync(g.user, orgs, contacts, full=full, origin="upload", source_label=filename)
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return redirect(url_for(".form"))
        db.session.commit()
        discard(path)
        s = the_plan.summary
        flash(_("Import terminé : %(c)s créé(s), %(u)s mis à jour, %(d)s désactivé(s), %(e)s ligne(s) en erreur ignorée(s).", c=s["create"], u=s["update"], d=s["deactivate"], e=s["error"]), "success" if not s["error"] else "warning")
        return redirect(url_for("SyncRunView.show", pk=run.id))


class SyncSourceView(NovaModelView):
    datamodel = SQLAInterface(SyncSource)
    class_permission_name = "SyncSources"
    route_base = "/sync-sources"
    include_route_methods = {"list", "show", "add", "edit", "delete", "action_post"}
    list_title = _l("Sources de synchronisation de l'annuaire")
    add_title = _l("Nouvelle source")
    edit_title = _l("Modifier la source")
    show_title = _l("Source de synchronisation")
    label_columns = {
        "name": _l("Nom"), "kind": _l("Type de source"), "kind_label": _l("Type de source"), "location": _l("Chemin du fichier ou adresse HTTP"),
        "interval_minutes": _l("Intervalle (minutes)"), "full": _l("Annuaire complet"), "active": _l("Active"),
        "last_run_on": _l("Dernière lecture"), "created_on": _l("Créée le"),
    }
    description_columns = {
        "location": _l("Un fichier CSV ou XLSX du dossier de dépôt (ex. annuaire.csv), ou une adresse http(s) qui répond le JSON de l'API de synchronisation."),
        "full": _l("La source liste tous les contacts : ceux qu'elle ne liste plus sont désactivés (jamais supprimés)."),
        "interval_minutes": _l("Un fichier n'est relu que s'il a changé."),
    }
    list_columns = ["name", "kind_label", "location", "interval_minutes", "full", "active", "last_run_on"]
    show_columns = list_columns
    add_columns = edit_columns = ["name", "kind", "location", "interval_minutes", "full", "active"]
    add_form_extra_fields = edit_form_extra_fields = {
        "kind": SelectField(_l("Type de source"), choices=SyncSourceKind.CHOICES),
        "name": StringField(_l("Nom"), validators=[DataRequired(), Length(max=100)]),
        "location": StringField(_l("Chemin du fichier ou adresse HTTP"), validators=[DataRequired(), Length(max=500)]),
        "interval_minutes": IntegerField(_l("Intervalle (minutes)"), default=60, validators=[NumberRange(min=1, max=60 * 24 * 31)]),
        "full": BooleanField(_l("Annuaire complet"), default=True),
        "active": BooleanField(_l("Active"), default=True),
    }
    formatters_columns = {**datetime_formatters("last_run_on"), **yes_no_formatters("full", "active")}

    @action("run_now", _l("Lancer maintenant"), _l("Lire ces sources maintenant ?"), "fa-rotate", multiple=True)
    def run_now(self, items):
        for source in items if isinstance(items, list) else [items]:
            source.last_file_signature = None  # a file is read again even if unchanged
            run = directory_sources.run_source(source, actor=g.user)
            db.session.commit()
            if run.failure:
                flash(_("%(name)s : échec — %(why)s", name=source.name, why=run.failure), "danger")
            else:
                flash(_("%(name)s : %(c)s créé(s), %(u)s mis à jour, %(d)s désactivé(s), %(e)s erreur(s).", name=source.name, c=run.created, u=run.updated, d=run.deactivated, e=run.errors), "success")
        return redirect(url_for("SyncRunView.list"))


class SyncRunView(NovaModelView):
    datamodel = SQLAInterface(SyncRun)
    class_permission_name = "SyncLog"
    route_base = "/sync-log"
    include_route_methods = {"list", "show"}
    list_title = _l("Journal des synchronisations et imports")
    show_title = _l("Synchronisation")
    label_columns = {
        "started_on": _l("Date"), "kind": _l("Objet"), "origin": _l("Origine"), "source_label": _l("Source"), "actor": _l("Lancée par"),
        "created": _l("Créés"), "updated": _l("Mis à jour"), "unchanged": _l("Inchangés"), "deactivated": _l("Désactivés"),
        "errors": _l("Erreurs"), "error_details": _l("Lignes en erreur"), "failure": _l("Échec"), "finished_on": _l("Terminée le"),
    }
    list_columns = ["started_on", "kind", "origin", "source_label", "created", "updated", "unchanged", "deactivated", "errors", "failure"]
    show_columns = ["started_on", "finished_on", "kind", "origin", "source_label", "actor", "created", "updated", "unchanged", "deactivated", "errors", "failure", "error_details"]
    search_columns = ["kind", "origin", "source_label", "started_on"]
    base_order = ("started_on", "desc")
    formatters_columns = {
        **datetime_formatters("started_on", "finished_on"),
        "kind": lambda v: {"directory": _("Annuaire"), "tickets": _("Tickets")}.get(v, v),
        "origin": lambda v: {"api": _("API"), "upload": _("Fichier envoyé"), "scheduled": _("Planifiée"), "cli": _("Ligne de commande")}.get(v, v),
        "error_details": lambda rows: "; ".join(f"{r.get('row')} : {r.get('message')}" for r in rows or []) or "—",
    }


__all__ = ["DirectoryImportView", "SyncSourceView", "SyncRunView", "local_datetime"]


class TicketImportView(BaseView):
    """Tickets → Importer l'ancien help desk: upload, dry run, confirm (same rules as the CLI)."""

    class_permission_name = "TicketImport"
    route_base = "/ticket-import"
    default_view = "form"

    @expose("/")
    @has_access
    @permission_name("import")
    def form(self):
        return self.render_template("novadesk/ticket_import.html", title=_("Importer les tickets de l'ancien help desk"))

    @expose("/preview", methods=["POST"])
    @has_access
    @permission_name("import")
    def preview(self):
        try:
            token, filename, data = stage_upload("tickets")
            the_plan = ticket_import.plan(ticket_import.read_export_bytes(filename, data))
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return redirect(url_for(".form"))
        db.session.rollback()
        return self.render_template("novadesk/ticket_preview.html", title=_("Aperçu de l'import des tickets"), plan=the_plan, token=token, filename=filename)

    @expose("/confirm", methods=["POST"])
    @has_access
    @permission_name("import")
    def confirm(self):
        path, filename, data = staged("tickets", request.form.get("token"))
        try:
            the_plan, run = ticket_import.import_tickets(g.user, ticket_import.read_export_bytes(filename, data), origin="upload")
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return redirect(url_for(".form"))
        db.session.commit()
        discard(path)
        s = the_plan.summary
        flash(_("Import terminé : %(c)s ticket(s) créé(s), %(u)s déjà importé(s), %(e)s en erreur ignoré(s).", c=s["create"], u=s["unchanged"], e=s["error"]), "success" if not s["error"] else "warning")
        return redirect(url_for("SyncRunView.show", pk=run.id))


class PersonalDataView(BaseView):
    """Sécurité → Données personnelles: find a person, export what is held, erase them."""

    class_permission_name = "PersonalData"
    route_base = "/personal-data"
    default_view = "search"

    @expose("/")
    @has_access
    @permission_name("show")
    def search(self):
        return self.render_template("novadesk/personal_data.html", title=_("Données personnelles"), person=None, summary=None,
                                    retention=current_app.config.get("PERSONAL_DATA_RETENTION_YEARS") or 0, holders=personal_data.HOLDERS)

    def _person(self):
        try:
            return personal_data.find_person(request.form.get("email"))
        except ServiceError as error:
            flash(error.message, "danger")
            return None

    @expose("/person", methods=["POST"])
    @has_access
    @permission_name("show")
    def person(self):
        person = self._person()
        if person is None:
            return redirect(url_for(".search"))
        data = personal_data.export(person)
        summary = [(h["label"], _count(h["data"])) for h in data["holders"].values()]
        return self.render_template("novadesk/personal_data.html", title=_("Données personnelles"), person=person, summary=summary,
                                    retention=current_app.config.get("PERSONAL_DATA_RETENTION_YEARS") or 0, holders=personal_data.HOLDERS)

    @expose("/export", methods=["POST"])
    @has_access
    @permission_name("export")
    def export(self):
        person = self._person()
        if person is None:
            return redirect(url_for(".search"))
        data = personal_data.export(person)
        audit.record(db.session, "personal_data.exported", actor=g.user, subject_user=person.user, details={"format": request.form.get("format", "json")})
        db.session.commit()
        stem = "donnees-personnelles-" + re.sub(r"[^a-z0-9]+", "-", person.email.lower()).strip("-")
        if request.form.get("format") == "html":
            page = self.render_template("novadesk/personal_data_export.html", title=_("Données personnelles de %(who)s", who=person.label), data=data)
            return Response(page, mimetype="text/html", headers={"Content-Disposition": f'attachment; filename="{stem}.html"'})
        body = json.dumps(data, ensure_ascii=False, indent=2)
        return Response(body, mimetype="application/json", headers={"Content-Disposition": f'attachment; filename="{stem}.json"'})

    @expose("/erase", methods=["POST"])
    @has_access
    @permission_name("erase")
    def erase(self):
        person = self._person()
        if person is None:
            return redirect(url_for(".search"))
        if request.form.get("confirm_email", "").strip().lower() != person.email:
            flash(_("Pour confirmer, saisissez à nouveau l'adresse exacte de la personne."), "danger")
            data = personal_data.export(person)
            summary = [(h["label"], _count(h["data"])) for h in data["holders"].values()]
            return self.render_template("novadesk/personal_data.html", title=_("Données personnelles"), person=person, summary=summary,
                                        retention=current_app.config.get("PERSONAL_DATA_RETENTION_YEARS") or 0, holders=personal_data.HOLDERS)
        try:
            counts = personal_data.erase(g.user, person, remove_files=bool(request.form.get("remove_files")))
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return redirect(url_for(".search"))
        db.session.commit()
        flash(_("Les données de la personne ont été anonymisées (%(n)s élément(s)). Les statistiques sont inchangées.", n=sum(counts.values())), "success")
        return redirect(url_for(".search"))


def _count(data):
    if isinstance(data, list):
        return len(data)
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        return sum(len(v) for v in lists) if lists else 1
    return 1
