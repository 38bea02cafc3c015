"""The permission matrix screen (U1): rights × roles, a preview of the changes, CSV for an audit."""
import csv
import io

from flask import Response, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _

from app.extensions import db
from app.security.rights import MATRIX_VIEW
from app.services import ServiceError, role_matrix
from app.views.outcome import commit_or_refuse
from app.views.reports import _safe_cell


def _role_filter():
    value = request.values.get("role", "")
    return int(value) if value.isdigit() else None


class RoleMatrixView(BaseView):
    route_base = "/roles/matrix"
    class_permission_name = MATRIX_VIEW
    default_view = "index"

    @expose("/")
    @has_access
    @permission_name("manage")
    def index(self):
        only = _role_filter()
        matrix = role_matrix.load_matrix(only)
        if only is not None and not matrix.columns:
            return redirect(url_for(".index"))
        all_roles = role_matrix.load_matrix().columns if only is not None else matrix.columns
        return self.render_template(
            "roles/matrix.html", title=_("Rôles et droits"), matrix=matrix, only=only, all_roles=all_roles,
            states=role_matrix,
        )

    @expose("/preview", methods=["POST"])
    @has_access
    @permission_name("manage")
    def preview(self):
        only = _role_filter()
        matrix = role_matrix.load_matrix(only)
        shown = {int(value) for value in request.form.getlist("shown") if value.isdigit()}
        matrix.columns = [column for column in matrix.columns if column.role.id in shown]
        changes = role_matrix.plan_changes(matrix, set(request.form.getlist("cell")))
        if not changes:
            flash(_("Aucun changement : rien n'a été enregistré."), "info")
            return redirect(url_for(".index", role=only))
        return self.render_template(
            "roles/matrix_preview.html", title=_("Confirmer les changements de droits"), changes=changes,
            summary=role_matrix.summarise(changes), only=only,
        )

    @expose("/save", methods=["POST"])
    @has_access
    @permission_name("manage")
    def save(self):
        only = _role_filter()

        def apply():
            matrix = role_matrix.load_matrix()
            changes = role_matrix.parse_changes(matrix, request.form.getlist("change"))
            role_matrix.apply_changes(g.user, changes)

        try:
            commit_or_refuse(apply, _("Droits enregistrés."))
        except ServiceError:
            db.session.rollback()
        return redirect(url_for(".index", role=only))

    @expose("/export.csv")
    @has_access
    @permission_name("manage")
    def export_csv(self):
        matrix = role_matrix.load_matrix(_role_filter())
        buffer = io.StringIO()
        buffer.write("\ufeff")  # spreadsheets then read the file as UTF-8
        writer = csv.writer(buffer, delimiter=";")
        for row in role_matrix.csv_rows(matrix):
            writer.writerow([_safe_cell(value) for value in row])
        response = Response(buffer.getvalue(), mimetype="text/csv; charset=utf-8")
        response.headers["Content-Disposition"] = 'attachment; filename="novadesk-droits-par-role.csv"'
        response.headers["Cache-Control"] = "private, no-store"
        return response
