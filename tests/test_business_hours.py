"""Business-hours calendar (SLA deadlines): hand-computed expectations, no app fixtures.

Reminders for the arithmetic below: Europe/Paris is UTC+1 in winter (CET) and UTC+2 in summer
(CEST); in 2026 summer time starts 2026-03-29 at 01:00 UTC (02:00 CET -> 03:00 CEST) and ends
2026-10-25 at 01:00 UTC (03:00 CEST -> 02:00 CET). The default calendar is Monday-Friday
08:00-12:00 and 13:00-17:00 local, i.e. 480 business minutes a day.
2026-01-05 is a Monday, 2026-01-09 a Friday, 2026-12-25 a Friday, 2026-05-25 (Whit Monday) a Monday.
"""
import math
import random
import time as timer
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.services.business_hours import (
    DEFAULT_WEEK,
    END_OF_DAY,
    Calendar,
    add_business_minutes,
    business_minutes_between,
    is_business_time,
)

PARIS = Calendar()
ALWAYS_OPEN = Calendar(week={day: ((time(0), END_OF_DAY),) for day in range(7)})  # 24/7, Europe/Paris
CHRISTMAS = Calendar(holidays=frozenset({date(2026, 12, 25)}))
WHIT_MONDAY = Calendar(holidays=frozenset({date(2026, 5, 25)}))


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


# --- add_business_minutes: where the start falls ----------------------------------------------


def test_start_inside_hours():
    # Mon 09:00 Paris (08:00 UTC) + 60 -> 10:00 Paris = 09:00 UTC
    assert add_business_minutes(PARIS, utc(2026, 1, 5, 8), 60) == utc(2026, 1, 5, 9)


def test_start_inside_hours_crossing_lunch():
    # Mon 11:30 Paris: 30 min to 12:00, 30 more from 13:00 -> 13:30 Paris = 12:30 UTC
    assert add_business_minutes(PARIS, utc(2026, 1, 5, 10, 30), 60) == utc(2026, 1, 5, 12, 30)


def test_start_before_opening():
    # Mon 06:00 Paris: counting starts at 08:00, + 30 -> 08:30 Paris = 07:30 UTC
    assert add_business_minutes(PARIS, utc(2026, 1, 5, 5), 30) == utc(2026, 1, 5, 7, 30)


def test_start_during_lunch():
    # Mon 12:15 Paris: counting starts at 13:00, + 30 -> 13:30 Paris = 12:30 UTC
    assert add_business_minutes(PARIS, utc(2026, 1, 5, 11, 15), 30) == utc(2026, 1, 5, 12, 30)


def test_start_after_closing():
    # Mon 18:00 Paris: next opening Tue 08:00, + 30 -> Tue 08:30 Paris = 07:30 UTC
    assert add_business_minutes(PARIS, utc(2026, 1, 5, 17), 30) == utc(2026, 1, 6, 7, 30)


def test_start_friday_evening_goes_to_monday():
    # Fri 19:00 Paris: Saturday and Sunday closed, Mon 08:00 + 45 -> 08:45 Paris = 07:45 UTC
    assert add_business_minutes(PARIS, utc(2026, 1, 9, 18), 45) == utc(2026, 1, 12, 7, 45)


def test_start_on_saturday():
    # Sat 10:00 Paris: Mon 08:00 + 10 -> 08:10 Paris = 07:10 UTC
    assert add_business_minutes(PARIS, utc(2026, 1, 10, 9), 10) == utc(2026, 1, 12, 7, 10)


def test_urgent_one_hour_target_at_1630_on_friday():
    # Fri 16:30 Paris (15:30 UTC): 30 min to 17:00, 30 left -> Mon 08:30 Paris = 07:30 UTC
    assert add_business_minutes(PARIS, utc(2026, 1, 9, 15, 30), 60) == utc(2026, 1, 12, 7, 30)


