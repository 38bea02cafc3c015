"""Numbers and dates from the outside world, bounded before they reach a query (U7).

One URL converter for every id in a path, and one way to read an id, a page or a day from a
query string or a form. Whatever is out of range is refused (404 for a path, a clear 400 or
"no value" for an argument) and never reaches the database, where a number past the column's
size or a date past year 9999 used to become a server error.
"""
import logging
import re
from datetime import date

from flask import abort, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

from app.extensions import db

MAX_ID = 2**31 - 1  # PostgreSQL's INTEGER, the type of every id column
MAX_PAGE = 100_000
MAX_PAGE_SIZE = 1_000
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2100, 12, 31)
_DIGITS = re.compile(r"^[0-9]{1,12}$")


class IdConverter(IntegerConverter):
    """`<int:…>` everywhere: a non-negative id that fits the database's id columns."""

    def __init__(self, map, fixed_digits=0, min=0, max=MAX_ID, signed=False):  # noqa: A002  (werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=False)


def to_id(value, maximum=MAX_ID):
    """An id (or a page number, with `maximum=MAX_PAGE`) from text, or None when it is not one."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = str(value if value is not None else "").strip()
        if not _DIGITS.match(text):
            return None
        number = int(text)
    return number if 0 <= number <= maximum else None


def to_day(value):
    """A day written YYYY-MM-DD within a sane range (1970–2100), or None."""
    text = str(value or "").strip()[:10]
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None


def install(app):
    """Bind the converter (before any route is added) and the checks of FAB's own arguments."""
    app.url_map.converters["int"] = IdConverter
    app.url_value_preprocessor(_bounded_pk)
    app.before_request(_bounded_fab_arguments)
    app.register_error_handler(OverflowError, _out_of_range)
    from sqlalchemy.exc import DataError

    app.register_error_handler(DataError, _out_of_range)


def _out_of_range(error):
    """The last guard, for a number that reached a query through a library's own parsing (FAB's
    list filters): the database refused it, the person gets a clear 400, the log one line."""
    db.session.rollback()
    logging.getLogger(__name__).warning("value out of range refused on %s: %s", request.path[:200], type(error).__name__)
    return _("Valeur hors limites."), 400


def _bounded_pk(_endpoint, values):
    """FAB's generated routes take `<pk>` as text and hand it to the database as it is."""
    if values and "pk" in values and to_id(values["pk"]) is None:
        abort(404)


_FAB_NUMBERS = re.compile(r"^(page|psize)_")


def _bounded_fab_arguments():
    """FAB reads `page_<view>`/`psize_<view>` with a bare int() and list actions' row ids as
    they come: refuse what is not a number in range with a clear 400."""
    for name, value in request.args.items(multi=True):
        if _FAB_NUMBERS.match(name):
            limit = MAX_PAGE if name.startswith("page_") else MAX_PAGE_SIZE
            if to_id(value, limit) is None:
                abort(400, _("Numéro de page hors limites."))
    if request.method == "POST" and (request.endpoint or "").endswith(".action_post"):
        view = _fab_view(request.endpoint.split(".")[0])
        if view is not None and (request.form.get("action") not in getattr(view, "actions", {})
                                 or any(to_id(pk) is None for pk in request.form.getlist("rowid"))):
            abort(400, _("Action ou sélection invalide."))


def _fab_view(name):
    from flask import current_app

    for view in current_app.appbuilder.baseviews:
        if type(view).__name__ == name:
            return view
    return None
