"""Admin screens: activity log, account requests, 2FA per role, API keys, development mailbox."""
from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.actions import action
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_appbuilder.security.sqla.models import ApiKey
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.extensions import db
from app.formatting import datetime_formatters, local_datetime, screen_value, yes_no_formatters
from app.models import AccountRequest, ActivityLog, OutboxMail, RolePolicy
from app.services import ServiceError, accounts, api_keys
from app.views.generated import NovaModelView
from app.views.labels import activity_sentence
from app.web.scoping import PartnerOrganisations


def _entry_sentence(entry_id):
    """The sentence of one entry of the page (already loaded: no query)."""
    return activity_sentence(db.session.get(ActivityLog, entry_id))


def _details(details):
    """What changed, one line a field: « name : Baobab → Baobab SA »."""
    if not isinstance(details, dict) or not details:
        return None
    lines = []
    for key, value in details.items():
        if isinstance(value, list) and len(value) == 2 and not isinstance(value[0], (list, dict)):
            value = f"{screen_value(value[0])} → {screen_value(value[1])}"
        elif isinstance(value, dict):
            value = " ; ".join(f"{k} : {screen_value(v)}" for k, v in value.items())
        else:
            value = screen_value(value)
        lines.append(f"{key} : {value}")
    return "\n".join(lines)


class ActivityLogView(NovaModelView):
    datamodel = SQLAInterface(ActivityLog)
    class_permission_name = "ActivityLog"
    route_base = "/activity"
    include_route_methods = {"list", "show"}
    list_title = _l("Journal d'activité")
    show_title = _l("Entrée du journal")
    label_columns = {"at": _l("Date"), "id": _l("Ce qui s'est passé"), "actor": _l("Auteur"), "action": _l("Code de l'action"), "target_type": _l("Type d'objet"), "target_label": _l("Objet"), "subject_user": _l("Utilisateur concerné"), "details": _l("Détails"), "ip_address": _l("Adresse IP")}
    list_columns = ["at", "id", "ip_address"]
    show_columns = ["at", "id", "actor", "subject_user", "target_label", "details", "ip_address"]
    search_columns = ["subject_user", "actor", "action", "at", "ip_address"]
    order_columns = ["at"]
    base_order = ("at", "desc")
    page_size = 50
    formatters_columns = {**datetime_formatters("at"), "id": _entry_sentence, "details": _details}


class AccountRequestModelView(NovaModelView):
    datamodel = SQLAInterface(AccountRequest)
    class_permission_name = "AccountRequests"
    route_base = "/account-requests"
    include_route_methods = {"list", "show", "edit", "action_post"}
    list_title = _l("Demandes de compte")
    show_title = _l("Demande de compte")
    edit_title = _l("Rattacher la demande à une organisation")
    label_columns = {"first_name": _l("Prénom"), "last_name": _l("Nom"), "email": _l("Adresse e-mail"), "phone": _l("Téléphone"), "organisation_name": _l("Organisation déclarée"), "organisation": _l("Organisation rattachée"), "message": _l("Message"), "status_label": _l("État"), "status": _l("État"), "created_on": _l("Demandée le"), "confirmed_on": _l("Confirmée le"), "decided_on": _l("Décidée le"), "decided_by": _l("Décidée par"), "user": _l("Compte créé")}
    list_columns = ["created_on", "first_name", "last_name", "email", "organisation_name", "status_label", "organisation"]
    show_columns = ["first_name", "last_name", "email", "phone", "organisation_name", "message", "status_label", "organisation", "created_on", "confirmed_on", "decided_on", "decided_by", "user"]
    edit_columns = ["organisation"]
    edit_form_query_rel_fields = {"organisation": [["id", PartnerOrganisations, None]]}
    search_columns = ["email", "organisation_name", "status", "created_on"]
    base_order = ("created_on", "desc")
    formatters_columns = datetime_formatters("created_on", "confirmed_on", "decided_on")

    @action("approve", _l("Approuver"), _l("Créer les comptes des demandes sélectionnées ?"), "fa-check")
    def approve(self, items):
        return self._decide(items, lambda item: accounts.approve_account_request(g.user, item, item.organisation))

    @action("reject", _l("Refuser"), _l("Refuser les demandes sélectionnées ?"), "fa-xmark")
    def reject(self, items):
        return self._decide(items, lambda item: accounts.reject_account_request(g.user, item))

    def _decide(self, items, decide):
        done = 0
        for item in items if isinstance(items, list) else [items]:
            try:
                with db.session.begin_nested():
                    decide(item)
                done += 1
            except ServiceError as error:
                flash(f"{item.email} : {error.message}", "warning")
        db.session.commit()
        if done:
            flash(_("%(n)s demande(s) traitée(s).", n=done), "success")
        return redirect(self.get_redirect())


