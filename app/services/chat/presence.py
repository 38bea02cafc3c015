"""Is someone there to answer (C4)? Consoles' presence, agents' availability and limits."""
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.models import ChatConversation, ChatPresence, ConversationStatus, NovaUser
from app.security import scopes
from app.services import clock, sla
from app.services.business_hours import is_business_time

PRESENCE_SECONDS = 90  # a console's heartbeat comes every 30 s; three missed and it is gone


def online_agents_query(now=None):
    """Agents with a live console who switched themselves available."""
    since = (now or clock.now()) - timedelta(seconds=PRESENCE_SECONDS)
    present = select(ChatPresence.user_id).where(ChatPresence.seen_on >= since)
    return db.session.query(NovaUser).filter(NovaUser.id.in_(present), NovaUser.active.is_(True), NovaUser.chat_available.is_(True))


def active_counts(user_ids):
    if not user_ids:
        return {}
    rows = (
        db.session.query(ChatConversation.agent_id, func.count())
        .filter(ChatConversation.agent_id.in_(user_ids), ChatConversation.status == ConversationStatus.ACTIVE)
        .group_by(ChatConversation.agent_id)
    )
    return dict(rows.all())


def availability():
    """Why nobody can answer now, or None when someone can: outside business hours, nobody
    online, or everyone at their limit."""
    now = clock.now()
    if current_app.config["CHAT_BUSINESS_HOURS_ONLY"] and not is_business_time(sla.calendar(), now):
        return "closed"
    agents = [a for a in online_agents_query(now).all() if scopes.answers_chats(a)]
    if not agents:
        return "nobody"
    counts = active_counts([a.id for a in agents])
    if all(counts.get(a.id, 0) >= a.chat_limit for a in agents):
        return "busy"
    return None


def unavailable_message(reason):
    return {
        "closed": _("Notre support est fermé en ce moment."),
        "nobody": _("Aucun agent n'est disponible en ce moment."),
        "busy": _("Tous nos agents sont occupés."),
    }.get(reason, "")


def touch_presence(sid, user_id):
    row = db.session.get(ChatPresence, sid)
    if row is None:
        db.session.add(ChatPresence(sid=sid, user_id=user_id, seen_on=clock.now()))
    else:
        row.seen_on = clock.now()


def forget_stale_presence():
    """Rows left by a process that stopped abruptly: their heartbeat never comes again."""
    db.session.query(ChatPresence).filter(ChatPresence.seen_on < clock.now() - timedelta(seconds=PRESENCE_SECONDS * 4)).delete(synchronize_session=False)


def drop_presence(sid):
    db.session.query(ChatPresence).filter_by(sid=sid).delete()


def set_agent_available(user, available):
    user.chat_available = bool(available)