def test_crossing_a_weekend():
    # Fri 14:00 Paris + 480: Fri 14-17 = 180 (300 left), Mon 08-12 = 240 (60 left), Mon 13:00 + 60
    # -> Mon 14:00 Paris = 13:00 UTC
    assert add_business_minutes(PARIS, utc(2026, 1, 9, 13), 480) == utc(2026, 1, 12, 13)


def test_deadline_using_up_an_interval_is_its_end():
    # Mon 16:00 Paris + 60 -> 17:00 Paris (16:00 UTC) exactly, not Tuesday 08:00
    deadline = add_business_minutes(PARIS, utc(2026, 1, 5, 15), 60)
    assert deadline == utc(2026, 1, 5, 16)
    assert not is_business_time(PARIS, deadline)  # intervals are half-open: 17:00 is closed
    # Mon 11:00 Paris + 60 -> 12:00 Paris (11:00 UTC), the start of lunch
    assert add_business_minutes(PARIS, utc(2026, 1, 5, 10), 60) == utc(2026, 1, 5, 11)


def test_zero_minutes_is_the_next_business_moment():
    inside = utc(2026, 1, 5, 8, 17, 3, 5)  # Mon 09:17:03 Paris
    assert add_business_minutes(PARIS, inside, 0) == inside
    assert add_business_minutes(PARIS, utc(2026, 1, 5, 7), 0) == utc(2026, 1, 5, 7)  # 08:00 Paris: opening is inside
    assert add_business_minutes(PARIS, utc(2026, 1, 5, 11), 0) == utc(2026, 1, 5, 12)  # 12:00 -> 13:00 Paris
    assert add_business_minutes(PARIS, utc(2026, 1, 5, 16), 0) == utc(2026, 1, 6, 7)  # 17:00 -> Tue 08:00 Paris
    assert add_business_minutes(PARIS, utc(2026, 1, 10, 12), 0) == utc(2026, 1, 12, 7)  # Sat -> Mon 08:00 Paris


def test_float_minutes():
    # Mon 09:00 Paris + 1.5 min -> 09:01:30 Paris = 08:01:30 UTC
    assert add_business_minutes(PARIS, utc(2026, 1, 5, 8), 1.5) == utc(2026, 1, 5, 8, 1, 30)


# --- holidays ----------------------------------------------------------------------------------


def test_crossing_christmas_on_a_friday():
    # Thu 24/12 16:00 Paris + 120: 60 until 17:00; Fri 25 holiday; weekend; Mon 28 08:00 + 60
    # -> 09:00 Paris = 08:00 UTC
    assert add_business_minutes(CHRISTMAS, utc(2026, 12, 24, 15), 120) == utc(2026, 12, 28, 8)
    # Without the holiday: Fri 25 08:00 + 60 -> 09:00 Paris = 08:00 UTC on the 25th
    assert add_business_minutes(PARIS, utc(2026, 12, 24, 15), 120) == utc(2026, 12, 25, 8)


def test_starting_on_a_holiday():
    # Fri 25/12 10:00 Paris (holiday) + 0 -> Mon 28 08:00 Paris = 07:00 UTC
    assert add_business_minutes(CHRISTMAS, utc(2026, 12, 25, 9), 0) == utc(2026, 12, 28, 7)
    assert not is_business_time(CHRISTMAS, utc(2026, 12, 25, 9))
    assert is_business_time(PARIS, utc(2026, 12, 25, 9))


def test_crossing_a_holiday_on_a_monday():
    # Summer (UTC+2). Fri 22/05 16:00 Paris (14:00 UTC) + 120: 60 Fri; weekend; Mon 25 holiday;
    # Tue 26 08:00 + 60 -> 09:00 Paris = 07:00 UTC
    assert add_business_minutes(WHIT_MONDAY, utc(2026, 5, 22, 14), 120) == utc(2026, 5, 26, 7)
    # Without the holiday: Mon 25 09:00 Paris = 07:00 UTC
    assert add_business_minutes(PARIS, utc(2026, 5, 22, 14), 120) == utc(2026, 5, 25, 7)


