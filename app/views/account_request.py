"""Public pages: ask for an account and confirm the address (U5)."""
from flask import flash, redirect, session, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.services import ServiceError, accounts
from app.views.forms import AccountRequestForm

RECEIVED = _l("Merci ! Si cette adresse peut recevoir un compte, un e-mail de confirmation vient d'y être envoyé. Ouvrez le lien qu'il contient pour poursuivre.")


class AccountRequestView(BaseView):
    route_base = "/account-request"
    default_view = "request_form"

    @expose("/", methods=["GET", "POST"])
    def request_form(self):
        form = AccountRequestForm()
        if form.validate_on_submit():
            if form.website.data:  # honeypot filled: a bot; answer as if all went well
                return self._done(RECEIVED)
            try:
                accounts.request_account(
                    first_name=form.first_name.data,
                    last_name=form.last_name.data,
                    email=form.email.data,
                    organisation_name=form.organisation_name.data,
                    password=form.password.data,
                    phone=form.phone.data,
                    message=form.message.data,
                    locale=session.get("locale", "fr"),
                )
            except ServiceError as error:
                db.session.rollback()
                flash(error.message, "danger")
            else:
                db.session.commit()
                return self._done(RECEIVED)
        return self.render_template("novadesk/account_request.html", form=form, title="Demander un compte", appbuilder=self.appbuilder)

    @expose("/confirm/<token>")
    def confirm(self, token):
        try:
            account_request = accounts.confirm_account_request(token, locale=session.get("locale", "fr"))
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return redirect(url_for("AccountRequestView.request_form"))
        db.session.commit()
        if account_request.user_id:
            message = _l("Votre adresse est confirmée et votre compte est ouvert : vous pouvez vous connecter.")
        else:
            message = _l("Votre adresse est confirmée. Un administrateur va examiner votre demande ; vous recevrez un e-mail dès qu'elle sera traitée.")
        return self._done(message)

    def _done(self, message):
        return self.render_template("novadesk/message.html", message=message, title="Demande de compte", appbuilder=self.appbuilder)


def limit_account_requests(appbuilder, app):
    if app.config.get("RATELIMIT_ENABLED"):
        blueprint = app.blueprints["AccountRequestView"]
        appbuilder.sm.limiter.limit(app.config["SENSITIVE_RATE_LIMIT"], methods=["POST"])(blueprint)
