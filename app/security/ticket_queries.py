"""The ticket list's query (T9): filters kept in the URL, scoped by scopes.py, counts per
status category, newest activity first. Built to stay fast on 100,000 tickets. It sits next
to scopes.py because every read of the desk goes through the same visibility rules."""
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import and_, exists, false, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from app import clock
from app.extensions import db
from app.models import NovaUser, Organisation, Priority, StatusCategory, Ticket
from app.models.tickets import TicketStatus, ticket_assignee
from app.models.types import no_index
from app.security import scopes
from app.security.bounds import MAX_PAGE, to_day, to_id

PAGE_SIZE = 50
SORTS = {
    "activity": Ticket.last_activity_on,
    "created": Ticket.created_on,
    "number": Ticket.id,
    "title": Ticket.title,
    "organisation": Organisation.name,
    "status": TicketStatus.position,
    "due": Ticket.resolution_due,
    "priority": Priority.position,  # most urgent first, then the oldest (triage order)
}
VIEWS = ("active", "todo", "all", "new", "open", "pending", "resolved", "closed")
# "todo": what still needs the support's hand (new and in progress, not waiting for the client)
VIEW_CATEGORIES = {"active": StatusCategory.ACTIVE, "todo": (StatusCategory.NEW, StatusCategory.OPEN)}

# The workspace's saved views (boxes): each fixes some filters and a default order. A queue's
# box is "queue-<id>".
BOXES = {
    "todo": {"view": "todo", "sort": "activity"},
    "mine": {"view": "active", "assignee": "me", "sort": "activity"},
    "unassigned": {"view": "todo", "assignee": "none", "sort": "priority"},
    "late": {"view": "active", "overdue": True, "sort": "due"},
    "waiting": {"view": "pending", "sort": "activity"},
}
QUEUE_BOX = {"view": "todo", "sort": "activity"}
DEFAULT_DIRECTION = {"priority": "asc", "due": "asc"}
# Made once: aliasing the people's table builds its whole column collection (a third of a
# queue request when it was made per request).
REQUESTER, LAST_ACTIVITY_BY = aliased(NovaUser, name="requester"), aliased(NovaUser, name="last_activity_by")


def box_settings(box):
    """The filters a box fixes, or None for an unknown box."""
    if box in BOXES:
        return dict(BOXES[box])
    if box.startswith("queue-") and to_id(box[6:]):
        return {**QUEUE_BOX, "queue": to_id(box[6:])}
    return None


def _categories(view):
    return VIEW_CATEGORIES.get(view, (view,))


@dataclass
class TicketFilters:
    view: str = "active"
    priority: int | None = None
    type: int | None = None
    organisation: int | None = None
    assignee: str = ""  # "me", "none" or a user id
    queue: int | None = None
    overdue: bool = False
    created_since: str = ""  # YYYY-MM-DD, in the person's time zone (links from the dashboards)
    resolved_since: str = ""
    q: str = ""
    sort: str = "activity"
    direction: str = "desc"
    page: int = 1
    box: str = ""
    errors: list = field(default_factory=list)

    @classmethod
    def from_args(cls, args):
        def number(name):
            return to_id(args.get(name))

        view = args.get("view", "active")
        box = (args.get("box") or "").strip()[:30]
        fixed = box_settings(box) if box else None
        sort = args.get("sort") or (fixed or {}).get("sort", "activity")
        sort = sort if sort in SORTS else "activity"
        direction = args.get("dir") or DEFAULT_DIRECTION.get(sort, "desc")
        filters = cls(
            view=view if view in VIEWS else "active",
            priority=number("priority"),
            type=number("type"),
            organisation=number("organisation"),
            assignee=args.get("assignee", "").strip()[:20],
            queue=number("queue"),
            overdue=args.get("overdue") == "1",
            created_since=_iso_day(args.get("created_since", "")),
            resolved_since=_iso_day(args.get("resolved_since", "")),
            q=args.get("q", "").strip()[:100],
            sort=sort,
            direction="asc" if direction == "asc" else "desc",
            page=max(1, to_id(args.get("page"), MAX_PAGE) or 1),
        )
        if fixed is not None:
            filters.box = box
            filters.view = fixed["view"]
            filters.assignee = fixed.get("assignee", "")
            filters.overdue = fixed.get("overdue", False)
            filters.queue = fixed.get("queue")
        return filters

    def as_args(self, **changes):
        """The URL arguments of these filters (for links that keep the view bookmarkable)."""
        values = {
            "view": self.view, "priority": self.priority, "type": self.type, "organisation": self.organisation,
            "assignee": self.assignee, "queue": self.queue, "overdue": "1" if self.overdue else None, "q": self.q,
            "created_since": self.created_since, "resolved_since": self.resolved_since,
            "sort": self.sort, "dir": self.direction, "page": self.page,
        }
        if self.box and "box" not in changes:  # the box stands for the filters it fixes, and its order
            values.update({"box": self.box, "view": None, "assignee": None, "overdue": None, "queue": None})
            default_sort = box_settings(self.box)["sort"]
            if values["sort"] == default_sort and values["dir"] == DEFAULT_DIRECTION.get(default_sort, "desc"):
                values.update({"sort": None, "dir": None})
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "", False) and not (k == "page" and v == 1)}