def test_holiday_is_a_local_date():
    # 2026-12-24 23:30 UTC is already Fri 25 00:30 in Paris: a holiday there.
    # Counting starts Mon 28 08:00 Paris = 07:00 UTC
    assert add_business_minutes(CHRISTMAS, utc(2026, 12, 24, 23, 30), 0) == utc(2026, 12, 28, 7)


# --- long spans --------------------------------------------------------------------------------


def test_ten_business_days():
    start = utc(2026, 1, 5, 7)  # Mon 05/01 08:00 Paris
    # 4800 = 10 x 480: Mon 05 .. Fri 09 and Mon 12 .. Fri 16 in full -> Fri 16 17:00 Paris = 16:00 UTC
    assert add_business_minutes(PARIS, start, 4800) == utc(2026, 1, 16, 16)
    # One more minute spills over the weekend: Mon 19 08:01 Paris = 07:01 UTC
    assert add_business_minutes(PARIS, start, 4801) == utc(2026, 1, 19, 7, 1)


def test_hundred_thousand_minutes_is_fast():
    start = utc(2026, 1, 5, 7)  # Mon 05/01 08:00 Paris
    began = timer.perf_counter()
    deadline = add_business_minutes(PARIS, start, 100_000)
    elapsed = timer.perf_counter() - began
    # 100000 = 208 x 480 + 160. 208 days = 41 weeks + 3 days: 41 weeks end Fri 16/10, then
    # Mon 19, Tue 20, Wed 21 October in full; Thu 22 08:00 + 160 -> 10:40 CEST = 08:40 UTC
    assert deadline == utc(2026, 10, 22, 8, 40)
    assert business_minutes_between(PARIS, start, deadline) == 100_000
    assert elapsed < 2  # day by day, never minute by minute (takes milliseconds)


# --- daylight saving time ----------------------------------------------------------------------


def test_always_open_calendar_counts_real_time_across_spring_dst():
    # Local day 29/03 runs from 00:00 CET (28th 23:00 UTC) to 30/03 00:00 CEST (29th 22:00 UTC): 23 h
    assert business_minutes_between(ALWAYS_OPEN, utc(2026, 3, 28, 23), utc(2026, 3, 29, 22)) == 23 * 60
    # 24/7: business minutes are real minutes, through the switch at 01:00 UTC
    assert add_business_minutes(ALWAYS_OPEN, utc(2026, 3, 29, 0), 120) == utc(2026, 3, 29, 2)
    assert add_business_minutes(ALWAYS_OPEN, utc(2026, 3, 28, 23), 1440) == utc(2026, 3, 29, 23)
    assert is_business_time(ALWAYS_OPEN, utc(2026, 3, 29, 1, 30))


def test_always_open_calendar_counts_real_time_across_autumn_dst():
    # Local day 25/10 runs from 00:00 CEST (24th 22:00 UTC) to 26/10 00:00 CET (25th 23:00 UTC): 25 h
    assert business_minutes_between(ALWAYS_OPEN, utc(2026, 10, 24, 22), utc(2026, 10, 25, 23)) == 25 * 60
    assert add_business_minutes(ALWAYS_OPEN, utc(2026, 10, 25, 0), 120) == utc(2026, 10, 25, 2)
    # The repeated hour (01:00-02:00 UTC, shown 02:00-03:00 twice) is business time both times
    assert is_business_time(ALWAYS_OPEN, utc(2026, 10, 25, 0, 30))
    assert is_business_time(ALWAYS_OPEN, utc(2026, 10, 25, 1, 30))


def test_midnight_end_is_exact():
    # 00:00-24:00 on Monday 05/01 only: the day is exactly 1440 minutes, not 1 microsecond less
    monday = Calendar(week={0: ((time(0), END_OF_DAY),)})
    assert business_minutes_between(monday, utc(2026, 1, 1), utc(2026, 1, 10)) == 1440
    # Sundays only, 24 h: DST Sunday 29/03 has 23 h, DST Sunday 25/10 has 25 h
    sunday = Calendar.from_settings("Europe/Paris", {"6": [["00:00", "24:00"]]}, [])
    assert business_minutes_between(sunday, utc(2026, 3, 27), utc(2026, 3, 31)) == 23 * 60
    assert business_minutes_between(sunday, utc(2026, 10, 23), utc(2026, 10, 27)) == 25 * 60


