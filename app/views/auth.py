"""Sign-in pages: password, second factor, sign-out, forgotten password.

Thin adapters: each parses the form, calls app/services/auth.py or accounts.py, commits once,
and renders. The pending second-factor state lives in the signed session for a few minutes.
"""
import time

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.views import AuthDBView
from flask_appbuilder.utils.base import get_safe_redirect
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from app.extensions import db
from app.services import ServiceError, accounts, auth, sessions
from app.views import devices
from app.views.forms import CodeForm, ForgotPasswordForm, LoginForm, NewPasswordForm
from app.views.outcome import commit_or_refuse

_PENDING = "novadesk_pending_login"


class NovaAuthView(AuthDBView):
    login_template = "novadesk/login.html"

    def _pending_user(self):
        pending = session.get(_PENDING)
        if not pending:
            return None
        if time.time() - pending.get("at", 0) > current_app.config["TWO_FACTOR_CODE_MINUTES"] * 60:
            session.pop(_PENDING, None)
            return None
        user = db.session.get(auth.NovaUser, pending.get("uid"))
        return user if user is not None and user.active else None

    def _finish_login(self, step, next_url):
        """The service signed the person in (session opened); the browser gets its cookie."""
        session.pop(_PENDING, None)
        db.session.commit()
        session.clear()  # nothing from before the sign-in carries over (session fixation)
        session["locale"] = step.user.locale
        session[sessions.COOKIE_KEY] = step.session.key
        login_user(step.user, remember=False)
        response = redirect(get_safe_redirect(next_url or ""))
        devices.remember_device(response, step.user)
        return response

    @expose("/login/", methods=["GET", "POST"])
    def login(self):
        if g.user is not None and g.user.is_authenticated:
            return redirect(self.appbuilder.get_url_for_index)
        form = LoginForm()
        if form.validate_on_submit():
            next_url = request.args.get("next", "")
            try:
                step = auth.sign_in(
                    form.email.data, form.password.data, channel=sessions.WEB, ip=request.remote_addr,
                    user_agent=request.user_agent.string, known_device=devices.is_known_device,
                )
            except auth.LoginRefused as refused:
                db.session.commit()
                flash(refused.message, "danger")
                return self.render_template(self.login_template, form=form, title="Connexion", appbuilder=self.appbuilder)
            if step.done:
                return self._finish_login(step, next_url)
            db.session.commit()
            session[_PENDING] = {"uid": step.user.id, "at": time.time(), "next": next_url}
            return redirect(url_for(".verify"))
        return self.render_template(self.login_template, form=form, title="Connexion", appbuilder=self.appbuilder)

    @expose("/login/verify", methods=["GET", "POST"])
    def verify(self):
        user = self._pending_user()
        if user is None:
            flash(_("Votre connexion a expiré : saisissez à nouveau vos identifiants."), "warning")
            return redirect(url_for(".login"))
        form = CodeForm()
        method = auth.second_factor_method(user)
        if form.validate_on_submit():
            try:
                step = auth.sign_in_second_factor(
                    user, form.code.data, channel=sessions.WEB, ip=request.remote_addr,
                    user_agent=request.user_agent.string, known_device=devices.is_known_device,
                )
            except auth.LoginRefused as refused:
                db.session.commit()
                flash(refused.message, "danger")
                if refused.restart:
                    session.pop(_PENDING, None)
                    return redirect(url_for(".login"))
            else:
                return self._finish_login(step, session.get(_PENDING, {}).get("next"))
        return self.render_template(
            "novadesk/verify.html", form=form, method=method, email=user.email, title="Vérification", appbuilder=self.appbuilder
        )

    @expose("/login/resend", methods=["POST"])
    def resend(self):
        user = self._pending_user()  # CSRFProtect has already checked the token
        if user is None:
            return redirect(url_for(".login"))
        if auth.second_factor_method(user) == auth.METHOD_EMAIL:
            auth.send_email_code(user)
            db.session.commit()
            flash(_("Un nouveau code vient de vous être envoyé."), "info")
        return redirect(url_for(".verify"))

    @expose("/logout/", methods=["GET", "POST"])
    def logout(self):
        """Signing out is a POST carrying the CSRF token (checked by CSRFProtect): a link or
        an image on another site cannot sign anyone out. A GET asks for confirmation."""
        user = g.user if g.user is not None and g.user.is_authenticated else None
        if request.method == "GET":
            if user is None:
                return redirect(url_for(".login"))
            return self.render_template("novadesk/logout.html", title="Déconnexion", appbuilder=self.appbuilder)
        if user is not None:
            record = sessions.live_session(user.id, session.get(sessions.COOKIE_KEY))
            if record is not None:
                sessions.end_session(record, sessions.SIGNED_OUT, actor=user)
            auth.record_logout(user)
            db.session.commit()
        logout_user()
        session.clear()
        return redirect(url_for(".login"))

    @expose("/forgot-password/", methods=["GET", "POST"])
    def forgot_password(self):
        form = ForgotPasswordForm()
        if form.validate_on_submit():
            accounts.request_password_reset(form.email.data)
            db.session.commit()
            flash(_("Si un compte actif correspond à cette adresse, un e-mail vient de lui être envoyé avec un lien pour choisir un nouveau mot de passe."), "info")
            return redirect(url_for(".login"))
        return self.render_template("novadesk/forgot_password.html", form=form, title="Mot de passe oublié", appbuilder=self.appbuilder)

    @expose("/reset-password/<token>", methods=["GET", "POST"])
    def reset_password(self, token):
        try:
            accounts.user_for_reset_token(token)
        except ServiceError as error:
            flash(error.message, "danger")
            return redirect(url_for(".forgot_password"))
        form = NewPasswordForm()
        if form.validate_on_submit():
            done = _("Votre mot de passe a été changé. Vous pouvez vous connecter.")
            if commit_or_refuse(lambda: accounts.reset_password(token, form.password.data), done):
                return redirect(url_for(".login"))
        return self.render_template("novadesk/reset_password.html", form=form, title="Nouveau mot de passe", appbuilder=self.appbuilder)
