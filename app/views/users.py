"""User administration (admins) and each person's own profile."""
from flask import abort, flash, g, redirect, request, session, url_for
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_appbuilder.security.views import (
    ResetMyPasswordView,
    ResetPasswordView,
    RoleModelView,
    UserDBModelView,
    UserGroupModelView,
    UserInfoEditView,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import DataRequired, Email

from app.extensions import db
from app.formatting import datetime_formatters, role_labels, yes_no_formatters
from app.models import NovaUser
from app.security.bounds import to_id
from app.security.passwords import check_password
from app.services import ServiceError, notifications, sessions, users
from app.views.forms import LANGUAGE_CHOICES, ChangePasswordForm, PreferencesForm, SetPasswordForm, timezone_choices
from app.views.generated import GeneratedScreen
from app.views.outcome import commit_or_refuse

_LABELS = {
    "first_name": _l("Prénom"),
    "last_name": _l("Nom"),
    "email": _l("Adresse e-mail"),
    "organisation": _l("Organisation"),
    "phone": _l("Téléphone"),
    "roles": _l("Rôles"),
    "active": _l("Actif"),
    "support_level": _l("Niveau de support"),
    "locale": _l("Langue"),
    "timezone": _l("Fuseau horaire"),
    "last_login": _l("Dernière connexion"),
    "login_count": _l("Connexions"),
    "fail_login_count": _l("Échecs de connexion"),
    "created_on": _l("Créé le"),
    "changed_on": _l("Modifié le"),
    "created_by": _l("Créé par"),
    "changed_by": _l("Modifié par"),
    "two_factor_email": _l("Code par e-mail"),
    "totp_enabled": _l("Application d'authentification"),
    "password": _l("Mot de passe"),
    "chat_limit": _l("Discussions simultanées"),
    "conf_password": _l("Confirmez le mot de passe"),
}

SUPPORT_LEVELS = [("", "—"), ("1", "1"), ("2", "2"), ("3", "3")]


def _level(value):
    return int(value) if value not in (None, "", "None") else None


_PREFERENCE_FIELDS = {
    "locale": SelectField(_l("Langue"), choices=LANGUAGE_CHOICES, default="fr"),
    "timezone": SelectField(_l("Fuseau horaire"), choices=timezone_choices(), default="Europe/Paris"),
    "support_level": SelectField(_l("Niveau de support"), choices=SUPPORT_LEVELS, coerce=_level, default=None),
}

# A new account gets its organisation's time zone unless the admin picks another.
_NEW_ACCOUNT_FIELDS = {
    **_PREFERENCE_FIELDS,
    "timezone": SelectField(_l("Fuseau horaire"), choices=[("", _l("Celui de son organisation"))] + timezone_choices(), default=""),
}

_EDIT = ["first_name", "last_name", "email", "organisation", "roles", "support_level", "chat_limit", "phone", "locale", "timezone", "active"]


class NovaUserDBModelView(GeneratedScreen, UserDBModelView):
    """Users of every role. No delete: a person who leaves is deactivated and keeps their history."""

    include_route_methods = {"list", "show", "add", "edit", "action_post", "userinfo", "end_sessions"}
    list_title = _l("Utilisateurs")
    show_title = _l("Fiche utilisateur")
    add_title = _l("Nouvel utilisateur")
    edit_title = _l("Modifier l'utilisateur")
    label_columns = _LABELS
    description_columns = {
        "active": _l("Un utilisateur désactivé ne peut plus se connecter ni utiliser l'API ; son historique est conservé."),
        "support_level": _l("Pour les agents : 1, 2 ou 3."),
        "chat_limit": _l("Pour les agents : combien de discussions en direct à la fois, au plus."),
        "email": _l("Sert d'identifiant de connexion."),
    }
    list_columns = ["first_name", "last_name", "email", "organisation", "roles", "active", "last_login"]
    search_columns = ["first_name", "last_name", "email", "organisation", "roles", "active", "support_level"]
    add_columns = _EDIT + ["password", "conf_password"]
    edit_columns = _EDIT
    show_fieldsets = [
        ("Identité", {"fields": ["first_name", "last_name", "email", "phone", "organisation"]}),
        ("Accès", {"fields": ["roles", "active", "support_level", "two_factor_email", "totp_enabled"]}),
        ("Préférences", {"fields": ["locale", "timezone"]}),
        ("Suivi", {"fields": ["last_login", "login_count", "fail_login_count", "created_on", "created_by", "changed_on", "changed_by"], "expanded": False}),
    ]
    user_show_fieldsets = [
        ("Identité", {"fields": ["first_name", "last_name", "email", "phone", "organisation"]}),
        ("Préférences", {"fields": ["locale", "timezone", "roles"]}),
    ]
    show_template = "novadesk/user_show.html"
    formatters_columns = {
        **datetime_formatters("last_login", "created_on", "changed_on"),
        **yes_no_formatters("active", "two_factor_email", "totp_enabled"),
        "roles": role_labels,
    }
    order_columns = ["first_name", "last_name", "email", "last_login"]
    base_order = ("last_name", "asc")
    validators_columns = {"email": [DataRequired(), Email()]}
    edit_form_extra_fields = _PREFERENCE_FIELDS
    add_form_extra_fields = {**UserDBModelView.add_form_extra_fields, **_NEW_ACCOUNT_FIELDS}

    def pre_add(self, item):
        users.check_new_account(item)

    def pre_update(self, item):
        users.check_account_change(g.user, item)

    def _set_active(self, items, active):
        changed = 0
        for item in items if isinstance(items, list) else [items]:
            try:
                if active:
                    users.reactivate_user(g.user, item)
                else:
                    users.deactivate_user(g.user, item)
                changed += 1
            except ServiceError as error:
                flash(error.message, "warning")
        db.session.commit()
        flash(_("%(n)s compte(s) mis à jour.", n=changed), "success")
        return redirect(self.get_redirect())

    @expose("/end-sessions/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("edit")
    def end_sessions(self, pk):
        """« Terminer toutes les sessions »: every browser and API client of this person must
        sign in again (a lost phone, a shared computer, a password that leaked)."""
        user = db.session.get(NovaUser, pk) if pk < 2**31 else None
        if user is None:
            abort(404)
        ended = sessions.end_all_sessions(user, sessions.ENDED_BY_ADMIN, actor=g.user)
        db.session.commit()
        flash(_("%(n)s session(s) terminée(s) : %(name)s devra se reconnecter partout.", n=ended, name=user.full_name), "success")
        return redirect(url_for(".show", pk=user.id))

    @action("deactivate", _l("Désactiver"), _l("Désactiver les comptes sélectionnés ?"), "fa-user-slash")
    def deactivate(self, items):
        return self._set_active(items, False)

    @action("reactivate", _l("Réactiver"), _l("Réactiver les comptes sélectionnés ?"), "fa-user-check")
    def reactivate(self, items):
        return self._set_active(items, True)


class NovaUserInfoEditView(UserInfoEditView):
    """"Mon profil": name, phone, language and time zone (A5)."""

    form = PreferencesForm
    form_title = _l("Mon profil")
    message = _l("Profil enregistré.")

    def form_get(self, form):
        user = db.session.get(NovaUser, g.user.id)
        for key in ("first_name", "last_name", "phone", "locale", "timezone"):
            getattr(form, key).data = getattr(user, key)
        kinds = notifications.kinds_for(user)
        form.notifications.choices = list(kinds.items())
        form.notifications.data = [kind for kind in kinds if notifications.wants(user, kind)]

    def form_post(self, form):
        user = db.session.get(NovaUser, g.user.id)
        fields = {key: getattr(form, key).data for key in ("locale", "timezone", "phone", "first_name", "last_name")}
        kinds = notifications.kinds_for(user)
        fields["muted_notifications"] = [kind for kind in kinds if kind not in (form.notifications.data or [])]
        if not commit_or_refuse(lambda: users.update_preferences(user, **fields), self.message):
            return None
        session["locale"] = user.locale
        return redirect(url_for("NovaUserDBModelView.userinfo"))


class NovaRoleModelView(GeneratedScreen, RoleModelView):
    """Roles by name: creating, renaming and deleting them. What a role may do is set in the
    permission matrix (views/role_matrix.py), where the list and each role lead (U1)."""

    include_route_methods = {"list", "show", "add", "edit", "delete", "action_post"}
    list_title = _l("Rôles")
    show_title = _l("Rôle")
    add_title = _l("Nouveau rôle")
    edit_title = _l("Renommer le rôle")
    label_columns = {"name": _l("Nom"), "permissions": _l("Permissions"), "user": _l("Utilisateurs")}
    description_columns = {"name": _l("Ses droits se règlent ensuite dans « Rôles et droits ».")}
    add_columns = ["name"]
    edit_columns = ["name"]

    @expose("/list/")
    @has_access
    def list(self):
        return redirect(url_for("RoleMatrixView.index"))

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        return redirect(url_for("RoleMatrixView.index", role=pk))

    def post_add_redirect(self):
        return redirect(url_for("RoleMatrixView.index"))

    def post_edit_redirect(self):
        return redirect(url_for("RoleMatrixView.index"))

    def post_delete_redirect(self):
        return redirect(url_for("RoleMatrixView.index"))


class UnusedGroupView(UserGroupModelView):
    """FAB's user groups are not used: no route, no menu."""

    include_route_methods = set()


class NovaResetMyPasswordView(ResetMyPasswordView):
    """Changing one's own password asks for the current one: a borrowed session is not enough."""

    form = ChangePasswordForm
    form_title = _l("Changer mon mot de passe")
    message = _l("Votre mot de passe a été changé.")

    def form_post(self, form):
        user = db.session.get(NovaUser, g.user.id)
        if not check_password(user.password, form.current_password.data):
            flash(_("Le mot de passe actuel est incorrect."), "danger")
            return redirect(url_for(".this_form_get"))
        keep = session.get(sessions.COOKIE_KEY)  # this session stays open; every other one ends
        if not commit_or_refuse(lambda: users.change_password(user, form.password.data, keep_session=keep), self.message):
            return redirect(url_for(".this_form_get"))
        return redirect(url_for("AccountSecurityView.overview"))


class NovaResetPasswordView(ResetPasswordView):
    """An admin sets another person's password (FAB's "reset password" action on users)."""

    form = SetPasswordForm
    form_title = _l("Définir le mot de passe")
    message = _l("Mot de passe changé.")

    def form_post(self, form):
        user = db.session.get(NovaUser, to_id(request.args.get("pk")) or 0)
        if user is None:
            abort(404)
        if not commit_or_refuse(lambda: users.change_password(user, form.password.data), self.message):
            return redirect(url_for(".this_form_get", pk=user.id))
        return redirect(url_for("NovaUserDBModelView.show", pk=user.id))
