"""Who may see what: the visibility rules of SPEC.md's role table, as SQLAlchemy filters.

Every list, detail, action, download, export, search, API call and socket event asks here.
A function per kind of object returns a filter expression for `query.filter(...)`;
`access_*` helpers load one object and raise `NotVisible` whether it is missing or forbidden,
so that ids cannot be probed.
"""
from sqlalchemy import false, or_, select, true

from app.models import Attachment, NovaUser, Organisation, Product, Ticket, TicketEvent, TicketMessage
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
        # Their clients, and the mail of unknown senders that they help attach to a client.
        return select(Organisation.id).where(or_(Organisation.account_manager_id == user.id, Organisation.holds_unidentified.is_(True)))
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


def client_organisations(session, user, active_only=False):
    """The client and reseller organisations the user may see (a ticket's possible clients)."""
    query = session.query(Organisation).filter(organisations_filter(user), Organisation.kind != "vendor", Organisation.holds_unidentified.is_(False))
    if active_only:
        query = query.filter(Organisation.active.is_(True))
    return query.order_by(Organisation.name).all()


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


def tickets_filter(user, organisation_column=None):
    """Tickets of the organisations the user may see (staff: all; commercial: their clients;
    client: their organisation; reseller: theirs and their customers')."""
    ids = visible_organisation_ids(user)
    if audience_of(user) == Audience.NOBODY:
        return false()
    column = Ticket.organisation_id if organisation_column is None else organisation_column
    return true() if ids is None else column.in_(ids)


def tickets_filter_walking_dates(user):
    """The same filter for counts over a short date range: SQLite is told not to lead with
    the organisation index, so it walks the date index, which holds the organisation too."""
    from app.models.types import no_index

    return tickets_filter(user, no_index(Ticket.organisation_id))


def sees_internal_notes(user):
    """Internal notes and staff-only history: the vendor's people, never partners (T7)."""
    return audience_of(user) in (Audience.STAFF, Audience.COMMERCIAL)


def sees_team_figures(user):
    """Who handles what in the support (queues, levels, agents' figures): the vendor's people."""
    return audience_of(user) in (Audience.STAFF, Audience.COMMERCIAL)


def messages_filter(user):
    return true() if sees_internal_notes(user) else TicketMessage.internal.is_(False)


def events_filter(user):
    return true() if sees_internal_notes(user) else TicketEvent.internal.is_(False)


FILTERS = {
    "organisations": organisations_filter,
    "users": users_filter,
    "products": products_filter,
    "tickets": tickets_filter,
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


def access_ticket(session, user, ticket_id):
    ticket = session.query(Ticket).filter(Ticket.id == ticket_id, tickets_filter(user)).one_or_none()
    if ticket is None:
        raise NotVisible()
    return ticket


def access_source_mail(session, user, message_id):
    """The original e-mail behind a ticket message: the vendor's people only (it may quote
    anything), and only with the ticket."""
    from app.models import InboundMail

    if not sees_internal_notes(user):
        raise NotVisible()
    mail = (
        session.query(InboundMail)
        .join(TicketMessage, TicketMessage.source_mail_id == InboundMail.id)
        .join(Ticket, TicketMessage.ticket_id == Ticket.id)
        .filter(TicketMessage.id == message_id, tickets_filter(user))
        .one_or_none()
    )
    if mail is None:
        raise NotVisible()
    return mail


def access_attachment(session, user, attachment_id):
    """An attachment is visible with its ticket and its message (a note's files stay internal)."""
    attachment = (
        session.query(Attachment)
        .join(TicketMessage, Attachment.message_id == TicketMessage.id)
        .join(Ticket, Attachment.ticket_id == Ticket.id)
        .filter(Attachment.id == attachment_id, tickets_filter(user), messages_filter(user))
        .one_or_none()
    )
    if attachment is None:
        raise NotVisible()
    return attachment
