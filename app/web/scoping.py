"""FAB glue for app/security/scopes.py: a base filter that narrows any query to what the
current user may see. FAB applies `base_filters` to list, show, edit, delete and its API;
actions re-load their rows through `visible_rows` because FAB fetches them unfiltered."""
from flask import g
from flask_appbuilder.models.filters import BaseFilter

from app.security import scopes


class VisibleToCurrentUser(BaseFilter):
    name = "Visible"
    arg_name = "visible"

    def apply(self, query, value):
        return query.filter(scopes.FILTERS[value](g.user))


class PartnerOrganisations(BaseFilter):
    """Real partner organisations (scopes.partner_organisations_filter), for relation choices."""

    name = "Partner organisations"
    arg_name = "partner_organisations"

    def apply(self, query, value):
        return query.filter(scopes.partner_organisations_filter())


def scoped(kind):
    """`base_filters` entry for a view of objects of this kind ("organisations", "users"…)."""
    return [["id", VisibleToCurrentUser, kind]]


def visible_rows(session, model, kind, items):
    ids = [item.id for item in (items if isinstance(items, list) else [items])]
    if not ids:
        return []
    return session.query(model).filter(model.id.in_(ids), scopes.FILTERS[kind](g.user)).all()
