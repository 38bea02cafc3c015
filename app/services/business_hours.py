"""Business-hours calendar: SLA deadlines counted in open minutes of a local-time week.

Pure Python (no database, no Flask). Public functions take and return timezone-aware UTC
datetimes; opening hours and holidays are local to the calendar's time zone, so DST is handled
by converting each local interval to UTC day by day. Intervals are half-open [start, end).
"""
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = timezone.utc
END_OF_DAY = time.max  # as an interval end: "until midnight" (exact, not 1 µs before)
MAX_CLOSED_DAYS = 3 * 366  # an add that finds nothing open for this long gives up
_ONE_DAY = timedelta(days=1)
_ONE_MINUTE = timedelta(minutes=1)
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

Interval = tuple[time, time]


class Week(Mapping):
    """Read-only, hashable weekday -> intervals mapping (a dict default would make the
    frozen dataclass unhashable and is refused by dataclasses as a mutable default)."""

    def __init__(self, days: Mapping[int, Iterable[Interval]] = ()):
        self._days = {day: tuple((start, end) for start, end in intervals) for day, intervals in dict(days).items()}

    def __getitem__(self, day):
        return self._days[day]

    def __iter__(self):
        return iter(self._days)

    def __len__(self):
        return len(self._days)

    def __hash__(self):
        return hash(frozenset(self._days.items()))

    def __repr__(self):
        return f"Week({self._days!r})"


_OFFICE_DAY = ((time(8, 0), time(12, 0)), (time(13, 0), time(17, 0)))
DEFAULT_WEEK = Week({day: _OFFICE_DAY for day in range(5)})


@dataclass(frozen=True)
class Calendar:
    timezone: str = "Europe/Paris"
    # weekday (0 = Monday) -> sorted, non-overlapping local (start, end) intervals; missing day = closed
    week: Mapping[int, tuple[tuple[time, time], ...]] = field(default=DEFAULT_WEEK)
    holidays: frozenset[date] = frozenset()  # local dates closed all day

    def __post_init__(self):
        _zone(self.timezone)  # fail now on an unknown zone, not at the first deadline
        days = {}
        for day, intervals in self.week.items():
            if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6:
                raise ValueError(f"Weekday must be an integer from 0 (Monday) to 6 (Sunday), got {day!r}")
            days[day] = _check_intervals(day, intervals)
        holidays = frozenset(self.holidays)
        if any(isinstance(h, datetime) or not isinstance(h, date) for h in holidays):
            raise ValueError("Holidays must be dates (not datetimes)")
        # Normalised copies keep the instance immutable and hashable whatever was passed in.
        object.__setattr__(self, "week", Week(days))
        object.__setattr__(self, "holidays", holidays)

    @classmethod
    def from_settings(cls, timezone: str, week: dict, holidays: Iterable[date | str]) -> "Calendar":
        """Build from stored settings: week {"0": [["08:00", "12:00"], ...]} (keys str or int,
        "24:00" allowed as an end), holidays as dates or ISO strings."""
        days = {}
        for key, intervals in (week or {}).items():
            try:
                day = int(key)
            except (TypeError, ValueError):
                raise ValueError(f"Weekday key must be 0 (Monday) to 6 (Sunday), got {key!r}") from None
            if day in days:
                raise ValueError(f"Weekday {day} is defined twice")
            parsed = []
            for pair in intervals or ():
                if isinstance(pair, str) or len(pair) != 2:
                    raise ValueError(f"Weekday {day}: each interval must be a [start, end] pair, got {pair!r}")
                parsed.append((_parse_hhmm(pair[0], day, end=False), _parse_hhmm(pair[1], day, end=True)))
            days[day] = sorted(parsed)  # settings need not be ordered; overlaps are still refused
        parsed_holidays = set()
        for h in holidays or ():
            if isinstance(h, str):
                try:
                    h = date.fromisoformat(h)
                except ValueError:
                    raise ValueError(f"Holiday {h!r} is not an ISO date (YYYY-MM-DD)") from None
            parsed_holidays.add(h)
        return cls(timezone=timezone, week=days, holidays=frozenset(parsed_holidays))


def add_business_minutes(calendar: Calendar, start: datetime, minutes: int | float) -> datetime:
    """The earliest moment at which `minutes` business minutes have elapsed since `start`.

    0 gives the next business moment (start itself if open). A deadline that uses up an
    interval exactly is that interval's end (e.g. 17:00), not the next opening.
    """
    start = _as_utc(start, "start")
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not math.isfinite(minutes):
        raise ValueError(f"minutes must be a finite number, got {minutes!r}")
    if minutes < 0:
        raise ValueError(f"minutes must not be negative, got {minutes!r}")
    if not any(calendar.week.values()):
        raise ValueError("The calendar has no opening hours: no business deadline can be reached")
    remaining = timedelta(minutes=minutes)  # exact integer microseconds from here on
    for open_at, close_at in _walk(calendar, start):
        if remaining <= close_at - open_at:
            return open_at + remaining
        remaining -= close_at - open_at
    raise AssertionError("unreachable: _walk is endless or raises")