def _filtered(user, filters, with_category=True, for_page=False):
    """The view's tickets. For a page sorted by activity, the broad filters (category,
    priority, type, queue) are kept off SQLite's indexes so that it walks the activity
    index and stops after one page instead of sorting thousands of rows. Without table
    statistics SQLite cannot tell a broad filter from a narrow one; this tells it."""
    # An organisation (chosen, or the partner's own) is the most selective filter: let
    # SQLite lead with its index for the counts too.
    by_organisation = bool(filters.organisation) or not scopes.is_staff(user)
    broad = for_page and filters.sort == "activity" or by_organisation
    walk = (lambda column: no_index(column)) if broad else (lambda column: column)
    query = db.session.query(Ticket).filter(scopes.tickets_filter(user), Ticket.merged_into_id.is_(None))
    if with_category and filters.view != "all":
        query = query.filter(walk(Ticket.status_category).in_(_categories(filters.view)))
    if filters.priority:
        query = query.filter(walk(Ticket.priority_id) == filters.priority)
    if filters.type:
        query = query.filter(walk(Ticket.type_id) == filters.type)
    if filters.organisation:
        query = query.filter(Ticket.organisation_id == filters.organisation)
    if scopes.audience_of(user) not in (scopes.Audience.STAFF, scopes.Audience.COMMERCIAL):
        return _search(query, filters)  # queues and assignees are staff matters: no probing
    if filters.queue:
        query = query.filter(walk(Ticket.queue_id) == filters.queue)
    if filters.assignee == "none":  # the copy kept on the ticket: the link table would be probed per ticket
        query = query.filter(Ticket.assigned == false())
    elif filters.assignee == "me" or to_id(filters.assignee):
        who = user.id if filters.assignee == "me" else to_id(filters.assignee)
        # Walking the activity order, a per-row check on the (ticket, user) key stops after one
        # page; a list of the person's tickets would be built and sorted whole.
        mine = exists().where(ticket_assignee.c.ticket_id == Ticket.id, ticket_assignee.c.user_id == who)
        query = query.filter(mine if for_page and filters.sort == "activity" else Ticket.id.in_(db.session.query(ticket_assignee.c.ticket_id).filter(ticket_assignee.c.user_id == who)))
    return _search(query, filters)


def _iso_day(value):
    day = to_day(value)
    return day.isoformat() if day else ""


def _local_midnight(day):
    return datetime.combine(date.fromisoformat(day), time(0), tzinfo=clock.user_zone())


