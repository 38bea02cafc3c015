"""REST resources for people and knowledge-base articles, read-only, scoped like the screens."""
from flask_appbuilder.models.sqla.interface import SQLAInterface

from app.api.common import ScopedApi
from app.models import KbArticle, NovaUser
from app.web.scoping import scoped


class UserApi(ScopedApi):
    """People the caller may see (staff: everyone; others: their organisations' people)."""

    resource_name = "user"
    class_permission_name = "UserApi"
    datamodel = SQLAInterface(NovaUser)
    base_filters = scoped("users")
    list_columns = ["id", "first_name", "last_name", "email", "phone", "active", "locale", "organisation.id", "organisation.name"]
    show_columns = list_columns
    search_columns = ["email", "first_name", "last_name", "active", "organisation"]
    order_columns = ["id", "last_name", "first_name", "email"]
    base_order = ("id", "asc")


class KbArticleApi(ScopedApi):
    """Articles as on the help centre (published, of the caller's audience); staff also drafts."""

    resource_name = "kb_article"
    class_permission_name = "KbArticleApi"
    datamodel = SQLAInterface(KbArticle)
    base_filters = scoped("articles")
    list_columns = ["id", "title", "slug", "summary", "kind", "status", "visibility", "language", "tags", "category.id", "category.name", "product.id", "product.code", "product_version", "wiki_organisation.id", "published_on", "updated_on"]
    show_columns = list_columns + ["body", "translation_of.id", "version"]
    search_columns = ["title", "kind", "status", "language", "category", "product", "tags", "published_on"]
    order_columns = ["id", "title", "published_on", "updated_on"]
    base_order = ("id", "asc")
