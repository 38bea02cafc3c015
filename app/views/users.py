"""User administration (admins) and each person's own profile."""
from flask import flash, g, redirect, session, url_for
from flask_appbuilder.actions import action
from flask_appbuilder.security.views import RoleModelView, UserDBModelView, UserGroupModelView, UserInfoEditView
from wtforms.validators import DataRequired, Email

from app.extensions import db
from app.models import NovaUser
from app.security.passwords import hash_password
from app.services import ServiceError, users
from app.views.formatting import datetime_formatters
from app.views.forms import PreferencesForm

_LABELS = {
    "first_name": "Prénom",
    "last_name": "Nom",
    "email": "Adresse e-mail",
    "organisation": "Organisation",
    "phone": "Téléphone",
    "roles": "Rôles",
    "active": "Actif",
    "support_level": "Niveau de support",
    "locale": "Langue",
    "timezone": "Fuseau horaire",
    "last_login": "Dernière connexion",
    "login_count": "Connexions",
    "fail_login_count": "Échecs de connexion",
    "created_on": "Créé le",
    "changed_on": "Modifié le",
    "created_by": "Créé par",
    "changed_by": "Modifié par",
    "two_factor_email": "Code par e-mail",
    "totp_enabled": "Application d'authentification",
    "password": "Mot de passe",
    "conf_password": "Confirmez le mot de passe",
}

_EDIT = ["first_name", "last_name", "email", "organisation", "roles", "support_level", "phone", "locale", "timezone", "active"]


class NovaUserDBModelView(UserDBModelView):
    """Users of every role. No delete: a person who leaves is deactivated and keeps their history."""

    include_route_methods = {"list", "show", "add", "edit", "action_post", "userinfo"}
    list_title = "Utilisateurs"
    show_title = "Fiche utilisateur"
    add_title = "Nouvel utilisateur"
    edit_title = "Modifier l'utilisateur"
    label_columns = _LABELS
    description_columns = {
        "active": "Un utilisateur désactivé ne peut plus se connecter ni utiliser l'API ; son historique est conservé.",
        "support_level": "Pour les agents : 1, 2 ou 3.",
        "email": "Sert d'identifiant de connexion.",
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
    formatters_columns = datetime_formatters("last_login", "created_on", "changed_on")
    order_columns = ["first_name", "last_name", "email", "last_login"]
    base_order = ("last_name", "asc")
    validators_columns = {"email": [DataRequired(), Email()]}
    edit_form_extra_fields = {}

    def pre_add(self, item):
        item.email = item.email.strip().lower()
        item.username = item.email
        if users.email_taken(item.email):
            raise ServiceError("Un compte existe déjà avec cette adresse e-mail.")
        users.validate_password(item.password)
        item.password = hash_password(item.password)

    def pre_update(self, item):
        item.email = item.email.strip().lower()
        item.username = item.email
        if not item.active and g.user.id == item.id:
            raise ServiceError("Vous ne pouvez pas désactiver votre propre compte.")

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
        flash(f"{changed} compte(s) mis à jour.", "success")
        return redirect(self.get_redirect())

    @action("deactivate", "Désactiver", "Désactiver les comptes sélectionnés ?", "fa-user-slash")
    def deactivate(self, items):
        return self._set_active(items, False)

    @action("reactivate", "Réactiver", "Réactiver les comptes sélectionnés ?", "fa-user-check")
    def reactivate(self, items):
        return self._set_active(items, True)


class NovaUserInfoEditView(UserInfoEditView):
    """"Mon profil": name, phone, language and time zone (A5)."""

    form = PreferencesForm
    form_title = "Mon profil"
    message = "Profil enregistré."

    def form_get(self, form):
        user = db.session.get(NovaUser, g.user.id)
        for key in ("first_name", "last_name", "phone", "locale", "timezone"):
            getattr(form, key).data = getattr(user, key)

    def form_post(self, form):
        user = db.session.get(NovaUser, g.user.id)
        try:
            users.update_preferences(
                user,
                locale=form.locale.data,
                timezone=form.timezone.data,
                phone=form.phone.data,
                first_name=form.first_name.data,
                last_name=form.last_name.data,
            )
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return None
        db.session.commit()
        session["locale"] = user.locale
        flash(self.message, "success")
        return redirect(url_for("NovaUserDBModelView.userinfo"))


class NovaRoleModelView(RoleModelView):
    """Roles and their permissions: the permission matrix admins edit (U1)."""

    include_route_methods = {"list", "show", "add", "edit", "delete", "action_post"}
    list_title = "Rôles"
    show_title = "Rôle"
    add_title = "Nouveau rôle"
    edit_title = "Modifier le rôle et ses permissions"
    label_columns = {"name": "Nom", "permissions": "Permissions", "user": "Utilisateurs"}


class UnusedGroupView(UserGroupModelView):
    """FAB's user groups are not used: no route, no menu."""

    include_route_methods = set()
