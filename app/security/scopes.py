"""Who may see what: the visibility rules of SPEC.md's role table, as SQLAlchemy filters.

Every list, detail, action, download, export, search, API call and socket event asks here.
A function per kind of object returns a filter expression for `query.filter(...)`;
`access_*` helpers load one object and raise `NotVisible` whether it is missing or forbidden,
so that ids cannot be probed.
"""
from flask import g, has_request_context
from sqlalchemy import and_, exists, false, or_, select, true

from app.extensions import db
from app.models import (
    ArticleStatus,
    Attachment,
    ChatConversation,
    ConversationStatus,
    InboundMail,
    KbArticle,
    KbCategory,
    KbFile,
    NovaUser,
    Organisation,
    Product,
    Ticket,
    TicketEvent,
    TicketMessage,
    Visibility,
)
from app.models.kb import kb_article_organisation, kb_category_organisation
from app.models.types import no_index
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


def leads_support(user):
    """Admins and supervisors: the support's leads (assign at creation, publish articles,
    follow every chat). The one definition of "admin or supervisor"."""
    if audience_of(user) != Audience.STAFF:
        return False
    return bool({role.name for role in user.roles} & {roles.ADMIN, roles.SUPERVISOR})


# --- who holds a role: people to pick from (assignees, recipients) ---------------------------

def _active_with_role(session, role_names):
    from flask_appbuilder.security.sqla.models import Role

    return (
        session.query(NovaUser)
        .filter(NovaUser.active.is_(True), NovaUser.roles.any(Role.name.in_(role_names)))
        .order_by(NovaUser.first_name, NovaUser.last_name, NovaUser.id)
    )


def staff_members(session):
    """The active support people (admins, supervisors, agents): who may be assigned a ticket
    and who answers chats."""
    return _active_with_role(session, [roles.ADMIN, roles.SUPERVISOR, roles.AGENT]).all()


def supervisors(session):
    return _active_with_role(session, [roles.SUPERVISOR]).all()


def commercials_query(session):
    return _active_with_role(session, [roles.COMMERCIAL])


def visible_organisation_ids(user):
    """A SELECT of the ids of the organisations whose data the user may see (None = all)."""
    audience = audience_of(user)
    if audience == Audience.STAFF:
        return None
    if audience == Audience.COMMERCIAL:
        # Their clients, and the mail of unknown senders that they help attach to a client.
        return select(Organisation.id).where(or_(Organisation.account_manager_id == user.id, Organisation.holds_unidentified.is_(True)))
    # Partners never see the holder of unknown senders' mail, even if someone attached them to it.
    if audience == Audience.RESELLER and user.organisation_id:
        return select(Organisation.id).where(
            or_(Organisation.id == user.organisation_id, Organisation.reseller_id == user.organisation_id),
            Organisation.holds_unidentified.is_(False),
        )
    if audience == Audience.CLIENT and user.organisation_id:
        return select(Organisation.id).where(Organisation.id == user.organisation_id, Organisation.holds_unidentified.is_(False))
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


def ticket_filter_organisations(session, user):
    """The organisations offered in the ticket list's filter: those of the tickets the user may
    see, with the holder of unknown senders' mail (staff and commercials work through it)."""
    query = session.query(Organisation).filter(organisations_filter(user), Organisation.kind != "vendor")
    return query.order_by(Organisation.holds_unidentified, Organisation.name).all()


def partner_organisations_filter():
    """Real partner organisations: those an article or theme may be shown to, that may hold a
    wiki or take a new account — never the vendor nor the holder of unknown senders' mail
    (nobody works or reads through it)."""
    return and_(Organisation.kind != "vendor", Organisation.holds_unidentified.is_(False))


def partner_organisations(session):
    return session.query(Organisation).filter(partner_organisations_filter()).order_by(Organisation.name).all()


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


def help_centre_products_filter():
    """Products named in the help centre's filters: the active ones, for every visitor (their
    names are on public articles anyway)."""
    return Product.active.is_(true())


