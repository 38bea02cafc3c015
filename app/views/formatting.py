"""Display helpers shared by the generated screens: dates in the user's time zone."""
from datetime import timezone
from zoneinfo import ZoneInfo

from flask import g
from flask_babel import get_timezone
from flask_babel import gettext as _


def _user_zone():
    """The person's time zone, looked up once per request."""
    if "novadesk_zone" not in g:
        g.novadesk_zone = ZoneInfo(str(get_timezone()))
    return g.novadesk_zone


def local_datetime(value):
    """dd/mm/yyyy hh:mm in the person's time zone (Babel's formatter is ten times slower and
    the list shows a hundred dates)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(_user_zone()).strftime("%d/%m/%Y %H:%M")


def datetime_formatters(*columns):
    return {column: local_datetime for column in columns}


def yes_no(value):
    return _("Oui") if value else _("Non")


def role_labels(roles):
    from app.security.roles import ROLE_LABELS

    return ", ".join(str(ROLE_LABELS.get(role.name, role.name)) for role in roles or [])


def yes_no_formatters(*columns):
    return {column: yes_no for column in columns}