def test_office_hours_around_spring_dst():
    # Fri 27/03 16:00 CET (15:00 UTC) + 120: 60 Fri; Mon 30 08:00 CEST (06:00 UTC) + 60 -> 07:00 UTC
    assert add_business_minutes(PARIS, utc(2026, 3, 27, 15), 120) == utc(2026, 3, 30, 7)
    # Friday opens at 07:00 UTC (08:00 CET), Monday at 06:00 UTC (08:00 CEST)
    assert not is_business_time(PARIS, utc(2026, 3, 27, 6, 30))
    assert is_business_time(PARIS, utc(2026, 3, 27, 7))
    assert not is_business_time(PARIS, utc(2026, 3, 30, 5, 59))
    assert is_business_time(PARIS, utc(2026, 3, 30, 6))
    # The day after the switch still has 4 h + 4 h = 480 business minutes (06:00-10:00, 11:00-15:00 UTC)
    assert business_minutes_between(PARIS, utc(2026, 3, 30), utc(2026, 3, 31)) == 480
    assert add_business_minutes(PARIS, utc(2026, 3, 30), 480) == utc(2026, 3, 30, 15)


def test_office_hours_around_autumn_dst():
    # Fri 23/10 16:00 CEST (14:00 UTC) + 120: 60 Fri; Mon 26 08:00 CET (07:00 UTC) + 60 -> 08:00 UTC
    assert add_business_minutes(PARIS, utc(2026, 10, 23, 14), 120) == utc(2026, 10, 26, 8)
    # Mon 26: 07:00-11:00 and 12:00-16:00 UTC = 480
    assert business_minutes_between(PARIS, utc(2026, 10, 26), utc(2026, 10, 27)) == 480
    assert add_business_minutes(PARIS, utc(2026, 10, 26), 480) == utc(2026, 10, 26, 16)


def test_interval_spanning_the_switch_counts_real_time():
    night = Calendar(week={6: ((time(1), time(4)),)})  # Sundays 01:00-04:00 local
    # 29/03: 01:00 CET = 00:00 UTC to 04:00 CEST = 02:00 UTC -> 120 real minutes (02:00-03:00 never shown)
    assert business_minutes_between(night, utc(2026, 3, 28), utc(2026, 3, 30)) == 120
    # 25/10: 01:00 CEST = 24th 23:00 UTC to 04:00 CET = 03:00 UTC -> 240 real minutes (02:00-03:00 shown twice)
    assert business_minutes_between(night, utc(2026, 10, 24), utc(2026, 10, 26)) == 240
    # An end shown twice closes at its second occurrence: 00:00 CEST (24th 22:00 UTC) to the second
    # 02:30, in CET = 01:30 UTC -> 210 minutes
    early = Calendar(week={6: ((time(0), time(2, 30)),)})
    assert business_minutes_between(early, utc(2026, 10, 24), utc(2026, 10, 26)) == 210


# --- other time zones --------------------------------------------------------------------------


def test_abidjan_is_utc():
    abidjan = Calendar(timezone="Africa/Abidjan")
    # Mon 07:00 local = UTC: opening 08:00 UTC, + 60 -> 09:00 UTC
    assert add_business_minutes(abidjan, utc(2026, 1, 5, 7), 60) == utc(2026, 1, 5, 9)
    # Fri 16:30 UTC + 60 -> Mon 08:30 UTC, in summer too (no DST)
    assert add_business_minutes(abidjan, utc(2026, 7, 10, 16, 30), 60) == utc(2026, 7, 13, 8, 30)


