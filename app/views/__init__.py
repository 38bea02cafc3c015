"""Every screen and API resource, registered on the AppBuilder with its menu entry."""
from flask import current_app


def register_views(appbuilder):
    from app.api.directory import OrganisationApi, ProductApi
    from app.views.account_request import AccountRequestView, limit_account_requests
    from app.views.account_security import AccountSecurityView
    from app.views.admin import AccountRequestModelView, ActivityLogView, ApiKeyView, DevMailboxView, RolePolicyView
    from app.views.directory import DirectoryView, OrganisationView, ProductView
    from app.views.health import health

    app = current_app._get_current_object()
    app.register_blueprint(health)

    appbuilder.add_view(OrganisationView, "Organisations", icon="fa-building", label="Organisations", category="Annuaire", category_label="Annuaire", category_icon="fa-address-book")
    appbuilder.add_view(DirectoryView, "Directory", icon="fa-address-card", label="Personnes", category="Annuaire")
    appbuilder.add_view(ProductView, "Products", icon="fa-box", label="Produits", category="Annuaire")

    appbuilder.add_view(AccountRequestModelView, "AccountRequests", icon="fa-user-plus", label="Demandes de compte", category="Security")
    appbuilder.add_view(RolePolicyView, "RolePolicies", icon="fa-shield-halved", label="Double authentification par rôle", category="Security")
    appbuilder.add_view(ApiKeyView, "ApiKeys", icon="fa-key", label="Clés d'API", category="Security")
    appbuilder.add_view(ActivityLogView, "ActivityLog", icon="fa-clock-rotate-left", label="Journal d'activité", category="Security")
    appbuilder.add_view(DevMailboxView, "DevMailbox", icon="fa-envelope", label="Boîte de développement", category="Security")

    appbuilder.add_view_no_menu(AccountSecurityView)
    appbuilder.add_view_no_menu(AccountRequestView)
    appbuilder.add_api(OrganisationApi)
    appbuilder.add_api(ProductApi)
    limit_account_requests(appbuilder, app)
