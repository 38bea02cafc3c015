"""The current time for every service, which tests and the demo data can freeze."""
from contextlib import contextmanager
from datetime import datetime, timezone

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
