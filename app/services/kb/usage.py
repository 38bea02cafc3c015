"""Views, votes, and the suggestions shown before a ticket or a chat (deflection)."""
import secrets
import threading
import time
from collections import Counter

from flask_babel import gettext as _
from sqlalchemy import func, update

from app.extensions import db
from app.models import KbArticle, KbSuggestion, KbVote
from app.services import ServiceError, clock
from app.services.kb.common import _choice

# --- readers: views, votes, suggestions -----------------------------------------------


# Views are counted in memory and written in one transaction every few seconds per process:
# reading an article then costs no write (a crash loses at most those seconds of counts).
_pending_views = Counter()
_views_lock = threading.Lock()
_last_views_flush = [0.0]
VIEW_FLUSH_SECONDS = 10


def record_view(article):
    with _views_lock:
        _pending_views[article.id] += 1


def flush_views(force=False):
    """Write the counted views when the interval has passed (or when forced); returns whether
    anything was written, so that the caller knows to commit."""
    with _views_lock:
        if not _pending_views or (not force and time.monotonic() - _last_views_flush[0] < VIEW_FLUSH_SECONDS):
            return False
        pending = dict(_pending_views)
        _pending_views.clear()
        _last_views_flush[0] = time.monotonic()
    for article_id, count in sorted(pending.items()):
        db.session.execute(update(KbArticle).where(KbArticle.id == article_id).values(view_count=KbArticle.view_count + count))
    return True


def vote(actor, article, voter_key, helpful):
    """One vote per reader; voting again replaces the earlier vote."""
    if not voter_key:
        raise ServiceError(_("Vote impossible sans session."))
    helpful = bool(helpful)
    existing = db.session.query(KbVote).filter_by(article_id=article.id, voter_key=voter_key).one_or_none()
    if existing is not None:
        if existing.helpful == helpful:
            return existing
        column = KbArticle.helpful_yes if existing.helpful else KbArticle.helpful_no
        db.session.execute(update(KbArticle).where(KbArticle.id == article.id).values({column: column - 1}))
        existing.helpful = helpful
        item = existing
    else:
        item = KbVote(article_id=article.id, voter_key=voter_key, user_id=getattr(actor, "id", None), helpful=helpful, created_on=clock.now())
        db.session.add(item)
    column = KbArticle.helpful_yes if helpful else KbArticle.helpful_no
    db.session.execute(update(KbArticle).where(KbArticle.id == article.id).values({column: column + 1}))
    db.session.flush()
    return item


SUGGESTION_CHANNELS = ("ticket_form", "chat")


def record_suggestions(actor, query, articles, channel):
    """Remember what was proposed; the token comes back with the ticket if one is filed."""
    channel = _choice(channel, SUGGESTION_CHANNELS, "channel", "ticket_form")
    item = KbSuggestion(
        token=secrets.token_urlsafe(18), channel=channel, user_id=getattr(actor, "id", None),
        query=(query or "")[:200], article_ids=",".join(str(a.id) for a in articles)[:200], shown_on=clock.now(),
    )
    db.session.add(item)
    db.session.flush()
    return item


def _own_suggestion(actor, token):
    if not token:
        return None
    item = db.session.query(KbSuggestion).filter_by(token=str(token)[:40]).one_or_none()
    if item is None or item.user_id != getattr(actor, "id", None):
        return None
    return item


def suggestion_opened(actor, token, article):
    item = _own_suggestion(actor, token)
    if item is not None and item.opened_article_id is None:
        item.opened_article_id = article.id
        db.session.flush()


def ticket_filed_after_suggestions(actor, token, ticket):
    """The ticket was filed anyway: this suggestion did not deflect it."""
    item = _own_suggestion(actor, token)
    if item is not None and item.ticket_id is None:
        item.ticket_id = ticket.id
        db.session.flush()


def deflection(since=None):
    """Suggestions shown (with at least one article) and how many ended without a ticket."""
    query = db.session.query(func.count(KbSuggestion.id), func.count(KbSuggestion.ticket_id)).filter(KbSuggestion.article_ids != "")
    if since is not None:
        query = query.filter(KbSuggestion.shown_on >= since)
    shown, filed = query.one()
    return {"shown": shown, "filed": filed, "deflected": shown - filed, "rate": (shown - filed) / shown if shown else None}
