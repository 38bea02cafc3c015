"""What every part of the live chat shares: its limits, who speaks, its refusals, and how
what a visitor types is cleaned."""
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _

from app.services import ServiceError
from app.services.tickets import without_control_characters  # the one text rule (tickets/text.py)

MESSAGE_MAX = 4000
NAME_MAX = 200
VISITOR, AGENT, SYSTEM = "visitor", "agent", "system"


class ChatRefused(ServiceError):
    """A widget connection or action refused, with a message the visitor can read."""


class ConversationNotFound(ServiceError):
    not_found = True

    def __init__(self):
        super().__init__(_("Cette conversation n'existe pas ou ne vous est pas accessible."))


def as_int(value, default=0):
    """An integer from a visitor, or the default (no overflow, no infinity)."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return default
    return number if -(2**62) < number < 2**62 else default


def clean_email(value, required=True):
    value = (value or "").strip()
    if not value and not required:
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ChatRefused(_("Adresse e-mail invalide."), {"email": "invalid"})


def clean_name(value):
    value = without_control_characters(value)
    return value[:NAME_MAX] or None


def clean_body(body, required=True):
    body = without_control_characters(body)
    if required and not body:
        raise ServiceError(_("Le message est vide."), {"body": "required"})
    if len(body) > MESSAGE_MAX:
        raise ServiceError(_("Message trop long : %(n)s caractères au plus.", n=MESSAGE_MAX), {"body": "too_long"})
    return body
