"""REST resources for organisations and products, scoped like the screens."""
from flask_appbuilder.models.sqla.interface import SQLAInterface

from app.api.common import ScopedApi
from app.models import Organisation, Product
from app.web.scoping import scoped


class OrganisationApi(ScopedApi):
    resource_name = "organisation"
    class_permission_name = "OrganisationApi"
    datamodel = SQLAInterface(Organisation)
    base_filters = scoped("organisations")
    # FAB's `_info` lists every related row (all organisations, all users) whatever the
    # base filters: not served. Writes arrive with the integrations work, through services.
    include_route_methods = {"get", "get_list"}
    list_columns = ["id", "name", "kind", "external_id", "active", "reseller.id", "reseller.name"]
    show_columns = ["id", "name", "kind", "external_id", "email_domains", "phone", "address", "active", "reseller.id", "reseller.name", "account_manager.first_name", "account_manager.last_name", "account_manager.email"]
    search_columns = ["name", "kind", "external_id", "active"]
    order_columns = ["name", "id"]


class ProductApi(ScopedApi):
    resource_name = "product"
    class_permission_name = "ProductApi"
    datamodel = SQLAInterface(Product)
    base_filters = scoped("products")
    # FAB's `_info` lists every related row (all organisations, all users) whatever the
    # base filters: not served. Writes arrive with the integrations work, through services.
    include_route_methods = {"get", "get_list"}
    list_columns = ["id", "code", "name", "current_version", "active"]
    show_columns = ["id", "code", "name", "description", "current_version", "active"]
    order_columns = ["name", "id"]
