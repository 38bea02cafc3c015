"""The satisfaction question (P4) behind the e-mailed link: no sign-in, one use, expires.
The GET only shows the question (mail scanners open links); the answer is a POST."""
from flask import flash, request
from flask_appbuilder import BaseView, expose
from flask_babel import gettext as _

from app.extensions import db
from app.services import ServiceError, satisfaction


def score_labels():
    return [(5, _("Très satisfait")), (4, _("Satisfait")), (3, _("Mitigé")), (2, _("Déçu")), (1, _("Très déçu"))]


class SatisfactionView(BaseView):
    route_base = "/satisfaction"
    default_view = "rate"

    def _invalid(self, error):
        return self.render_template("novadesk/satisfaction_done.html", title=_("Lien non valable"), message=error.message, appbuilder=self.appbuilder), 404

    @expose("/<int:ticket_id>/<token>", methods=["GET", "POST"])
    def rate(self, ticket_id, token):
        try:
            invite = satisfaction.check_invite(ticket_id, token)
        except satisfaction.InviteNotValid as error:
            return self._invalid(error)
        if request.method == "POST":
            try:
                satisfaction.rate_with_invite(ticket_id, token, request.form.get("score"), request.form.get("comment"))
            except satisfaction.InviteNotValid as error:
                db.session.rollback()
                return self._invalid(error)
            except ServiceError as error:
                db.session.rollback()
                flash(error.message, "danger")
            else:
                db.session.commit()
                return self.render_template(
                    "novadesk/satisfaction_done.html", title=_("Merci pour votre avis"),
                    message=_("Votre note est enregistrée. Elle aide l'équipe support à s'améliorer."), appbuilder=self.appbuilder,
                )
        return self.render_template(
            "novadesk/satisfaction.html", title=_("Votre avis sur la demande %(number)s", number=invite.ticket.number),
            ticket=invite.ticket, scores=score_labels(), form=request.form, appbuilder=self.appbuilder,
        )


