"""The role catalogue: NovaDesk's roles and the permissions each starts with.

These are only starting points: the roles live in the database and admins edit them in FAB's
permission matrix. `sync_roles` creates a missing role with its defaults and leaves an
existing one alone unless asked to reset it. Patterns are anchored regular expressions over
(view or menu name, permission name).
"""
import re

from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import RolePolicy

ADMIN = "Admin"
SUPERVISOR = "Supervisor"
AGENT = "Agent"
COMMERCIAL = "Commercial"
CLIENT = "Client"
RESELLER = "Reseller"

ROLE_LABELS = {
    ADMIN: _l("Administrateur"),
    SUPERVISOR: _l("Superviseur"),
    AGENT: _l("Agent de support"),
    COMMERCIAL: _l("Commercial"),
    CLIENT: _l("Utilisateur client"),
    RESELLER: _l("Revendeur"),
}

# What every signed-in person may do: see their profile, edit it, change their password,
# manage their own second factor, read the product list.
_EVERYONE = [
    ("NovaUserDBModelView", "can_userinfo"),
    ("NovaUserInfoEditView", "can_this_form_(get|post)"),
    ("NovaResetMyPasswordView", "can_this_form_(get|post)"),
    ("AccountSecurity", "can_.*"),
    ("Products", "can_(list|show)"),
    ("Directory", "can_(list|show)"),
    ("Organisations", "can_(list|show)"),
    # The REST API: reads scoped by scopes.py; the OpenAPI description for integrators.
    ("(OrganisationApi|ProductApi|TicketApi|TicketMessageApi|AttachmentApi|UserApi|KbArticleApi|OpenApi)", "can_get"),
    ("(List Organisations|List People|List Products|Annuaire)", "menu_access"),
    ("(Knowledge Base|Help Centre)", "menu_access"),
    ("Dashboard", "can_show"),
    ("Live Dashboard", "menu_access"),
]

# Partners file and follow their organisation's tickets, reply, close and reopen them.
_TICKET_API_WRITES = [("TicketApi", "can_(post|put)"), ("TicketMessageApi", "can_post")]
_PARTNER = _EVERYONE + _TICKET_API_WRITES + [
    ("Tickets", "can_(list|show|add|reply|status|rate)"),
    ("Ticket Desk", "menu_access"),
]
# Commercials also work their clients' tickets (notes, priority, links) but do not assign.
_REPORTS = [("Reports", "can_(show|export)"), ("Support Reports", "menu_access")]
# Live chat: commercials follow their clients' conversations; the support answers them.
_COMMERCIAL = _PARTNER + [("Tickets", "can_work"), ("Chat", "can_console"), ("ChatConversations", "can_list"), ("(Live Chat|Live Chat Console|List Conversations)", "menu_access")] + _REPORTS
_STAFF = _EVERYONE + _TICKET_API_WRITES + [
    ("Directory", "can_.*"),
    ("Tickets", "can_.*"),
    ("Ticket Desk", "menu_access"),
    # The knowledge base: staff write; who publishes is decided in scopes.publishes_articles.
    ("(KnowledgeBase|KbCategories)", "can_.*"),
    ("(Knowledge Base Articles|List Kb Categories)", "menu_access"),
    ("Chat", "can_(console|answer)"),
    ("ChatConversations", "can_list"),
    ("(Live Chat|Live Chat Console|List Conversations)", "menu_access"),
] + _REPORTS

ROLE_DEFAULTS = {
    SUPERVISOR: _STAFF,
    AGENT: _STAFF,
    COMMERCIAL: _COMMERCIAL,
    CLIENT: _PARTNER,
    RESELLER: _PARTNER,
}

# Second factor required by default (admins change it per role in "Double authentification").
TWO_FACTOR_REQUIRED_BY_DEFAULT = {ADMIN, SUPERVISOR}


def _matches(patterns, view_name, permission_name):
    return any(
        re.fullmatch(view_pattern, view_name) and re.fullmatch(perm_pattern, permission_name)
        for view_pattern, perm_pattern in patterns
    )


def sync_roles(sm, reset=False):
    """Create missing roles (with their 2FA policy) and give new ones their defaults."""
    all_permission_views = sm.session.query(sm.permissionview_model).all()
    if sm.find_role(sm.auth_role_public) is None:
        db.session.add(sm.role_model(name=sm.auth_role_public))  # anonymous visitors: no rights
    for name in [ADMIN, *ROLE_DEFAULTS]:
        role = sm.find_role(name)
        created = role is None
        if created:
            role = sm.role_model(name=name)
            db.session.add(role)
        if name != ADMIN and (created or reset):
            role.permissions = [
                pv
                for pv in all_permission_views
                if pv.view_menu and pv.permission and _matches(ROLE_DEFAULTS[name], pv.view_menu.name, pv.permission.name)
            ]
        db.session.flush()
        if db.session.query(RolePolicy).filter_by(role_id=role.id).first() is None:
            db.session.add(RolePolicy(role_id=role.id, two_factor_required=name in TWO_FACTOR_REQUIRED_BY_DEFAULT))
    # Admin holds every permission, including the ones views added since it was created.
    admin = sm.find_role(ADMIN)
    admin.permissions = all_permission_views
    db.session.flush()