def test_douala_is_utc_plus_one_all_year():
    douala = Calendar(timezone="Africa/Douala")
    # Mon 06/07 (July): 08:00 local = 07:00 UTC all year; + 60 -> 08:00 UTC
    assert add_business_minutes(douala, utc(2026, 7, 6, 5), 60) == utc(2026, 7, 6, 8)
    # Paris is UTC+2 in July: 08:00 local = 06:00 UTC, + 60 -> 07:00 UTC
    assert add_business_minutes(PARIS, utc(2026, 7, 6, 5), 60) == utc(2026, 7, 6, 7)
    # Douala in January: same UTC times as Paris (both UTC+1)
    assert add_business_minutes(douala, utc(2026, 1, 5, 5), 60) == utc(2026, 1, 5, 8)


# --- business_minutes_between ------------------------------------------------------------------


def test_between_within_a_day():
    # Mon 09:00 -> 10:30 Paris = 90; 11:00 -> 14:00 Paris = 60 + 60 (lunch excluded) = 120
    assert business_minutes_between(PARIS, utc(2026, 1, 5, 8), utc(2026, 1, 5, 9, 30)) == 90
    assert business_minutes_between(PARIS, utc(2026, 1, 5, 10), utc(2026, 1, 5, 13)) == 120
    # 30 seconds -> 0.5
    assert business_minutes_between(PARIS, utc(2026, 1, 5, 8), utc(2026, 1, 5, 8, 0, 30)) == 0.5


def test_between_over_a_night():
    # Mon 16:00 -> Tue 09:00 Paris = 60 + 60 = 120
    assert business_minutes_between(PARIS, utc(2026, 1, 5, 15), utc(2026, 1, 6, 8)) == 120


def test_between_over_a_weekend():
    # Fri 16:00 -> Mon 09:00 Paris = 60 + 60 = 120; Sat -> Sun = 0
    assert business_minutes_between(PARIS, utc(2026, 1, 9, 15), utc(2026, 1, 12, 8)) == 120
    assert business_minutes_between(PARIS, utc(2026, 1, 10, 9), utc(2026, 1, 11, 20)) == 0
    # A whole week, Monday 00:00 -> next Monday 00:00 Paris = 5 x 480 = 2400
    assert business_minutes_between(PARIS, utc(2026, 1, 4, 23), utc(2026, 1, 11, 23)) == 2400


def test_between_over_a_holiday():
    # Thu 24/12 16:00 -> Mon 28 09:00 Paris: 60 + (holiday, weekend) + 60 = 120
    assert business_minutes_between(CHRISTMAS, utc(2026, 12, 24, 15), utc(2026, 12, 28, 8)) == 120
    # Without the holiday Friday 25 adds 480 -> 600
    assert business_minutes_between(PARIS, utc(2026, 12, 24, 15), utc(2026, 12, 28, 8)) == 600


def test_between_empty_or_reversed_is_zero():
    assert business_minutes_between(PARIS, utc(2026, 1, 5, 9), utc(2026, 1, 5, 9)) == 0
    assert business_minutes_between(PARIS, utc(2026, 1, 5, 10), utc(2026, 1, 5, 9)) == 0


def test_between_is_consistent_with_add():
    rng = random.Random(42)
    base = utc(2026, 1, 1)
    calendars = [PARIS, CHRISTMAS, WHIT_MONDAY, ALWAYS_OPEN, Calendar(timezone="Africa/Douala"), Calendar(timezone="America/New_York")]
    for _ in range(400):
        calendar = rng.choice(calendars)
        start = base + timedelta(seconds=rng.randrange(366 * 86400), microseconds=rng.randrange(1_000_000))
        minutes = rng.choice([0, 1, 59, 60, 240, 480, 4800]) if rng.random() < 0.3 else rng.randrange(20_000)
        deadline = add_business_minutes(calendar, start, minutes)
        assert deadline >= start
        assert business_minutes_between(calendar, start, deadline) == minutes, (calendar, start, minutes)
        # A deadline is reached inside an interval or at its end, never in the middle of closed time
        if minutes:
            assert is_business_time(calendar, deadline - timedelta(microseconds=1))
        # Splitting the target in two gives the same deadline
        part = rng.randrange(minutes + 1)
        assert add_business_minutes(calendar, add_business_minutes(calendar, start, part), minutes - part) in (
            deadline,
            add_business_minutes(calendar, deadline, 0),  # the split may land on a closing time
        )
        # Float targets agree to the microsecond
        fraction = minutes + rng.random()
        measured = business_minutes_between(calendar, start, add_business_minutes(calendar, start, fraction))
        assert math.isclose(measured, fraction, abs_tol=1e-6)


