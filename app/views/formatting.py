"""Display helpers shared by the generated screens: dates in the user's time zone."""
from flask_babel import format_datetime
from flask_babel import gettext as _


def local_datetime(value):
    if value is None:
        return ""
    return format_datetime(value, "dd/MM/yyyy HH:mm")


def datetime_formatters(*columns):
    return {column: local_datetime for column in columns}


def yes_no(value):
    return _("Oui") if value else _("Non")


def role_labels(roles):
    from app.security.roles import ROLE_LABELS

    return ", ".join(str(ROLE_LABELS.get(role.name, role.name)) for role in roles or [])


def yes_no_formatters(*columns):
    return {column: yes_no for column in columns}
