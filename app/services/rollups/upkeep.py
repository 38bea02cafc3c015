"""Following the session: what each ticket a transaction changes added to the sums before it
(read at the first flush that changes it) and adds after it (read at the commit); the
difference is added to the buckets just before the commit."""
from collections import defaultdict

from sqlalchemy import event, inspect, update
from sqlalchemy.orm import Session

from app.models import SatisfactionRating, Ticket
from app.services.rollups.common import _BEFORE, _CHANGED, _EVERYTHING, _RECOUNT, add, utc_day, zero
from app.services.rollups.counting import apply_difference, contributions, rebuild_in_sql, recount

# --- following the session ----------------------------------------------------------------------


def _before(session):
    """{ticket_id: (transaction that first changed it, what it added before)}."""
    return session.info.setdefault(_BEFORE, {})


def _recounted(session):
    """Buckets counted again from scratch at the commit. A running ticket's lateness depends on
    the clock: what its bucket holds for it is the lateness seen when the bucket was last
    counted, which "what it adds now" may no longer match once a deadline passed; a difference
    would then carry the gap on. Such a ticket's bucket is counted whole instead (exact), as is
    the bucket of a ticket whose deadline the SLA watch saw pass."""
    return session.info.setdefault(_RECOUNT, set())


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
    """Before the rows change: what the tickets about to change for the first time in this
    transaction add to the sums (their rows locked until the commit)."""
    before = _before(session)
    ratings = [i for i in session.new if isinstance(i, SatisfactionRating)]
    ids = {_ticket_id(i) for i in [*session.dirty, *session.deleted, *ratings]} - {None} - set(before)
    if not ids:
        return
    from app.services import clock

    connection = session.connection()
    if connection.dialect.name == "sqlite":
        # SQLite's driver opens its transaction at the first write: write first (a no-op), so
        # that no other writer can change these tickets between the reading and the commit.
        connection.execute(update(Ticket.__table__).where(Ticket.__table__.c.id.in_(sorted(ids))).values(id=Ticket.__table__.c.id))
    found = contributions(connection, ids, clock.now(), lock=True, running_late=_recounted(session))
    owner = session.get_nested_transaction()
    for ticket_id in ids:
        before[ticket_id] = (owner, found.get(ticket_id, {}))


def _after_flush(session, _context):
    """A new ticket added nothing before."""
    before = _before(session)
    owner = session.get_nested_transaction()
    for instance in session.new:
        if isinstance(instance, Ticket):
            ticket_id = inspect(instance).dict.get("id")  # its identity is set only after this event
            if ticket_id is not None and ticket_id not in before:
                before[ticket_id] = (owner, {})


def _after_bulk(orm_state):
    if (orm_state.is_update or orm_state.is_delete) and orm_state.bind_mapper is not None and orm_state.bind_mapper.class_ is Ticket:
        orm_state.session.info[_EVERYTHING] = True


def deadline_passed(session, ticket_id):
    """A deadline of a running ticket has just passed (the SLA watch says so): its bucket is
    counted again at the commit, so that the reports find it late without reading it."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is not None and ticket.created_on is not None:
        _recounted(session).add((ticket.organisation_id, utc_day(ticket.created_on)))


def _before_commit(session):
    if session.get_nested_transaction() is not None:
        return  # a savepoint released: its tickets are counted with the whole transaction's
    if session.dirty or session.new or session.deleted:
        session.flush()
    everything = session.info.pop(_EVERYTHING, False)
    before = session.info.pop(_BEFORE, {})
    again = session.info.pop(_RECOUNT, set())
    if not (everything or before or again):
        return
    from app.services import clock

    connection = session.connection()
    session.info[_CHANGED] = True
    if everything:
        rebuild_in_sql(connection)
        return
    now = clock.now()
    after = contributions(connection, before, now)
    difference = defaultdict(zero)
    for ticket_id, (_owner, sums) in before.items():
        for key, values in after.get(ticket_id, {}).items():
            add(difference[key], values)
        for key, values in sums.items():
            add(difference[key], [-v for v in values])
    apply_difference(connection, difference)
    if again:  # after the differences: a bucket counted whole is exact whatever they added
        recount(connection, again, now)


def _after_commit(session):
    if session.info.pop(_CHANGED, False):
        from app.services import figure_cache

        figure_cache.changed()  # the dashboards' cached figures are old now


def _after_soft_rollback(session, previous):
    """A savepoint given up: the tickets first changed inside it are as they were before it,
    i.e. before this transaction; new tickets made inside it are gone."""
    if not previous.nested:
        return
    before = session.info.get(_BEFORE, {})
    for ticket_id, (owner, _sums) in list(before.items()):
        transaction = owner
        while transaction is not None:
            if transaction is previous:
                del before[ticket_id]
                break
            transaction = transaction.parent


def _forget(session, transaction):
    if transaction.parent is None:
        for name in (_BEFORE, _EVERYTHING, _CHANGED, _RECOUNT):
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
    event.listen(Session, "after_soft_rollback", _after_soft_rollback)
    event.listen(Session, "after_transaction_end", _forget)
    _installed = True