# --- is_business_time --------------------------------------------------------------------------


def test_is_business_time_half_open_intervals():
    assert is_business_time(PARIS, utc(2026, 1, 5, 7))  # 08:00 Paris: open
    assert not is_business_time(PARIS, utc(2026, 1, 5, 6, 59, 59))  # 07:59:59
    assert is_business_time(PARIS, utc(2026, 1, 5, 10, 59, 59, 999999))  # 11:59:59.999999
    assert not is_business_time(PARIS, utc(2026, 1, 5, 11))  # 12:00: lunch
    assert is_business_time(PARIS, utc(2026, 1, 5, 12))  # 13:00
    assert not is_business_time(PARIS, utc(2026, 1, 5, 16))  # 17:00: closed
    assert not is_business_time(PARIS, utc(2026, 1, 10, 9))  # Saturday


# --- inputs ------------------------------------------------------------------------------------


def test_naive_datetimes_are_rejected():
    naive = datetime(2026, 1, 5, 9)
    with pytest.raises(ValueError, match="naive"):
        add_business_minutes(PARIS, naive, 10)
    with pytest.raises(ValueError, match="naive"):
        business_minutes_between(PARIS, naive, utc(2026, 1, 6))
    with pytest.raises(ValueError, match="naive"):
        business_minutes_between(PARIS, utc(2026, 1, 5), naive)
    with pytest.raises(ValueError, match="naive"):
        is_business_time(PARIS, naive)


def test_aware_non_utc_input_is_converted_and_result_is_utc():
    # 09:00 Paris given in Paris time = 08:00 UTC; + 60 -> 09:00 UTC
    deadline = add_business_minutes(PARIS, datetime(2026, 1, 5, 9, tzinfo=ZoneInfo("Europe/Paris")), 60)
    assert deadline == utc(2026, 1, 5, 9)
    assert deadline.tzinfo is timezone.utc


@pytest.mark.parametrize("minutes", [-1, -0.5, float("nan"), float("inf")])
def test_bad_minutes_are_rejected(minutes):
    with pytest.raises(ValueError, match="minutes"):
        add_business_minutes(PARIS, utc(2026, 1, 5, 8), minutes)


def test_empty_calendar_raises_instead_of_hanging():
    for empty in (Calendar(week={}), Calendar.from_settings("Europe/Paris", {"0": [], "3": []}, [])):
        with pytest.raises(ValueError, match="no opening hours"):
            add_business_minutes(empty, utc(2026, 1, 5), 10)
        assert business_minutes_between(empty, utc(2026, 1, 1), utc(2027, 1, 1)) == 0
        assert not is_business_time(empty, utc(2026, 1, 5, 9))


def test_calendar_closed_for_years_raises_instead_of_hanging():
    # Open on Mondays only, but every Monday of 2026-2030 is a holiday
    mondays = frozenset(date(2026, 1, 5) + timedelta(weeks=n) for n in range(5 * 53))
    closed = Calendar(week={0: DEFAULT_WEEK[0]}, holidays=mondays)
    began = timer.perf_counter()
    with pytest.raises(ValueError, match="closed for more than"):
        add_business_minutes(closed, utc(2026, 1, 1), 10)
    assert timer.perf_counter() - began < 2


# --- from_settings and validation --------------------------------------------------------------


