"""What a person can do, in words: the rows of the permission matrix (U1).

Each right is one line an admin reads (« Voir les tickets ») over the FAB permission/view
pairs that enforce it; FAB's names stay the truth underneath. A pair belongs to at most one
right. Pairs no right names yet are shown under « Autres » with their technical name, and
menu entries ("menu_access") are never asked: they follow from the rights (see
services/role_matrix.py).
"""
from flask_babel import lazy_gettext as _l

# The group each right sits in, in the order the matrix shows them.
GROUPS = [
    ("tickets", _l("Tickets")),
    ("kb", _l("Base de connaissances")),
    ("chat", _l("Discussion")),
    ("reports", _l("Rapports")),
    ("directory", _l("Annuaire")),
    ("support_settings", _l("Configuration du support")),
    ("mail", _l("Messagerie")),
    ("integrations", _l("Intégrations")),
    ("account", _l("Mon compte")),
    ("admin", _l("Administration")),
]
OTHERS_GROUP = ("others", _l("Autres"))


class Right:
    def __init__(self, key, group, label, pairs):
        self.key = key
        self.group = group
        self.label = label
        self.pairs = tuple(pairs)  # ((view or menu name, permission name), …)

    @property
    def source_label(self):
        """The French wording, as written here (the activity log keeps it whatever the reader's language)."""
        return self.label._args[0] if hasattr(self.label, "_args") else str(self.label)


def _crud(view, *permissions):
    return [(view, f"can_{name}") if name in {"list", "show", "add", "edit", "delete"} else (view, name) for name in permissions]


