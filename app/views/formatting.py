"""Display helpers shared by the generated screens: dates in the user's time zone."""
from flask_babel import format_datetime


def local_datetime(value):
    if value is None:
        return ""
    return format_datetime(value, "dd/MM/yyyy HH:mm")


def datetime_formatters(*columns):
    return {column: local_datetime for column in columns}