def test_from_settings_default_week_equals_default_calendar():
    week = {str(day): [["08:00", "12:00"], ["13:00", "17:00"]] for day in range(5)}
    calendar = Calendar.from_settings("Europe/Paris", week, [])
    assert calendar == Calendar()
    assert hash(calendar) == hash(Calendar())  # hashable: usable as a cache key


def test_from_settings_parses_keys_intervals_and_holidays():
    calendar = Calendar.from_settings(
        "Africa/Douala",
        {1: [["14:00", "18:30"], ["09:00", "12:00"]], "5": [["10:00", "24:00"]]},  # int and str keys, unsorted
        [date(2026, 12, 25), "2026-01-01"],
    )
    assert calendar.timezone == "Africa/Douala"
    assert calendar.week[1] == ((time(9), time(12)), (time(14), time(18, 30)))
    assert calendar.week[5] == ((time(10), END_OF_DAY),)
    assert 0 not in calendar.week  # missing day = closed
    assert calendar.holidays == frozenset({date(2026, 12, 25), date(2026, 1, 1)})
    # Tue 06/01 08:00 UTC = 09:00 Douala: open; Sat 10/01 22:59 UTC = 23:59 Douala: open until midnight
    assert is_business_time(calendar, utc(2026, 1, 6, 8))
    assert is_business_time(calendar, utc(2026, 1, 10, 22, 59))
    assert not is_business_time(calendar, utc(2026, 1, 10, 23))  # Sunday 00:00 Douala


@pytest.mark.parametrize(
    ("timezone_name", "week", "holidays", "message"),
    [
        ("Mars/Olympus_Mons", {}, [], "Unknown time zone"),
        ("", {}, [], "Unknown time zone"),
        ("Europe/Paris", {"0": [["8:00", "12:00"]]}, [], "HH:MM"),
        ("Europe/Paris", {"0": [["08:00", "25:00"]]}, [], "HH:MM"),
        ("Europe/Paris", {"0": [["08:00", "12h"]]}, [], "HH:MM"),
        ("Europe/Paris", {"0": [["24:00", "24:00"]]}, [], "HH:MM"),  # 24:00 only as an end
        ("Europe/Paris", {"0": [[800, 1200]]}, [], "HH:MM"),
        ("Europe/Paris", {"0": [["12:00", "08:00"]]}, [], "must be before its end"),
        ("Europe/Paris", {"0": [["08:00", "08:00"]]}, [], "must be before its end"),
        ("Europe/Paris", {"0": [["08:00", "12:00"], ["11:00", "14:00"]]}, [], "overlap"),
        ("Europe/Paris", {"0": [["08:00", "12:00", "13:00"]]}, [], r"\[start, end\] pair"),
        ("Europe/Paris", {"7": [["08:00", "12:00"]]}, [], "0 \\(Monday\\) to 6"),
        ("Europe/Paris", {"monday": [["08:00", "12:00"]]}, [], "0 \\(Monday\\) to 6"),
        ("Europe/Paris", {"1": [], 1: []}, [], "defined twice"),
        ("Europe/Paris", {}, ["2026-13-01"], "ISO date"),
        ("Europe/Paris", {}, [datetime(2026, 12, 25, tzinfo=timezone.utc)], "not datetimes"),
    ],
)
def test_from_settings_rejects_bad_settings(timezone_name, week, holidays, message):
    with pytest.raises(ValueError, match=message):
        Calendar.from_settings(timezone_name, week, holidays)


def test_constructor_validates_too():
    with pytest.raises(ValueError, match="Unknown time zone"):
        Calendar(timezone="Nowhere/Atlantis")
    with pytest.raises(ValueError, match="must be before its end"):
        Calendar(week={0: ((time(12), time(8)),)})
    with pytest.raises(ValueError, match="overlap"):
        Calendar(week={0: ((time(13), time(17)), (time(8), time(12)))})  # unsorted
    with pytest.raises(ValueError, match="0 \\(Monday\\) to 6"):
        Calendar(week={"0": DEFAULT_WEEK[0]})
