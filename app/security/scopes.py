"""Who may see what: the visibility rules of SPEC.md's role table, as SQLAlchemy filters.

Every list, detail, action, download, export, search, API call and socket event asks here.
A function per kind of object returns a filter expression for `query.filter(...)`;
`access_*` helpers load one object and raise `NotVisible` whether it is missing or forbidden,
so that ids cannot be probed.
"""
from sqlalchemy import false, or_, select, true

from app.models import NovaUser, Organisation, Product
from app.security import roles


class NotVisible(Exception):
    """Raised for a missing object and for a forbidden one alike."""


class Audience:
    STAFF = "staff"  # Admin, Supervisor, Agent: everything
    COMMERCIAL = "commercial"  # the organisations they manage
    RESELLER = "reseller"  # their organisation and the ones they resell to
    CLIENT = "client"  # their organisation
    NOBODY = "nobody"  # anonymous, inactive, or a role NovaDesk does not know


_AUDIENCE_BY_ROLE = [
    (roles.ADMIN, Audience.STAFF),
    (roles.SUPERVISOR, Audience.STAFF),
    (roles.AGENT, Audience.STAFF),
    (roles.COMMERCIAL, Audience.COMMERCIAL),
    (roles.RESELLER, Audience.RESELLER),
    (roles.CLIENT, Audience.CLIENT),
]


def audience_of(user):
    """The widest audience among the user's roles; roles unknown here grant no visibility."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "active", False):
        return Audience.NOBODY
    names = {role.name for role in user.roles}
    for role_name, audience in _AUDIENCE_BY_ROLE:
        if role_name in names:
            return audience
    return Audience.NOBODY


def is_staff(user):
    return audience_of(user) == Audience.STAFF


def visible_organisation_ids(user):
    """A SELECT of the ids of the organisations whose data the user may see (None = all)."""
    audience = audience_of(user)
    if audience == Audience.STAFF:
        return None
    if audience == Audience.COMMERCIAL:
        return select(Organisation.id).where(Organisation.account_manager_id == user.id)
    if audience == Audience.RESELLER and user.organisation_id:
        return select(Organisation.id).where(
            or_(Organisation.id == user.organisation_id, Organisation.reseller_id == user.organisation_id)
        )
    if audience == Audience.CLIENT and user.organisation_id:
        return select(Organisation.id).where(Organisation.id == user.organisation_id)
    return select(Organisation.id).where(false())


def organisations_filter(user):
    ids = visible_organisation_ids(user)
    return true() if ids is None else Organisation.id.in_(ids)


def users_filter(user):
    """People: staff see everyone; others see the people of the organisations they may see,
    and themselves."""
    audience = audience_of(user)
    if audience == Audience.STAFF:
        return true()
    if audience == Audience.NOBODY:
        return false()
    return or_(NovaUser.id == user.id, NovaUser.organisation_id.in_(visible_organisation_ids(user)))


def products_filter(user):
    audience = audience_of(user)
    if audience == Audience.STAFF:
        return true()
    if audience == Audience.NOBODY:
        return false()
    return Product.active.is_(true())


FILTERS = {
    "organisations": organisations_filter,
    "users": users_filter,
    "products": products_filter,
}


def access_organisation(session, user, organisation_id):
    organisation = (
        session.query(Organisation)
        .filter(Organisation.id == organisation_id, organisations_filter(user))
        .one_or_none()
    )
    if organisation is None:
        raise NotVisible()
    return organisation


def access_user(session, user, user_id):
    person = session.query(NovaUser).filter(NovaUser.id == user_id, users_filter(user)).one_or_none()
    if person is None:
        raise NotVisible()
    return person
