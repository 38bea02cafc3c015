"""Organisations, products and the people directory, scoped by app/security/scopes.py."""
from flask import current_app, flash, g, redirect
from flask_appbuilder.actions import action
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.sqla.models import Role
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from app.extensions import db
from app.formatting import datetime_formatters, yes_no_formatters
from app.models import NovaUser, Organisation, OrganisationKind, Product
from app.security import roles, scopes
from app.services import ServiceError, users
from app.views.forms import timezone_choices
from app.views.generated import NovaModelView
from app.web.scoping import scoped, visible_rows

_ORG_LABELS = {
    "name": _l("Nom"),
    "kind": _l("Type"),
    "kind_label": _l("Type"),
    "external_id": _l("Identifiant ERP"),
    "email_domains": _l("Domaines e-mail"),
    "require_authenticated_mail": _l("Exiger des e-mails authentifiés"),
    "phone": _l("Téléphone"),
    "address": _l("Adresse"),
    "notes": _l("Notes"),
    "active": _l("Active"),
    "reseller": _l("Revendeur"),
    "account_manager": _l("Responsable de compte (commercial)"),
    "members": _l("Membres"),
    "created_on": _l("Créée le"),
    "changed_on": _l("Modifiée le"),
    "timezone": _l("Fuseau horaire"),
}


class CommercialsOnly(BaseFilter):
    """Account-manager choices: active users with the Commercial role."""

    name = "Commerciaux"

    def apply(self, query, value):
        return query.filter(NovaUser.active.is_(True), NovaUser.roles.any(Role.name == roles.COMMERCIAL))


_REL_FIELDS = {
    "account_manager": [["id", CommercialsOnly, None]],
    "reseller": [["kind", FilterEqual, OrganisationKind.RESELLER]],
}


class OrganisationView(NovaModelView):
    datamodel = SQLAInterface(Organisation)
    class_permission_name = "Organisations"
    route_base = "/organisations"
    include_route_methods = {"list", "show", "add", "edit", "action_post"}
    base_filters = scoped("organisations")
    list_title = _l("Organisations")
    show_title = _l("Fiche organisation")
    add_title = _l("Nouvelle organisation")
    edit_title = _l("Modifier l'organisation")
    label_columns = _ORG_LABELS
    description_columns = {
        "email_domains": _l("Séparés par des espaces, ex. « cofina.ci cofina.sn ». Une demande de compte venant de ces domaines est rattachée à cette organisation."),
        "external_id": _l("Clé de l'organisation dans l'ERP/CRM, pour la synchronisation."),
        "reseller": _l("Pour un client revendu : l'organisation qui le revend."),
        "timezone": _l("Les nouveaux utilisateurs de l'organisation reçoivent ce fuseau horaire."),
        "require_authenticated_mail": _l("Un e-mail de ses membres ou de ses domaines que notre serveur de messagerie n'a pas authentifié (ni DMARC ni DKIM) n'est pas classé chez ce client : il va aux expéditeurs non identifiés, sans accusé de réception, avec la raison sur le ticket."),
    }
    list_columns = ["name", "kind_label", "external_id", "account_manager", "reseller", "active"]
    search_columns = ["name", "kind", "external_id", "account_manager", "reseller", "active"]
    show_columns = ["name", "kind_label", "external_id", "email_domains", "require_authenticated_mail", "phone", "address", "timezone", "account_manager", "reseller", "active", "notes", "created_on", "changed_on"]
    add_columns = ["name", "kind", "external_id", "email_domains", "require_authenticated_mail", "phone", "address", "timezone", "account_manager", "reseller", "active", "notes"]
    edit_columns = add_columns
    add_form_extra_fields = {
        "kind": SelectField(_l("Type"), choices=OrganisationKind.CHOICES),
        "timezone": SelectField(_l("Fuseau horaire"), choices=timezone_choices(), default=lambda: current_app.config["DEFAULT_TIMEZONE"]),
    }
    edit_form_extra_fields = add_form_extra_fields
    add_form_query_rel_fields = _REL_FIELDS
    edit_form_query_rel_fields = _REL_FIELDS
    # FAB fills relation filters with every row of the related table: scope them too.
    search_form_query_rel_fields = {"account_manager": scoped("users"), "reseller": scoped("organisations")}
    order_columns = ["name", "external_id", "active"]
    base_order = ("name", "asc")
    formatters_columns = {**datetime_formatters("created_on", "changed_on"), **yes_no_formatters("active", "require_authenticated_mail")}

    def pre_add(self, item):
        users.check_organisation(item)

    def pre_update(self, item):
        try:
            users.check_organisation(item)
        except ServiceError:
            db.session.rollback()  # FAB already copied the form onto the row: undo it
            raise

    def _get_show_widget(self, pk, item, **kwargs):
        # Notes are the vendor's own remarks about a partner: not for the partner's people.
        if not scopes.sees_internal_notes(g.user):
            kwargs["show_fieldsets"] = [("", {"fields": [c for c in self.show_columns if c != "notes"]})]
        return super()._get_show_widget(pk, item, **kwargs)

    @action("deactivate", _l("Désactiver"), _l("Désactiver les organisations sélectionnées ?"), "fa-ban")
    def deactivate(self, items):
        users.deactivate_organisations(g.user, visible_rows(db.session, Organisation, "organisations", items))
        db.session.commit()
        flash(_("Organisations désactivées."), "success")
        return redirect(self.get_redirect())


class ProductView(NovaModelView):
    datamodel = SQLAInterface(Product)
    class_permission_name = "Products"
    route_base = "/products"
    include_route_methods = {"list", "show", "add", "edit"}
    base_filters = scoped("products")
    list_title = _l("Produits")
    show_title = _l("Fiche produit")
    add_title = _l("Nouveau produit")
    edit_title = _l("Modifier le produit")
    label_columns = {"code": _l("Code"), "name": _l("Nom"), "description": _l("Description"), "current_version": _l("Version actuelle"), "active": _l("Actif"), "created_on": _l("Créé le")}
    list_columns = ["name", "code", "current_version", "active"]
    search_columns = ["name", "code", "active"]
    add_columns = ["name", "code", "current_version", "description", "active"]
    edit_columns = add_columns
    show_columns = add_columns + ["created_on"]
    base_order = ("name", "asc")
    formatters_columns = {**datetime_formatters("created_on"), **yes_no_formatters("active")}


class DirectoryView(NovaModelView):
    """Read-only directory of people: colleagues for clients, clients for their commercial,
    everyone for support staff."""

    datamodel = SQLAInterface(NovaUser)
    class_permission_name = "Directory"
    route_base = "/directory"
    include_route_methods = {"list", "show"}
    base_filters = scoped("users")
    list_title = _l("Annuaire")
    show_title = _l("Contact")
    label_columns = {"full_name": _l("Nom"), "first_name": _l("Prénom"), "last_name": _l("Nom"), "email": _l("Adresse e-mail"), "phone": _l("Téléphone"), "organisation": _l("Organisation"), "active": _l("Actif"), "support_level": _l("Niveau de support")}
    list_columns = ["first_name", "last_name", "email", "phone", "organisation", "active"]
    show_columns = ["first_name", "last_name", "email", "phone", "organisation", "support_level", "active"]
    search_columns = ["first_name", "last_name", "email", "organisation", "active"]
    search_form_query_rel_fields = {"organisation": scoped("organisations")}
    formatters_columns = yes_no_formatters("active")
    base_order = ("last_name", "asc")
