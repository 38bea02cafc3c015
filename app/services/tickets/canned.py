"""Canned responses (T8): the active ones, and one filled in for a ticket."""
import re

from flask_babel import get_locale

from app.extensions import db
from app.models import CannedResponse

_FRENCH_WORDS = frozenset("bonjour madame monsieur vous votre vos nous le la les de des du est pour et merci cordialement".split())
_ENGLISH_WORDS = frozenset("hello dear hi you your we the of is for and to thanks regards kind".split())
# What {client} becomes when nobody is named: never the organisation (« Bonjour Crédit Solidaire du Sahel, »).
NO_NAME_GREETING = {"fr": "Madame, Monsieur", "en": "Sir or Madam"}


def _text_language(text, default):
    words = re.findall(r"[a-z]+", (text or "").lower())
    french = sum(w in _FRENCH_WORDS for w in words)
    english = sum(w in _ENGLISH_WORDS for w in words)
    return "fr" if french > english else "en" if english > french else default


def client_greeting_name(ticket, text=""):
    """The requester's name, or the polite form in the language the text is written in."""
    requester = ticket.requester
    if requester is not None and requester.full_name:
        return requester.full_name
    locale = str(get_locale() or "fr")[:2]
    return NO_NAME_GREETING[_text_language(text, locale if locale in NO_NAME_GREETING else "fr")]


def fill_canned_response(canned, ticket, agent):
    """The canned text with its placeholders filled for this ticket (T8)."""
    values = {
        "client": client_greeting_name(ticket, canned.body),
        "organisation": ticket.organisation.name,
        "ticket": ticket.number,
        "title": ticket.title,
        "agent": agent.full_name,
    }
    text = canned.body
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def active_canned_responses():
    return db.session.query(CannedResponse).filter_by(active=True).order_by(CannedResponse.title).all()