def figures_scope_key(user):
    """Who sees which figures, as a string: two users with the same key may see the same
    dashboard figures (same audience, same organisations), so shared caches are keyed by it."""
    audience = audience_of(user)
    if audience == Audience.NOBODY:
        return "nobody"
    ids = visible_organisation_ids(user)
    if ids is None:
        return f"{audience}:all"
    from app.extensions import db

    return f"{audience}:" + ",".join(str(i) for i in sorted(db.session.execute(ids).scalars()))


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


def visible_ticket_ids(user):
    """A SELECT of the ids of the tickets the user may see."""
    return select(Ticket.id).where(tickets_filter(user))


def ticket_messages_filter(user):
    """Messages of visible tickets; internal notes only for the vendor's people (T7)."""
    return and_(TicketMessage.ticket_id.in_(visible_ticket_ids(user)), messages_filter(user))


def attachments_filter(user):
    """Files of visible tickets, on messages the user may read (a note's files stay internal)."""
    readable_messages = select(TicketMessage.id).where(messages_filter(user))
    return and_(Attachment.ticket_id.in_(visible_ticket_ids(user)), Attachment.message_id.in_(readable_messages))


def api_articles_filter(user):
    """Articles through the API: as on the help centre; staff also read drafts, as in /kb/."""
    return articles_filter(user, published_only=False)


