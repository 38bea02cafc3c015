"""The ticket desk's namespace (`/desk`): signed-in support staff and commercials hear of
ticket changes (`ticket`, ids only, published by the ticket services to the rooms of
scopes.ticket_event_rooms) and tell who has which ticket open (`viewing`, `composing`), so
that two agents on one ticket see each other (`presence`, from app/services/presence.py).

Partners and visitors are refused: they follow their tickets in the help centre and must never
hear staff events or presence. Joining a ticket's room asks scopes.access_ticket first."""
from flask import current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, Namespace, disconnect, emit, join_room, leave_room, rooms

from app.extensions import db
from app.realtime.common import action
from app.security import scopes
from app.services import ServiceError, presence, tickets

VIEW = "Tickets"


def _user():
    """The signed-in person allowed on the desk, or None."""
    user = current_user._get_current_object() if current_user and current_user.is_authenticated else None
    if user is None or not user.active:
        return None
    g.user = user  # FAB's permission check reads it
    if not current_app.appbuilder.sm.has_access("can_work", VIEW) or not tickets.can_work(user):
        return None
    return user


def _actor():
    user = _user()
    if user is None:
        raise tickets.TicketNotFound()
    return user


def _ticket_id(data, key="ticket_id"):
    value = data.get(key) if isinstance(data, dict) else None
    if value is None:
        return None
    if isinstance(value, (bool, float)):
        raise tickets.TicketNotFound()
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise tickets.TicketNotFound()
    if number <= 0 or number > 2**31:
        raise tickets.TicketNotFound()
    return number


def _follow(user):
    """Hear what the person's scope gives now: the rooms are decided again at each heartbeat
    (`viewing`, every 30 s), so a commercial who no longer looks after a client stops hearing
    of its tickets without having to reload."""
    wanted = set(scopes.desk_rooms(user))
    ticket_rooms = scopes.desk_ticket_room("")
    for room in rooms():
        if room != request.sid and room not in wanted and not room.startswith(ticket_rooms):
            leave_room(room)
    for room in wanted:
        join_room(room)


class DeskNamespace(Namespace):
    def on_connect(self, auth=None):
        user = _user()
        rooms = scopes.desk_rooms(user) if user is not None else []
        if not rooms:
            db.session.rollback()
            g.pop("user", None)
            raise ConnectionRefusedError({"message": _("Connectez-vous avec un compte du support pour suivre les tickets en direct.")})
        for room in rooms:
            join_room(room)
        emit("hello", {"id": user.id, "name": user.full_name or user.email})  # the page drops itself from presence
        db.session.rollback()
        g.pop("user", None)

    def on_disconnect(self, reason=None):
        presence.drop(request.sid)
        db.session.commit()

    @action
    def on_viewing(self, data=None):
        """`{ticket_id}`: this desk has the ticket open (null: none). Said again every 30 s to
        stay counted. Answers who else has it open."""
        user = _user()
        if user is None:  # switched off, or no longer allowed on the desk: hears nothing more
            presence.drop(request.sid)
            disconnect()
            return {"error": _("Connectez-vous avec un compte du support pour suivre les tickets en direct.")}
        _follow(user)
        ticket_id, refusal = _ticket_id(data), None
        if ticket_id is not None:
            try:
                tickets.access_ticket(user, ticket_id)  # missing or not theirs: the same refusal
            except ServiceError as refused:  # nor does one stay in the room of a ticket no longer theirs
                ticket_id, refusal = None, refused
        before = presence.view(request.sid, user, ticket_id)
        if before is not None and before != ticket_id:
            leave_room(scopes.desk_ticket_room(before))
        if refusal is not None:
            return {"error": refusal.message, "fields": refusal.errors}
        if ticket_id is None:
            return {"ok": True, "ticket_id": None, "viewers": []}
        join_room(scopes.desk_ticket_room(ticket_id))
        return {"ok": True, "ticket_id": ticket_id, "viewers": presence.viewers(ticket_id)}

    @action
    def on_composing(self, data=None):
        """`{ticket_id, on}`: starts or stops writing a reply or a note on the open ticket."""
        _actor()
        ticket_id = _ticket_id(data)
        if ticket_id is None:
            raise tickets.TicketNotFound()
        presence.compose(request.sid, ticket_id, bool(data.get("on")))
        return {"ok": True}
