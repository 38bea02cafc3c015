"""How values read on a screen or in a message: dates in the person's time zone, sizes,
durations, values in words. Below the services, so that a service or a channel writing text
for a person formats it as the screens do (app/views/formatting.py re-exports it)."""
from datetime import date, datetime, timezone

from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from markupsafe import Markup

from app.clock import user_zone
from app.security.roles import ROLE_LABELS

_user_zone = user_zone  # the name the screens' helpers knew it by


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
    return ", ".join(str(ROLE_LABELS.get(role.name, role.name)) for role in roles or [])


def yes_no_formatters(*columns):
    return {column: yes_no for column in columns}


def file_size(size):
    """« 6,2 Mo » / "6.2 MB", « 48 Ko » — in the person's language."""
    if size >= 1024 * 1024:
        return _("%(n)s Mo", n=format_decimal(round(size / 1024 / 1024, 1), format="#,##0.0"))
    return _("%(n)s Ko", n=format_decimal(max(1, round(size / 1024)), format="#,##0"))


def business_duration(minutes):
    """480 → « 1 jour ouvré (8 h) », 90 → « 1 h 30 », in business time (8-hour days)."""
    if minutes and minutes % 480 == 0:
        days = minutes // 480
        return ngettext("%(num)s jour ouvré (%(h)s h)", "%(num)s jours ouvrés (%(h)s h)", days, h=days * 8)
    hours, rest = divmod(minutes or 0, 60)
    if hours and rest:
        return _("%(h)s h %(m)02d", h=hours, m=rest)
    return _("%(h)s h", h=hours) if hours else _("%(m)s min", m=rest)


EMPTY = "—"


def local_date(value):
    return value.strftime("%d/%m/%Y") if value is not None else ""


def screen_value(value):
    """Any value a generated screen shows, in words: « Oui »/« Non », « — » when empty, dates
    in the person's time zone, a list as « a, b ». Already formatted text is kept as is."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return EMPTY
    if isinstance(value, Markup):
        return value
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, datetime):
        return local_datetime(value)
    if isinstance(value, date):
        return local_date(value)
    if isinstance(value, (list, tuple, set)):
        return ", ".join(str(screen_value(v)) for v in value) or EMPTY
    return value
