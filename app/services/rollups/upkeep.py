"""Following the session: the buckets a flush touches are counted again just before the commit."""
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from app.models import SatisfactionRating, Ticket
from app.services.rollups.common import _CHANGED, _EVERYTHING, _PENDING, _TOUCHED, utc_day
from app.services.rollups.counting import rebuild_in_sql, recount

# --- following the session ----------------------------------------------------------------------


def _touched(session):
    return session.info.setdefault(_TOUCHED, set())


def _note_buckets(session, connection, ticket_ids):
    """The buckets the tickets belong to as the database holds them now."""
    if not ticket_ids:
        return
    pending = session.info.setdefault(_PENDING, set())
    ids = sorted(ticket_ids)
    for offset in range(0, len(ids), 500):
        for organisation_id, created_on, resolved_on in connection.execute(
            select(Ticket.organisation_id, Ticket.created_on, Ticket.resolved_on).where(Ticket.id.in_(ids[offset:offset + 500]))
        ):
            pending.add((organisation_id, utc_day(created_on)))
            if resolved_on is not None:
                pending.add((organisation_id, utc_day(resolved_on)))


def _ticket_id(instance):
    if isinstance(instance, Ticket):
        return inspect(instance).identity[0] if inspect(instance).identity else None
    if isinstance(instance, SatisfactionRating):
        if inspect(instance).dict.get("ticket_id") is not None:
            return inspect(instance).dict["ticket_id"]
        if inspect(instance).dict.get("ticket") is not None:
            return inspect(instance.ticket).identity[0] if inspect(instance.ticket).identity else None
        history = inspect(instance).attrs.ticket_id.history
        return next((t for t in (*history.deleted, *history.unchanged, *history.added) if t is not None), None)
    return None


def _before_flush(session, _context, _instances):
    """Before the rows change: the buckets they leave (their old day, organisation,
    resolution); the tickets touched are counted again where they land at the commit."""
    old = {_ticket_id(i) for i in list(session.dirty) + list(session.deleted)} - {None}
    if old:
        _note_buckets(session, session.connection(), old)
        _touched(session).update(old)


def _after_flush(session, _context):
    for instance in session.new:
        ticket_id = _ticket_id(instance)
        if ticket_id is not None:
            _touched(session).add(ticket_id)


def _after_bulk(orm_state):
    if (orm_state.is_update or orm_state.is_delete) and orm_state.bind_mapper is not None and orm_state.bind_mapper.class_ is Ticket:
        orm_state.session.info[_EVERYTHING] = True


def deadline_passed(session, ticket_id):
    """A deadline of a running ticket has just passed (the SLA watch says so): its bucket is
    counted again at the commit, so that the reports find it late without reading it."""
    _touched(session).add(ticket_id)


def _before_commit(session):
    if session.dirty or session.new or session.deleted:
        session.flush()
    everything = session.info.pop(_EVERYTHING, False)
    touched = session.info.pop(_TOUCHED, set())
    if not (everything or touched or session.info.get(_PENDING)):
        return
    from app.services import clock

    connection = session.connection()
    session.info[_CHANGED] = True
    if everything:
        session.info.pop(_PENDING, None)
        rebuild_in_sql(connection)
        return
    _note_buckets(session, connection, touched)
    recount(connection, session.info.pop(_PENDING, set()), clock.now())


def _after_commit(session):
    if session.info.pop(_CHANGED, False):
        from app.services import figure_cache

        figure_cache.changed()  # the dashboards' cached figures are old now


def _forget(session, transaction):
    if transaction.parent is None:
        for name in (_PENDING, _EVERYTHING, _TOUCHED, _CHANGED):
            session.info.pop(name, None)


_installed = False


def install():
    """Follow every session (once per process)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _after_bulk)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_transaction_end", _forget)
    _installed = True