def _search(query, filters):
    if filters.created_since:
        query = query.filter(Ticket.created_on >= _local_midnight(filters.created_since))
    if filters.resolved_since:
        query = query.filter(Ticket.resolved_on >= _local_midnight(filters.resolved_since))
    if filters.overdue:
        now = clock.now()
        query = query.filter(
            Ticket.status_category.in_(StatusCategory.ACTIVE),
            Ticket.sla_paused_since.is_(None),
            or_(Ticket.resolution_due < now, and_(Ticket.first_responded_on.is_(None), Ticket.first_response_due < now)),
        )
    if filters.q:
        term = filters.q
        if term.upper().startswith(tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) and "-" in term and term.split("-")[-1].isdigit():
            query = query.filter(Ticket.number == term.upper())
        elif to_id(term) is not None:
            query = query.filter(or_(Ticket.id == to_id(term), Ticket.title.ilike(f"%{term}%")))
        else:
            query = query.filter(Ticket.title.ilike(f"%{term}%"))
    return query


def category_counts(user, filters):
    """How many tickets of each status category the view's other filters match."""
    query = _filtered(user, filters, with_category=False)
    rows = query.with_entities(Ticket.status_category, func.count(Ticket.id)).group_by(Ticket.status_category).all()
    counts = dict.fromkeys(StatusCategory.ORDER, 0)
    counts.update(dict(rows))
    return counts


@dataclass
class ListedTicket:
    """What one row of the list shows: plain values, read in one query without the ORM's
    per-object bookkeeping (the list must stay fast on 100,000 tickets)."""

    id: int
    number: str
    title: str
    created_on: object
    organisation_name: str
    requester_name: str | None
    status_name: str
    status_category: str
    priority_key: str
    priority_name: str
    last_activity_on: object
    last_activity_by_name: str | None
    sla_paused_since: object
    first_responded_on: object
    first_response_due: object
    resolution_due: object
    sender_unverified: bool = False
    queue_id: int | None = None
    assignee_names: list = field(default_factory=list)


def _full_name(first, last):
    return f"{first} {last}".strip() if first or last else None


def view_total(filters, counts):
    """How many tickets the view holds, from the counts per category (no second count)."""
    if filters.view == "all":
        return sum(counts.values())
    return sum(counts.get(category, 0) for category in _categories(filters.view))


# The triage orders walk their indexes (ix_ticket_triage, ix_ticket_category_due) one status
# category at a time: across several categories the database would sort every running ticket.
WALKED_SORTS = ("priority", "due")


def _triage_page_ids(query, filters):
    """The ids of the page, in order, for a triage order over several status categories: one
    walk per category (and per priority for the priority order), each stopping after the rows
    the page may need, merged here. 50 rows out of 30,000 running tickets without a sort of them."""
    direction = (lambda c: c.asc()) if filters.direction == "asc" else (lambda c: c.desc())
    if filters.sort == "priority":
        ranks = db.session.query(Priority.id, Priority.position).all()
        key, inner = Ticket.created_on, lambda part: part.order_by(Ticket.created_on.asc(), Ticket.id.asc())
    else:
        ranks = [(None, 0)]
        key, inner = Ticket.resolution_due, lambda part: part.order_by(direction(Ticket.resolution_due), Ticket.id.desc())
    needed = filters.page * PAGE_SIZE
    walks = []
    for category in _categories(filters.view):
        for priority_id, position in ranks:
            part = query.filter(Ticket.status_category == category)
            if priority_id is not None:
                part = part.filter(Ticket.priority_id == priority_id)
            walks.append(
                inner(part.with_entities(Ticket.id.label("id"), literal(position).label("rank"), key.label("key"))).limit(needed).subquery().select()
            )
    merged = union_all(*walks).subquery()
    if filters.sort == "priority":
        order = (merged.c.rank.asc() if filters.direction == "asc" else merged.c.rank.desc(), merged.c.key.asc(), merged.c.id.asc())
    else:
        order = (direction(merged.c.key), merged.c.id.desc())
    return [row[0] for row in db.session.execute(select(merged.c.id).order_by(*order).limit(PAGE_SIZE).offset(needed - PAGE_SIZE))]


