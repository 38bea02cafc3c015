"""Every screen, registered on the AppBuilder with its menu entry (the API: app/api)."""
from flask import current_app
from flask_babel import lazy_gettext as _l


def register_views(appbuilder):
    from app.views.account_request import AccountRequestView, limit_account_requests
    from app.views.account_security import AccountSecurityView
    from app.views.admin import AccountRequestModelView, ActivityLogView, ApiKeyView, DevMailboxView, RolePolicyView
    from app.views.chat import ChatChannelView, ChatConsoleView, ChatConversationView, chat_public
    from app.views.dashboard import DashboardView
    from app.views.data_admin import DirectoryImportView, PersonalDataView, SyncRunView, SyncSourceView, TicketImportView
    from app.views.directory import DirectoryView, OrganisationView, ProductView
    from app.views.health import health
    from app.views.help import help_centre, limit_help_centre
    from app.views.home import site_icon
    from app.views.kb_admin import KbCategoryView, KnowledgeBaseView
    from app.views.mail_admin import InboundMailView, MailboxView, OutboxView
    from app.views.reports import ReportsView
    from app.views.role_matrix import RoleMatrixView
    from app.views.satisfaction import SatisfactionView
    from app.views.ticket_admin import (
        BusinessCalendarView,
        CannedResponseView,
        EscalationRuleView,
        HolidayView,
        PriorityView,
        QueueView,
        RequestTypeView,
        TicketStatusView,
    )
    from app.views.ticket_bulk import TicketBulkView
    from app.views.tickets import TicketDeskView
    from app.views.webhook_admin import WebhookDeliveryView, WebhookSubscriptionView
    from app.views.widget_assets import install_widget_assets

    app = current_app._get_current_object()
    app.register_blueprint(health)
    app.register_blueprint(site_icon)
    app.register_blueprint(help_centre)
    app.register_blueprint(chat_public)
    install_widget_assets(app)

    appbuilder.add_view(DashboardView, "Live Dashboard", href="/dashboard/", icon="fa-gauge", label=_l("Tableau de bord"))
    appbuilder.add_view(TicketDeskView, "Ticket Desk", href="/tickets/", icon="fa-ticket", label=_l("Tickets"))
    appbuilder.add_view_no_menu(TicketBulkView)
    appbuilder.add_view(ChatConsoleView, "Live Chat Console", href="/chat/console", icon="fa-comments", label=_l("Console de discussion"), category="Live Chat", category_label=_l("Discussions"), category_icon="fa-comments")
    appbuilder.add_view(ChatConversationView, "List Conversations", icon="fa-clock-rotate-left", label=_l("Historique des conversations"), category="Live Chat")
    appbuilder.add_view(ChatChannelView, "List Chat Channels", icon="fa-plug", label=_l("Canaux du widget"), category="Live Chat")
    appbuilder.add_view(ReportsView, "Support Reports", href="/reports/", icon="fa-chart-column", label=_l("Rapports"))
    for view, name, label, icon in [
        (RequestTypeView, "List Request Types", _l("Types de demande"), "fa-tags"),
        (PriorityView, "List Priorities", _l("Priorités et délais (SLA)"), "fa-gauge-high"),
        (TicketStatusView, "List Ticket Statuses", _l("Statuts des tickets"), "fa-list-check"),
        (BusinessCalendarView, "List Business Calendars", _l("Heures ouvrées"), "fa-calendar-days"),
        (QueueView, "List Queues", _l("Files et niveaux de support"), "fa-people-group"),
        (CannedResponseView, "List Canned Responses", _l("Réponses prédéfinies"), "fa-comment-dots"),
        (EscalationRuleView, "List Escalation Rules", _l("Règles d'escalade (SLA)"), "fa-bell"),
    ]:
        appbuilder.add_view(view, name, icon=icon, label=label, category="Support Settings", category_label=_l("Configuration du support"), category_icon="fa-sliders")
    appbuilder.add_view_no_menu(HolidayView)
    appbuilder.add_view(TicketImportView, "Ticket Import", href="/ticket-import/", icon="fa-file-import", label=_l("Importer l'ancien help desk"), category="Support Settings")
    appbuilder.add_link("Help Centre", href="/help/", icon="fa-circle-question", label=_l("Centre d'aide"), category="Knowledge Base", category_label=_l("Base de connaissances"), category_icon="fa-book")
    appbuilder.add_view(KnowledgeBaseView, "Knowledge Base Articles", href="/kb/", icon="fa-file-lines", label=_l("Articles"), category="Knowledge Base")
    appbuilder.add_view(KbCategoryView, "List Kb Categories", icon="fa-folder-tree", label=_l("Thèmes"), category="Knowledge Base")
    appbuilder.add_view(OrganisationView, "List Organisations", icon="fa-building", label=_l("Organisations"), category="Annuaire", category_label=_l("Annuaire"), category_icon="fa-address-book")
    appbuilder.add_view(DirectoryView, "List People", icon="fa-address-card", label=_l("Personnes"), category="Annuaire")
    appbuilder.add_view(ProductView, "List Products", icon="fa-box", label=_l("Produits"), category="Annuaire")
    appbuilder.add_view(DirectoryImportView, "Directory Import", href="/directory-import/", icon="fa-file-import", label=_l("Importer l'annuaire"), category="Annuaire")
    appbuilder.add_view(SyncSourceView, "List Sync Sources", icon="fa-rotate", label=_l("Synchronisation planifiée"), category="Annuaire")
    appbuilder.add_view(SyncRunView, "Sync Log", icon="fa-list", label=_l("Journal des synchronisations"), category="Annuaire")

    appbuilder.add_view(RoleMatrixView, "Permission Matrix", icon="fa-table-cells", label=_l("Rôles et droits"), category="Security")
    appbuilder.add_view(AccountRequestModelView, "List Account Requests", icon="fa-user-plus", label=_l("Demandes de compte"), category="Security")
    appbuilder.add_view(RolePolicyView, "Two-factor Policies", icon="fa-shield-halved", label=_l("Double authentification par rôle"), category="Security")
    appbuilder.add_view(ApiKeyView, "List API Keys", icon="fa-key", label=_l("Clés d'API"), category="Security")
    appbuilder.add_view(PersonalDataView, "Personal Data", href="/personal-data/", icon="fa-user-shield", label=_l("Données personnelles"), category="Security")
    appbuilder.add_view(ActivityLogView, "Activity Log", icon="fa-clock-rotate-left", label=_l("Journal d'activité"), category="Security")
    for view, name, label, icon in [
        (InboundMailView, "List Received Mail", _l("Messages reçus"), "fa-inbox"),
        (OutboxView, "List Outbox", _l("File d'envoi"), "fa-paper-plane"),
        (MailboxView, "List Mailboxes", _l("Boîtes de réception (IMAP)"), "fa-server"),
    ]:
        appbuilder.add_view(view, name, icon=icon, label=label, category="Mail", category_label=_l("Messagerie"), category_icon="fa-envelope")
    appbuilder.add_view(WebhookSubscriptionView, "List Webhooks", icon="fa-satellite-dish", label=_l("Webhooks"), category="Integrations", category_label=_l("Intégrations"), category_icon="fa-plug")
    appbuilder.add_view(WebhookDeliveryView, "List Webhook Deliveries", icon="fa-list-check", label=_l("Envois des webhooks"), category="Integrations")
    appbuilder.add_view(DevMailboxView, "Development Mailbox", icon="fa-envelope", label=_l("Boîte de développement"), category="Security")

    appbuilder.add_view_no_menu(AccountSecurityView)
    appbuilder.add_view_no_menu(AccountRequestView)
    appbuilder.add_view_no_menu(SatisfactionView)
    limit_account_requests(appbuilder, app)
    limit_help_centre(appbuilder, app)