FILTERS = {
    "organisations": organisations_filter,
    "users": users_filter,
    "products": products_filter,
    "tickets": tickets_filter,
    "ticket_messages": ticket_messages_filter,
    "attachments": attachments_filter,
    "articles": api_articles_filter,
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


def access_ticket(session, user, ticket_id):
    ticket = session.query(Ticket).filter(Ticket.id == ticket_id, tickets_filter(user)).one_or_none()
    if ticket is None:
        raise NotVisible()
    return ticket


def access_source_mail(session, user, message_id):
    """The original e-mail behind a ticket message: the vendor's people only (it may quote
    anything), and only with the ticket."""
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


# --- the knowledge base (K2, K5) ---------------------------------------------------------


def sees_internal_articles(user):
    """Internal articles are for the vendor's people: staff and commercials."""
    return audience_of(user) in (Audience.STAFF, Audience.COMMERCIAL)


def writes_articles(user):
    """Staff write and edit articles and wiki pages; only supervisors and admins publish."""
    return is_staff(user)


def publishes_articles(user):
    return leads_support(user)


def _allowed(user, visibility_column, linked_to_organisations):
    """The visibility rule shared by articles and categories, as a filter."""
    audience = audience_of(user)
    if audience == Audience.STAFF:
        return true()
    allowed = [visibility_column == Visibility.PUBLIC]
    if audience != Audience.NOBODY:
        allowed.append(visibility_column == Visibility.PARTNERS)
        allowed.append(and_(visibility_column == Visibility.ORGANISATIONS, linked_to_organisations(visible_organisation_ids(user))))
    if sees_internal_articles(user):
        allowed.append(visibility_column == Visibility.INTERNAL)
    return or_(*allowed)


def categories_filter(user):
    """Categories whose own rule lets the user in (the parents' rules: visible_category_ids)."""
    return _allowed(
        user,
        KbCategory.visibility,
        lambda ids: exists().where(kb_category_organisation.c.category_id == KbCategory.id, kb_category_organisation.c.organisation_id.in_(ids)),
    )


def visible_category_ids(session, user):
    """Ids of the categories the user may open: its own rule and every parent's (None = all).
    Categories are few; the answer is kept for the request."""
    if is_staff(user):
        return None
    cache_key = ("kb_categories", getattr(user, "id", None))
    cache = g.setdefault("_scopes_cache", {}) if has_request_context() else {}
    if cache_key in cache:
        return cache[cache_key]
    own = {cid for (cid,) in session.query(KbCategory.id).filter(categories_filter(user))}
    parents = dict(session.query(KbCategory.id, KbCategory.parent_id).all())

    def open_all_the_way(cid, depth=0):
        while cid is not None and depth < 50:
            if cid not in own:
                return False
            cid, depth = parents.get(cid), depth + 1
        return True

    visible = [cid for cid in parents if open_all_the_way(cid)]
    cache[cache_key] = visible
    return visible


def articles_filter(user, published_only=True):
    """Articles the user may read. Partners and visitors read published articles only, of
    their audience, in categories they may open; a client wiki page (K2) is read by that
    client's people, its reseller, its commercial and staff."""
    audience = audience_of(user)
    conditions = [KbArticle.status == ArticleStatus.PUBLISHED] if published_only or audience != Audience.STAFF else []
    if audience != Audience.STAFF:
        general = and_(
            KbArticle.wiki_organisation_id.is_(None),
            _allowed(
                user,
                KbArticle.visibility,
                lambda ids: exists().where(kb_article_organisation.c.article_id == KbArticle.id, kb_article_organisation.c.organisation_id.in_(ids)),
            ),
        )
        if audience == Audience.NOBODY:
            conditions.append(general)
        else:
            conditions.append(or_(general, KbArticle.wiki_organisation_id.in_(visible_organisation_ids(user))))
        category_ids = visible_category_ids(db.session, user)
        conditions.append(or_(KbArticle.category_id.is_(None), KbArticle.category_id.in_(category_ids)))
    return and_(*conditions) if conditions else true()


def wiki_organisations(session, user):
    """The client organisations whose wiki the user may read (K2)."""
    if audience_of(user) == Audience.NOBODY:
        return []
    return client_organisations(session, user)


def access_article(session, user, article_id, published_only=False):
    """One article: staff read every state (to review a draft), others what articles_filter allows."""
    article = session.query(KbArticle).filter(KbArticle.id == article_id, articles_filter(user, published_only=published_only)).one_or_none()
    if article is None:
        raise NotVisible()
    return article


def access_category(session, user, category_id):
    ids = visible_category_ids(session, user)
    query = session.query(KbCategory).filter(KbCategory.id == category_id)
    if ids is not None:
        query = query.filter(KbCategory.id.in_(ids))
    category = query.one_or_none()
    if category is None:
        raise NotVisible()
    return category


def access_kb_file(session, user, file_id):
    """An article's image or file: readable exactly when the article is."""
    item = (
        session.query(KbFile)
        .join(KbArticle, KbFile.article_id == KbArticle.id)
        .filter(KbFile.id == file_id, articles_filter(user, published_only=False))
        .one_or_none()
    )
    if item is None:
        raise NotVisible()
    return item


# --- live chat (C2) -------------------------------------------------------------------


def answers_chats(user):
    """Who takes conversations in the console: the support (admins, supervisors, agents)."""
    return audience_of(user) == Audience.STAFF


def watches_every_chat(user):
    """Who follows any live conversation, not only the waiting ones and their own:
    admins and supervisors."""
    return leads_support(user)


def conversations_filter(user):
    """Conversations the user may read: the support all of them (an agent's console shows
    the waiting ones and theirs, but a client's past conversations are context for any agent);
    commercials those of their clients; partners none (they use the widget)."""
    audience = audience_of(user)
    if audience == Audience.STAFF:
        return true()
    if audience == Audience.COMMERCIAL:
        return ChatConversation.organisation_id.in_(visible_organisation_ids(user))
    return false()


def live_conversations_filter(user):
    """What the console lists live: waiting ones and one's own for agents; every open one
    for supervisors; their clients' open ones for commercials."""
    is_open = ChatConversation.status.in_(ConversationStatus.OPEN)
    if watches_every_chat(user):
        return is_open
    if answers_chats(user):
        return and_(is_open, or_(ChatConversation.status == ConversationStatus.WAITING, ChatConversation.agent_id == user.id))
    return and_(is_open, conversations_filter(user))


def follows_conversation_live(user, conversation):
    """Who may sit in an open conversation's room (hear its messages as they come), among
    those who may read it: its agent, supervisors, any agent while it waits (to read before
    accepting), a commercial of that client."""
    if conversation.status not in ConversationStatus.OPEN:
        return False
    if conversation.agent_id == user.id or watches_every_chat(user):
        return True
    if answers_chats(user):
        return conversation.status == ConversationStatus.WAITING
    return audience_of(user) == Audience.COMMERCIAL


def access_conversation(session, user, conversation_id):
    conversation = session.query(ChatConversation).filter(ChatConversation.id == conversation_id, conversations_filter(user)).one_or_none()
    if conversation is None:
        raise NotVisible()
    return conversation


WIDGET_NAMESPACE = "/widget"
CONSOLE_NAMESPACE = "/console"


def conversation_console_rooms(user):
    """The Socket.IO rooms a console joins to hear of conversations it may list."""
    if answers_chats(user):
        return ["console:staff"]
    if audience_of(user) == Audience.COMMERCIAL:
        ids = db.session.execute(visible_organisation_ids(user)).scalars().all()
        return [f"console:org:{oid}" for oid in ids]
    return []


def conversation_room(conversation_id):
    """A conversation's room: its widget(s), its agent and those allowed to follow it live
    (`follows_conversation_live`); the same name on both namespaces."""
    return f"conv:{conversation_id}"


def conversation_event_rooms(organisation_id):
    """Where a conversation's change (new, taken, transferred, closed) is told: every support
    console, and the consoles of the commercials of its organisation (the rooms
    `conversation_console_rooms` gives them)."""
    return [(CONSOLE_NAMESPACE, "console:staff"), (CONSOLE_NAMESPACE, f"console:org:{organisation_id}")]


def conversation_message_rooms(conversation_id):
    """Where a conversation's message is told: its room, on the widget's side and the consoles'."""
    room = conversation_room(conversation_id)
    return [(WIDGET_NAMESPACE, room), (CONSOLE_NAMESPACE, room)]


def conversation_side_rooms(conversation_id, to_visitor):
    """One side of a conversation (typing, read receipts): the visitor's widget, or the
    consoles in its room."""
    return [(WIDGET_NAMESPACE if to_visitor else CONSOLE_NAMESPACE, conversation_room(conversation_id))]


def answers_conversation_now(session, user_id, conversation_id):
    """Is this person the agent of this active conversation (who may type into it, whose
    reads count as the support's)? Watchers in its room are not."""
    agent_id = session.execute(
        select(ChatConversation.agent_id).where(ChatConversation.id == conversation_id, ChatConversation.status == ConversationStatus.ACTIVE)
    ).scalar_one_or_none()
    return agent_id is not None and agent_id == user_id


# --- the agents' desk, live (T5–T9) -----------------------------------------------------------

DESK_NAMESPACE = "/desk"


def desk_rooms(user):
    """The Socket.IO rooms a desk (the ticket workspace) joins to hear of ticket changes:
    the support hears of every ticket, a commercial of their clients' tickets; partners do
    not use the desk (they follow their tickets in the help centre) and join nothing."""
    audience = audience_of(user)
    if audience == Audience.STAFF:
        return ["desk:staff"]
    if audience == Audience.COMMERCIAL:
        ids = db.session.execute(visible_organisation_ids(user)).scalars().all()
        return [f"desk:org:{oid}" for oid in ids]
    return []


def ticket_event_rooms(organisation_id):
    """Where a ticket's change is told: every support desk, and the desks of the commercials
    of its organisation (the rooms `desk_rooms` gives them)."""
    rooms = [(DESK_NAMESPACE, "desk:staff")]
    if organisation_id is not None:
        rooms.append((DESK_NAMESPACE, f"desk:org:{organisation_id}"))
    return rooms


def desk_ticket_room(ticket_id):
    """Those who have this ticket open (presence: « … consulte aussi ce ticket »); joined only
    after `access_ticket` allowed it."""
    return f"desk:ticket:{ticket_id}"


FILTERS["conversations"] = conversations_filter