class RolePolicyView(NovaModelView):
    datamodel = SQLAInterface(RolePolicy)
    class_permission_name = "RolePolicies"
    route_base = "/role-policies"
    include_route_methods = {"list", "edit"}
    list_title = _l("Double authentification par rôle")
    edit_title = _l("Double authentification du rôle")
    label_columns = {"role": _l("Rôle"), "two_factor_required": _l("Double authentification obligatoire")}
    description_columns = {"two_factor_required": _l("Les membres du rôle doivent saisir un code (e-mail ou application) à chaque connexion.")}
    list_columns = ["role", "two_factor_required"]
    formatters_columns = yes_no_formatters("two_factor_required")
    edit_columns = ["two_factor_required"]


class IssueApiKeyForm(FlaskForm):
    user_email = StringField("Adresse e-mail de l'utilisateur", validators=[DataRequired(), Length(max=320)])
    name = StringField("Nom de la clé (usage)", validators=[DataRequired(), Length(max=100)])
    expires_on = DateField("Expire le (facultatif)", validators=[Optional()])
    scopes = RadioField(
        "Droits de la clé",
        choices=[(api_keys.READ_WRITE, _l("Lecture et écriture (les droits de l'utilisateur)")), (api_keys.READ_ONLY, _l("Lecture seule"))],
        default=api_keys.READ_WRITE,
    )


class ApiKeyView(NovaModelView):
    """API keys: separate credentials admins issue, and revoke, for scripts and the ERP."""

    datamodel = SQLAInterface(ApiKey)
    class_permission_name = "ApiKeys"
    route_base = "/api-keys"
    include_route_methods = {"list", "show", "action_post", "issue"}
    list_title = _l("Clés d'API")
    show_title = _l("Clé d'API")
    label_columns = {"name": _l("Nom"), "user": _l("Utilisateur"), "key_prefix": _l("Préfixe"), "created_on": _l("Créée le"), "expires_on": _l("Expire le"), "revoked_on": _l("Révoquée le"), "last_used_on": _l("Dernière utilisation"), "active": _l("Active"), "scopes": _l("Droits")}
    list_columns = ["name", "user", "scopes", "created_on", "expires_on", "last_used_on", "revoked_on"]
    show_columns = list_columns
    base_order = ("created_on", "desc")
    list_template = "novadesk/api_keys.html"
    formatters_columns = {
        **{c: local_datetime for c in ("created_on", "expires_on", "last_used_on", "revoked_on")},
        "scopes": lambda value: _("Lecture seule") if api_keys.is_read_only(value) else _("Lecture et écriture"),
    }

    @expose("/issue", methods=["GET", "POST"])
    @has_access
    @permission_name("add")
    def issue(self):
        form = IssueApiKeyForm()
        if form.validate_on_submit():
            try:
                user, created = api_keys.issue_api_key(g.user, form.user_email.data, form.name.data, form.expires_on.data, scopes=form.scopes.data)
            except ServiceError as error:
                db.session.rollback()
                flash(error.message, "danger")
            else:
                db.session.commit()
                flash(_("Clé créée pour %(email)s. Copiez-la maintenant, elle ne sera plus affichée : %(key)s", email=user.email, key=created["key"]), "success")
                return redirect(url_for(".list"))
        return self.render_template("novadesk/api_key_issue.html", form=form, title="Émettre une clé d'API", appbuilder=self.appbuilder)

    @action("revoke", _l("Révoquer"), _l("Révoquer les clés sélectionnées ? Les scripts qui les utilisent seront refusés."), "fa-ban")
    def revoke(self, items):
        api_keys.revoke_api_keys(g.user, items if isinstance(items, list) else [items])
        db.session.commit()
        flash(_("Clé(s) révoquée(s)."), "success")
        return redirect(self.get_redirect())


class DevMailboxView(BaseView):
    """Every mail NovaDesk wrote, as the recipient would read it (admins only)."""

    class_permission_name = "DevMailbox"
    route_base = "/dev-mailbox"
    default_view = "inbox"

    @expose("/")
    @has_access
    @permission_name("list")
    def inbox(self):
        if current_app.config.get("MAIL_SERVER"):
            abort(404)  # mail really leaves: the development mailbox is closed
        recipient = request.args.get("to", "").strip().lower()
        query = db.session.query(OutboxMail).order_by(OutboxMail.id.desc())
        if recipient:
            query = query.filter(OutboxMail.recipient == recipient)
        mails = query.limit(200).all()
        return self.render_template("novadesk/mailbox.html", mails=mails, recipient=recipient, local_datetime=local_datetime, title="Boîte de développement")

    @expose("/<int:mail_id>")
    @has_access
    @permission_name("show")
    def read(self, mail_id):
        mail = db.session.get(OutboxMail, mail_id)
        if mail is None or current_app.config.get("MAIL_SERVER"):
            abort(404)
        return self.render_template("novadesk/mail_read.html", mail=mail, local_datetime=local_datetime, title=mail.screen_subject)


