"""Bulk actions from the desk's queue (POST /tickets/bulk, JSON): parse, call
app/services/bulk.py, commit once, answer what was done and what was refused, and why."""
from flask import g, jsonify, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access_api, permission_name
from flask_babel import gettext as _

from app.extensions import db
from app.services import ServiceError, bulk


class TicketBulkView(BaseView):
    route_base = "/tickets"
    class_permission_name = "Tickets"  # the desk's own permissions: working tickets
    default_view = "bulk"

    @expose("/bulk", methods=["POST"])
    @has_access_api
    @permission_name("work")
    def bulk(self):
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            return jsonify({"error": _("Requête invalide : un objet JSON est attendu.")}), 400
        try:
            outcome = bulk.apply(g.user, data.get("ticket_ids"), data.get("action"), data.get("value"))
            db.session.commit()
        except ServiceError as refused:
            db.session.rollback()
            return jsonify({"error": refused.message}), 404 if refused.not_found else 422
        return jsonify(outcome.as_dict())