RIGHTS = [
    # Tickets
    Right("tickets.view", "tickets", _l("Voir les tickets"), [
        ("Tickets", "can_list"), ("Tickets", "can_show"),
        ("TicketApi", "can_get"), ("TicketMessageApi", "can_get"), ("AttachmentApi", "can_get"),
    ]),
    Right("tickets.create", "tickets", _l("Créer des tickets"), [("Tickets", "can_add"), ("TicketApi", "can_post")]),
    Right("tickets.reply", "tickets", _l("Répondre aux tickets et ajouter une note interne"), [("Tickets", "can_reply"), ("TicketMessageApi", "can_post")]),
    Right("tickets.status", "tickets", _l("Changer le statut d'un ticket (résoudre, clore, rouvrir)"), [("Tickets", "can_status"), ("TicketApi", "can_put")]),
    Right("tickets.rate", "tickets", _l("Évaluer le support reçu"), [("Tickets", "can_rate")]),
    Right("tickets.work", "tickets", _l("Changer la priorité, lier et identifier les tickets"), [("Tickets", "can_work")]),
    Right("tickets.assign", "tickets", _l("Attribuer et escalader les tickets"), [("Tickets", "can_assign")]),
    # Knowledge base
    Right("kb.read_api", "kb", _l("Lire les articles par l'API"), [("KbArticleApi", "can_get")]),
    Right("kb.write", "kb", _l("Rédiger et modifier les articles"), _crud("KnowledgeBase", "list", "show", "add", "edit")),
    Right("kb.categories", "kb", _l("Gérer les thèmes de la base"), _crud("KbCategories", "list", "show", "add", "edit", "delete")),
    # Live chat
    Right("chat.console", "chat", _l("Suivre les discussions en direct"), [("Chat", "can_console")]),
    Right("chat.answer", "chat", _l("Répondre aux visiteurs en direct"), [("Chat", "can_answer")]),
    Right("chat.history", "chat", _l("Voir l'historique des conversations"), [("ChatConversations", "can_list")]),
    Right("chat.channels", "chat", _l("Configurer les canaux du widget"), _crud("ChatChannels", "list", "show", "add", "edit")),
    # Reports
    Right("reports.dashboard", "reports", _l("Voir le tableau de bord"), [("Dashboard", "can_show")]),
    Right("reports.view", "reports", _l("Voir les rapports"), [("Reports", "can_show")]),
    Right("reports.export", "reports", _l("Exporter les rapports"), [("Reports", "can_export")]),
    # Directory
    Right("directory.people", "directory", _l("Voir les personnes de l'annuaire"), [("Directory", "can_list"), ("Directory", "can_show"), ("UserApi", "can_get")]),
    Right("directory.organisations", "directory", _l("Voir les organisations"), [("Organisations", "can_list"), ("Organisations", "can_show"), ("OrganisationApi", "can_get")]),
    Right("directory.manage_organisations", "directory", _l("Créer, modifier et désactiver des organisations"), _crud("Organisations", "add", "edit", "deactivate")),
    Right("directory.products", "directory", _l("Voir les produits"), [("Products", "can_list"), ("Products", "can_show"), ("ProductApi", "can_get")]),
    Right("directory.manage_products", "directory", _l("Créer et modifier des produits"), _crud("Products", "add", "edit")),
    Right("directory.import", "directory", _l("Importer et synchroniser l'annuaire"), [
        ("DirectoryImport", "can_import"), ("DirectorySyncApi", "can_post"),
        *_crud("SyncSources", "list", "show", "add", "edit", "delete", "run_now"), *_crud("SyncLog", "list", "show"),
    ]),
    # Support settings
    Right("settings.request_types", "support_settings", _l("Configurer les types de demande"), _crud("RequestTypes", "list", "show", "add", "edit", "delete")),
    Right("settings.priorities", "support_settings", _l("Configurer les priorités et délais (SLA)"), _crud("Priorities", "list", "show", "edit")),
    Right("settings.statuses", "support_settings", _l("Configurer les statuts des tickets"), _crud("TicketStatuses", "list", "show", "add", "edit", "delete")),
    Right("settings.calendars", "support_settings", _l("Configurer les heures ouvrées et jours fériés"), _crud("BusinessCalendars", "list", "show", "add", "edit", "delete")),
    Right("settings.queues", "support_settings", _l("Configurer les files et niveaux de support"), _crud("Queues", "list", "show", "add", "edit", "delete")),
    Right("settings.canned", "support_settings", _l("Gérer les réponses prédéfinies"), _crud("CannedResponses", "list", "show", "add", "edit", "delete")),
    Right("settings.escalation", "support_settings", _l("Configurer les règles d'escalade"), _crud("EscalationRules", "list", "show", "add", "edit", "delete")),
    Right("settings.ticket_import", "support_settings", _l("Importer l'ancien help desk"), [("TicketImport", "can_import")]),
    # Mail
    Right("mail.received", "mail", _l("Voir les messages reçus et relancer leur traitement"), _crud("InboundMail", "list", "show", "retry")),
    Right("mail.outbox", "mail", _l("Voir la file d'envoi et relancer un envoi"), _crud("Outbox", "list", "show", "retry")),
    Right("mail.mailboxes", "mail", _l("Configurer les boîtes de réception"), _crud("Mailboxes", "list", "show", "add", "edit", "delete", "test")),
    Right("mail.dev_mailbox", "mail", _l("Lire la boîte de développement"), _crud("DevMailbox", "list", "show")),
    # Integrations
    Right("integrations.webhooks", "integrations", _l("Gérer les webhooks et leurs envois"), [
        *_crud("Webhooks", "list", "show", "add", "edit", "delete", "renew_secret"), *_crud("WebhookDeliveries", "list", "show", "resend"),
    ]),
    Right("integrations.api_keys", "integrations", _l("Gérer les clés d'API"), _crud("ApiKeys", "list", "show", "add", "revoke")),
    Right("integrations.openapi", "integrations", _l("Lire la description de l'API (OpenAPI)"), [("OpenApi", "can_get")]),
    Right("integrations.swagger", "integrations", _l("Essayer l'API dans la documentation interactive"), [("SwaggerView", "can_show")]),
    # One's own account
    Right("account.profile", "account", _l("Voir et modifier son profil"), [
        ("NovaUserDBModelView", "can_userinfo"), ("NovaUserInfoEditView", "can_this_form_get"), ("NovaUserInfoEditView", "can_this_form_post"),
    ]),
    Right("account.password", "account", _l("Changer son mot de passe"), [("NovaResetMyPasswordView", "can_this_form_get"), ("NovaResetMyPasswordView", "can_this_form_post")]),
    Right("account.security", "account", _l("Gérer sa double authentification"), [("AccountSecurity", "can_show"), ("AccountSecurity", "can_edit")]),
    # Administration
    Right("admin.users", "admin", _l("Gérer les utilisateurs (créer, modifier, désactiver, mot de passe)"), [
        *_crud("NovaUserDBModelView", "list", "show", "add", "edit", "deactivate", "reactivate", "resetpasswords", "resetmypassword", "userinfoedit"),
        ("NovaResetPasswordView", "can_this_form_get"), ("NovaResetPasswordView", "can_this_form_post"),
    ]),
    Right("admin.roles", "admin", _l("Gérer les rôles et leurs droits"), [
        ("RoleMatrix", "can_manage"), *_crud("NovaRoleModelView", "list", "show", "add", "edit", "delete", "copyrole"),
    ]),
    Right("admin.two_factor", "admin", _l("Régler la double authentification par rôle"), _crud("RolePolicies", "list", "edit")),
    Right("admin.account_requests", "admin", _l("Traiter les demandes de compte"), _crud("AccountRequests", "list", "show", "edit", "approve", "reject")),
    Right("admin.activity", "admin", _l("Consulter le journal d'activité"), _crud("ActivityLog", "list", "show")),
    Right("admin.personal_data", "admin", _l("Exporter et effacer les données personnelles"), [("PersonalData", "can_show"), ("PersonalData", "can_export"), ("PersonalData", "can_erase")]),
]

# The right that opens the matrix itself: only a role holding it may see, export or change it.
MATRIX_VIEW = "RoleMatrix"
MATRIX_PERMISSION = "can_manage"
MENU_PERMISSION = "menu_access"
