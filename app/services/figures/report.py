"""The agents' figures, the ratings, one's own work, the monthly report and the chat's figures."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import NovaUser, SatisfactionRating, StatusCategory, Ticket, TicketDayFigures
from app.models.tickets import ticket_assignee
from app.security import scopes
from app.services import figure_cache, rollups
from app.services.figures.common import SATISFIED_FROM, Figures, _in, _tickets, latest_first
from app.services.figures.summary import _breakdown, _summed, _sums, breakdown, dimensions_for


@figure_cache.per_scope
def agents(user, period):
    """Team performance: per support member, open tickets in hand now, and the period's
    figures of the tickets assigned to them (scoped: a commercial sees work on their clients)."""
    if not scopes.sees_team_figures(user):
        return []
    rows = breakdown(user, period, "agent")
    active = in_hand(user)
    out = []
    seen = set()
    for figures in rows:
        if figures.key is None:
            continue  # not assigned: shown as such in reports, not as a person
        seen.add(figures.key)
        out.append({**figures.as_dict(), "active": active.get(figures.key, 0)})
    if active:
        missing = [uid for uid in active if uid not in seen]
        for person in db.session.query(NovaUser).filter(NovaUser.id.in_(missing)):
            out.append({**Figures(key=person.id, label=person.full_name).as_dict(), "active": active[person.id]})
    out.sort(key=lambda row: (-row["active"], -row["tickets"], row["label"]))
    return out


def in_hand(user):
    """{support member: their running tickets} among those `user` may see: each one's tickets
    minus those resolved, summed from the per-day figures' month rows ("agent"), instead of
    joining every running ticket with its assignees. (A running ticket has no resolution, a
    resolved or closed one always has one: tests/test_rollups.py compares with the tickets.)"""
    c = TicketDayFigures.__table__.c
    rows = db.session.execute(
        select(c.item_id, func.sum(c.tickets) - func.sum(c.resolved))
        .where(scopes.tickets_filter(user, c.organisation_id), c.span == rollups.MONTH, c.dimension == "agent", c.item_id.isnot(None))
        .group_by(c.item_id)
    )
    return {user_id: int(n) for user_id, n in rows if n}


def in_hand_direct(user):
    """`in_hand` read from the tickets themselves."""
    return dict(
        _tickets(user)
        .join(ticket_assignee, ticket_assignee.c.ticket_id == Ticket.id)
        .filter(Ticket.status_category.in_(StatusCategory.ACTIVE))
        .with_entities(ticket_assignee.c.user_id, func.count(Ticket.id))
        .group_by(ticket_assignee.c.user_id)
        .all()
    )


def recent_ratings(user, limit=10):
    return (
        db.session.query(SatisfactionRating, Ticket.number, Ticket.title)
        .join(Ticket, Ticket.id == SatisfactionRating.ticket_id)
        .filter(latest_first(user))
        .order_by(SatisfactionRating.rated_on.desc())
        .limit(limit)
        .all()
    )


def my_work(user, period, team=None):
    """An agent's own figures beside the team's (their row of `agents`, or zeros)."""
    if not scopes.is_staff(user):
        return None
    for row in team if team is not None else agents(user, period):
        if row["key"] == user.id:
            return row
    return {**Figures(key=user.id, label=user.full_name).as_dict(), "active": 0}


# --- a whole report in a few passes (P1) ------------------------------------------------------


@figure_cache.per_scope
def report(user, period):
    """The period's summary and every breakdown of `dimensions_for(user)`, each with the
    previous period's ticket counts, summed from the per-day figures (see `_sums`)."""
    dimensions = dimensions_for(user)
    sums = _sums(user, {1: period, 0: period.previous()}, dimensions)
    out = {"summary": _summed(sums, 1, "all", None), "previous": _summed(sums, 0, "all", None), "breakdowns": {}}
    for dimension in dimensions:
        before = {k: values[0] for (label, d, k), values in sums.items() if label == 0 and d == dimension and values[0]}
        out["breakdowns"][dimension] = (_breakdown(sums, 1, dimension), before)
    return out


# --- live chat (C2, P4) ---------------------------------------------------------------------


@figure_cache.per_scope
def chat_summary(user, period):
    """Conversations started in the period, through the reader's scopes: how many, answered
    live, taken as a message when nobody could answer, the mean wait before an agent joined,
    and the visitors' ratings (feeding satisfaction beside the tickets')."""
    from app.models import ChatConversation, ConversationStatus

    query = db.session.query(ChatConversation).filter(scopes.conversations_filter(user), _in(ChatConversation.started_on, period))
    rows = query.with_entities(ChatConversation.status, ChatConversation.started_on, ChatConversation.accepted_on, ChatConversation.rating).all()
    waits = [(accepted - started).total_seconds() for _status, started, accepted, _rating in rows if accepted is not None]
    ratings = [rating for *_rest, rating in rows if rating is not None]
    return {
        "conversations": len(rows),
        "answered": len(waits),
        "offline": sum(1 for status, *_rest in rows if status == ConversationStatus.OFFLINE),
        "mean_wait_seconds": round(sum(waits) / len(waits)) if waits else None,
        "ratings": len(ratings),
        "mean_score": round(sum(ratings) / len(ratings), 2) if ratings else None,
        "satisfaction_rate": round(100 * sum(1 for r in ratings if r >= SATISFIED_FROM) / len(ratings), 1) if ratings else None,
    }