def business_minutes_between(calendar: Calendar, start: datetime, end: datetime) -> float:
    """Business minutes from start to end (0 if end <= start), to microsecond precision."""
    start, end = _as_utc(start, "start"), _as_utc(end, "end")
    total = timedelta()
    if end > start:
        for open_at, close_at in _walk(calendar, start, until=end):
            if open_at >= end:
                break
            total += min(close_at, end) - open_at
    return total / _ONE_MINUTE


def is_business_time(calendar: Calendar, moment: datetime) -> bool:
    moment = _as_utc(moment, "moment")
    zone = _zone(calendar.timezone)
    day = moment.astimezone(zone).date()
    # The previous day too: with a repeated midnight hour its last interval may reach past 00:00.
    return any(s <= moment < e for d in (day - _ONE_DAY, day) for s, e in _day_intervals(calendar, zone, d))


# --- internals -----------------------------------------------------------------------------


def _walk(calendar: Calendar, moment: datetime, until: datetime | None = None) -> Iterator[tuple[datetime, datetime]]:
    """Open UTC intervals after `moment` in order, the first clipped to start at `moment`.

    Walks local days (never minutes); stops after `until`'s day, or raises after MAX_CLOSED_DAYS
    consecutive closed days when unbounded, so an all-closed calendar cannot loop forever.
    """
    zone = _zone(calendar.timezone)
    day = moment.astimezone(zone).date() - _ONE_DAY  # see is_business_time
    last_day = until.astimezone(zone).date() if until is not None else None
    floor = moment  # clamping to the previous end keeps DST-shifted intervals ordered and disjoint
    closed_days = 0
    while last_day is None or day <= last_day:
        found = False
        for open_at, close_at in _day_intervals(calendar, zone, day):
            open_at = max(open_at, floor)
            if close_at > open_at:
                yield open_at, close_at
                floor, found = close_at, True
        closed_days = 0 if found else closed_days + 1
        if last_day is None and closed_days > MAX_CLOSED_DAYS:
            raise ValueError(f"The calendar is closed for more than {MAX_CLOSED_DAYS} days in a row after {moment.isoformat()}")
        day += _ONE_DAY


def _day_intervals(calendar: Calendar, zone: ZoneInfo, day: date) -> list[tuple[datetime, datetime]]:
    if day in calendar.holidays:
        return []
    out = []
    for start, end in calendar.week.get(day.weekday(), ()):
        open_at = _local_to_utc(zone, day, start, end=False)
        close_at = _local_to_utc(zone, day + _ONE_DAY, time(0), end=True) if end == END_OF_DAY else _local_to_utc(zone, day, end, end=True)
        out.append((open_at, close_at))
    return out


def _local_to_utc(zone: ZoneInfo, day: date, wall: time, *, end: bool) -> datetime:
    """A wall-clock time as a UTC instant. A time skipped by DST moves forward by the gap
    (fold=0, Python's rule); a time shown twice opens at its first and closes at its
    second occurrence, so the office is open whenever the clock shows an open time."""
    naive = datetime.combine(day, wall)
    first = naive.replace(tzinfo=zone).astimezone(UTC)
    if end:
        second = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
        if second > first:  # ambiguous time (in a gap fold=1 is earlier, so it is ignored)
            return second
    return first


def _check_intervals(day: int, intervals) -> tuple[Interval, ...]:
    checked = []
    for pair in intervals:
        start, end = pair
        if not (isinstance(start, time) and isinstance(end, time)) or start.tzinfo or end.tzinfo:
            raise ValueError(f"Weekday {day}: interval bounds must be naive datetime.time values, got {pair!r}")
        if start >= end:
            raise ValueError(f"Weekday {day}: interval start {start:%H:%M} must be before its end {end:%H:%M}")
        if checked and start < checked[-1][1]:
            raise ValueError(f"Weekday {day}: intervals must be sorted and must not overlap ({checked[-1][1]:%H:%M} > {start:%H:%M})")
        checked.append((start, end))
    return tuple(checked)


def _parse_hhmm(value, day: int, *, end: bool) -> time:
    if end and value == "24:00":
        return END_OF_DAY
    match = _HHMM.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"Weekday {day}: {value!r} is not a time in HH:MM format (00:00 to 23:59, or 24:00 as an end)")
    return time(int(match[1]), int(match[2]))


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)  # cached by zoneinfo itself
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise ValueError(f"Unknown time zone {name!r}") from None


def _as_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware UTC datetime, got a naive one: {value.isoformat()}")
    return value.astimezone(UTC)