def ticket_page(user, filters):
    """The rows of the requested page."""
    query = _filtered(user, filters, for_page=True)
    requester, last_by = REQUESTER, LAST_ACTIVITY_BY
    column = SORTS[filters.sort]
    order = column.asc() if filters.direction == "asc" else column.desc()
    # Ties: newest first for dates, oldest first when triaging by priority.
    tie = (Ticket.created_on.asc(), Ticket.id.asc()) if filters.sort == "priority" else (Ticket.id.desc(),)
    offset = (filters.page - 1) * PAGE_SIZE
    if filters.sort in WALKED_SORTS and filters.view != "all":
        query, offset = query.filter(Ticket.id.in_(_triage_page_ids(query, filters))), 0
    rows = (
        query.join(Organisation, Ticket.organisation_id == Organisation.id)
        .join(TicketStatus, Ticket.status_id == TicketStatus.id)
        .join(Priority, Ticket.priority_id == Priority.id)
        .outerjoin(requester, Ticket.requester_id == requester.id)
        .outerjoin(last_by, Ticket.last_activity_by_id == last_by.id)
        .with_entities(
            Ticket.id, Ticket.number, Ticket.title, Ticket.created_on, Organisation.name,
            requester.first_name, requester.last_name, TicketStatus.name, Ticket.status_category,
            Priority.key, Priority.name, Ticket.last_activity_on, last_by.first_name, last_by.last_name,
            Ticket.sla_paused_since, Ticket.first_responded_on, Ticket.first_response_due, Ticket.resolution_due,
            Ticket.sender_unverified, Ticket.queue_id,
        )
        .order_by(order, *tie)
        .limit(PAGE_SIZE)
        .offset(offset)
        .all()
    )
    listed = [
        ListedTicket(
            id=r[0], number=r[1], title=r[2], created_on=r[3], organisation_name=r[4], requester_name=_full_name(r[5], r[6]),
            status_name=r[7], status_category=r[8], priority_key=r[9], priority_name=r[10], last_activity_on=r[11],
            last_activity_by_name=_full_name(r[12], r[13]), sla_paused_since=r[14], first_responded_on=r[15],
            first_response_due=r[16], resolution_due=r[17], sender_unverified=r[18], queue_id=r[19],
        )
        for r in rows
    ]
    by_id = {row.id: row for row in listed}
    if by_id:
        names = (
            db.session.query(ticket_assignee.c.ticket_id, NovaUser.first_name, NovaUser.last_name)
            .join(NovaUser, NovaUser.id == ticket_assignee.c.user_id)
            .filter(ticket_assignee.c.ticket_id.in_(by_id))
            .order_by(NovaUser.first_name)
            .all()
        )
        for ticket_id, first, last in names:
            by_id[ticket_id].assignee_names.append(_full_name(first, last))
    return listed


def new_and_closed(user):
    """T9's two figures over everything the person sees: new requests and closed ones. One
    count per category, as the dashboard makes it (it reads every visible ticket whatever the
    plan; the workspace keeps the answer a few seconds per scope)."""
    counts = dict(
        db.session.query(Ticket.status_category, func.count(Ticket.id))
        .filter(scopes.tickets_filter(user), Ticket.merged_into_id.is_(None))
        .group_by(Ticket.status_category)
        .all()
    )
    return {StatusCategory.NEW: counts.get(StatusCategory.NEW, 0), StatusCategory.CLOSED: counts.get(StatusCategory.CLOSED, 0)}


def box_counts(user, boxes):
    """How many tickets each box holds (the workspace's side list), one count each."""
    counts = {}
    for box in boxes:
        filters = TicketFilters.from_args({"box": box})
        query = _filtered(user, filters)
        counts[box] = query.with_entities(func.count(Ticket.id)).scalar()
    return counts
