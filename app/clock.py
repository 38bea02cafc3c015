"""The current time for every layer, which tests and the demo data can freeze, and the
person's time zone. At the bottom of the layers: queries, services and screens all read it."""
from contextlib import contextmanager
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import g
from flask_babel import get_timezone

_frozen = []


def now():
    return _frozen[-1] if _frozen else datetime.now(timezone.utc)


@contextmanager
def frozen(at):
    """Within the block, `now()` answers `at` (timezone-aware)."""
    if at.tzinfo is None:
        raise ValueError("frozen() needs a timezone-aware datetime")
    _frozen.append(at)
    try:
        yield at
    finally:
        _frozen.pop()


def user_zone():
    """The person's time zone (their setting, else their organisation's), looked up once per
    request or job."""
    if "novadesk_zone" not in g:
        g.novadesk_zone = ZoneInfo(str(get_timezone()))
    return g.novadesk_zone
