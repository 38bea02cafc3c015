""""Sécurité du compte": each person manages their own second factor (U3) and sees, and
ends, the sessions open on their account (U7)."""
import base64

import segno
from flask import abort, flash, g, redirect, session, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _

from app.extensions import db
from app.models import NovaUser
from app.services import ServiceError, auth, sessions
from app.views.forms import DisableTotpForm, EmailFactorForm, EnableTotpForm
from app.views.outcome import commit_or_refuse

_ENROLMENT = "novadesk_totp_enrolment"


def _qr_data_uri(text):
    """The QR code is drawn here, as an inline SVG image: the secret never leaves the server."""
    svg = segno.make(text, error="m").svg_inline(scale=5, dark="#000000", light="#ffffff")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


class AccountSecurityView(BaseView):
    class_permission_name = "AccountSecurity"
    route_base = "/account/security"
    default_view = "overview"

    def _me(self):
        return db.session.get(NovaUser, g.user.id)

    def _page(self, **extra):
        user = self._me()
        current = session.get(sessions.COOKIE_KEY)
        open_sessions = [
            {"record": record, "device": sessions.device_label(record), "current": record.key == current}
            for record in sessions.active_sessions(user)
        ]
        return self.render_template(
            "novadesk/account_security.html",
            user=user,
            role_requires=auth.two_factor_required_by_role(user),
            remaining_codes=auth.remaining_recovery_codes(user),
            email_form=EmailFactorForm(enabled=user.two_factor_email),
            disable_form=DisableTotpForm(),
            open_sessions=open_sessions,
            title="Sécurité du compte",
            **extra,
        )

    @expose("/")
    @has_access
    @permission_name("show")
    def overview(self):
        return self._page()

    @expose("/totp/start", methods=["POST"])
    @has_access
    @permission_name("edit")
    def totp_start(self):
        secret = auth.new_totp_secret()
        session[_ENROLMENT] = secret
        return redirect(url_for(".totp_confirm"))

    @expose("/totp/confirm", methods=["GET", "POST"])
    @has_access
    @permission_name("edit")
    def totp_confirm(self):
        secret = session.get(_ENROLMENT)
        if not secret:
            return redirect(url_for(".overview"))
        user = self._me()
        form = EnableTotpForm()
        if form.validate_on_submit():
            try:
                codes = auth.enable_totp(user, secret, form.code.data)
            except ServiceError as error:
                db.session.rollback()
                flash(error.message, "danger")
            else:
                db.session.commit()
                session.pop(_ENROLMENT, None)
                flash(_("Application d'authentification activée."), "success")
                return self._page(new_codes=codes)
        uri = auth.totp_provisioning_uri(user, secret)
        return self.render_template(
            "novadesk/totp_enrol.html", form=form, qr=_qr_data_uri(uri), secret=secret, title="Activer une application d'authentification"
        )

    @expose("/totp/disable", methods=["POST"])
    @has_access
    @permission_name("edit")
    def totp_disable(self):
        form = DisableTotpForm()
        if form.validate_on_submit():
            try:
                auth.disable_totp(self._me(), form.code.data)
            except ServiceError as error:
                db.session.commit()  # a wrong code stays in the log
                flash(error.message, "danger")
            else:
                db.session.commit()
                flash(_("Application d'authentification désactivée."), "success")
        return redirect(url_for(".overview"))

    @expose("/recovery-codes", methods=["POST"])
    @has_access
    @permission_name("edit")
    def recovery_codes(self):
        user = self._me()
        if not user.totp_enabled:
            return redirect(url_for(".overview"))
        codes = auth.regenerate_recovery_codes(user)
        db.session.commit()
        return self._page(new_codes=codes)

    @expose("/email", methods=["POST"])
    @has_access
    @permission_name("edit")
    def email_factor(self):
        form = EmailFactorForm()
        if form.validate_on_submit():
            commit_or_refuse(lambda: auth.set_email_second_factor(self._me(), form.enabled.data), _("Préférence enregistrée."))
        return redirect(url_for(".overview"))

    @expose("/sessions/<int:session_id>/end", methods=["POST"])
    @has_access
    @permission_name("edit")
    def end_session(self, session_id):
        user = self._me()
        try:
            record = sessions.end_own_session(user, session_id)
        except ServiceError:
            db.session.rollback()
            abort(404)
        db.session.commit()
        if record.key == session.get(sessions.COOKIE_KEY):
            session.clear()
            return redirect(url_for("NovaAuthView.login"))
        flash(_("Session terminée : cet appareil devra se reconnecter."), "success")
        return redirect(url_for(".overview"))

    @expose("/sessions/end-others", methods=["POST"])
    @has_access
    @permission_name("edit")
    def end_other_sessions(self):
        user = self._me()
        ended = sessions.end_all_sessions(user, sessions.ENDED_BY_OWNER, actor=user, keep_key=session.get(sessions.COOKIE_KEY))
        db.session.commit()
        flash(_("%(n)s autre(s) session(s) terminée(s).", n=ended), "success")
        return redirect(url_for(".overview"))
