"""Tests for leadroute.worktime: working hours, holidays, DST and working-time arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from leadroute.worktime import WorkingHours, WorktimeError, _holiday_names, hours_for, parse_days

BERLIN_WEEK = {"mon-fri": "09:00-17:00"}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_default_calendar_is_always_open() -> None:
    """With no hours given, every instant is working time and durations add as clock time."""
    hours = WorkingHours()
    at = utc(2026, 12, 25, 3, 0)
    assert hours.is_open(at)
    assert hours.add(at, timedelta(hours=30)) == at + timedelta(hours=30)


def test_is_open_uses_the_local_clock() -> None:
    """18:40 UTC is 19:40 in Berlin in winter: after a 09:00-17:00 day."""
    hours = WorkingHours.from_spec(BERLIN_WEEK, timezone="Europe/Berlin")
    assert hours.is_open(utc(2026, 11, 23, 15, 59))
    assert not hours.is_open(utc(2026, 11, 23, 16, 0))
    assert hours.local_label(utc(2026, 11, 23, 18, 40)) == "Europe/Berlin 19:40"


def test_add_carries_over_the_weekend() -> None:
    """Four working hours from Friday 16:00 end Monday 12:00 on a 09:00-17:00 week."""
    hours = WorkingHours.from_spec(BERLIN_WEEK, timezone="Europe/Berlin")
    friday_4pm = utc(2026, 11, 27, 15, 0)
    assert hours.add(friday_4pm, timedelta(hours=4)) == utc(2026, 11, 30, 11, 0)


def test_next_open_from_a_saturday_is_monday_morning() -> None:
    """Outside hours, the next working instant is the start of the next shift."""
    hours = WorkingHours.from_spec(BERLIN_WEEK, timezone="Europe/Berlin")
    assert hours.next_open(utc(2026, 11, 28, 12, 0)) == utc(2026, 11, 30, 8, 0)
    inside = utc(2026, 11, 30, 10, 0)
    assert hours.next_open(inside) == inside


def test_public_holiday_of_the_calendars_country_is_closed() -> None:
    """Boxing Day closes a GB calendar but not a US one on the same hours."""
    boxing_day_noon = utc(2025, 12, 26, 12, 0)
    gb = WorkingHours.from_spec(
        {"mon-fri": "09:00-17:00"}, timezone="Europe/London", holidays_in="GB"
    )
    us = WorkingHours.from_spec(
        {"mon-fri": "09:00-17:00"}, timezone="Europe/London", holidays_in="US"
    )
    assert not gb.is_open(boxing_day_noon)
    assert us.is_open(boxing_day_noon)
    assert gb.holiday_name(date(2025, 12, 26))


def test_subdivision_holiday() -> None:
    """Epiphany is a holiday in Bavaria (DE-BY) but not in Berlin (DE-BE)."""
    epiphany = utc(2026, 1, 6, 10, 0)
    bavaria = WorkingHours.from_spec(BERLIN_WEEK, timezone="Europe/Berlin", holidays_in="DE-BY")
    berlin = WorkingHours.from_spec(BERLIN_WEEK, timezone="Europe/Berlin", holidays_in="DE-BE")
    assert not bavaria.is_open(epiphany)
    assert berlin.is_open(epiphany)


def test_shift_keeps_local_hours_across_dst() -> None:
    """A 09:00 Berlin shift starts at 07:00 UTC in summer and 08:00 UTC in winter."""
    hours = WorkingHours.from_spec(BERLIN_WEEK, timezone="Europe/Berlin")
    # Clocks went back on Sunday 2026-10-25.
    assert hours.next_open(utc(2026, 10, 23, 20, 0)) == utc(2026, 10, 26, 8, 0)
    assert hours.next_open(utc(2026, 10, 22, 20, 0)) == utc(2026, 10, 23, 7, 0)


def test_working_time_counts_real_hours_on_the_short_night() -> None:
    """On the night clocks go forward, a 00:00-24:00 day holds 23 real hours."""
    hours = WorkingHours.from_spec({"sun": "00:00-24:00"}, timezone="Europe/Berlin")
    start = utc(2026, 3, 28, 23, 0)  # Sunday 00:00 CET
    assert hours.add(start, timedelta(hours=23)) == utc(2026, 3, 29, 22, 0)
    # The 24th hour is not on that Sunday: it is a week later.
    assert hours.add(start, timedelta(hours=24)) == utc(2026, 4, 4, 23, 0)


def test_split_windows_in_one_day() -> None:
    """A lunch break does not count as working time."""
    hours = WorkingHours.from_spec({"mon-fri": "09:00-12:00, 13:00-17:00"}, timezone="UTC")
    assert hours.add(utc(2026, 11, 23, 11, 0), timedelta(hours=2)) == utc(2026, 11, 23, 14, 0)
    assert not hours.is_open(utc(2026, 11, 23, 12, 30))


def test_extra_closed_dates() -> None:
    """A company shutdown day is skipped like a holiday."""
    hours = WorkingHours.from_spec(
        {"mon-fri": "09:00-17:00"}, timezone="UTC", closed=[date(2026, 11, 23)]
    )
    assert hours.next_open(utc(2026, 11, 23, 10, 0)) == utc(2026, 11, 24, 9, 0)


def test_a_calendar_with_no_hours_says_so() -> None:
    """Asking for the next working instant of an empty week is an error, not a hang."""
    hours = WorkingHours.from_spec({"mon-sun": "off"}, timezone="UTC")
    with pytest.raises(WorktimeError, match="no working hours"):
        hours.next_open(utc(2026, 11, 23))


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ({"mon-fri": "9-17"}, "not a time range"),
        ({"mon": "17:00-09:00"}, "ends before it starts"),
        ({"mon": "09:00-12:00, 11:00-13:00"}, "overlapping"),
        ({"monday": "09:00-17:00"}, "days are mon"),
        ({"fri-mon": "09:00-17:00"}, "runs forwards"),
        ({"mon-fri": "09:00-17:00", "fri": "09:00-12:00"}, "fri is given twice"),
        ({"mon": "25:00-26:00"}, "not a time range"),
    ],
)
def test_bad_specs_name_the_problem(days: dict[str, str], message: str) -> None:
    """Each malformed spec is rejected with a message that says what is wrong."""
    with pytest.raises(WorktimeError, match=message):
        parse_days(days)


def test_unknown_zone_and_holiday_country_are_rejected() -> None:
    """A misspelt zone or an unsupported holiday country fails at load time."""
    with pytest.raises(WorktimeError, match="unknown time zone"):
        WorkingHours.from_spec(BERLIN_WEEK, timezone="Europe/Berlinn")
    with pytest.raises(WorktimeError, match="no public-holiday calendar"):
        WorkingHours.from_spec(BERLIN_WEEK, holidays_in="XX")
    with pytest.raises(WorktimeError, match="no subdivision"):
        WorkingHours.from_spec(BERLIN_WEEK, holidays_in="DE-ZZ")


def test_hours_for_is_cached_and_equal_to_from_spec():
    """The cached calendar is the one ``from_spec`` builds, and the same object on a repeat."""
    days = (("mon-fri", "09:00-17:00"),)
    first = hours_for("Europe/Berlin", days, "DE-BY")
    assert first == WorkingHours.from_spec(
        dict(days), timezone="Europe/Berlin", holidays_in="DE-BY"
    )
    assert hours_for("Europe/Berlin", days, "DE-BY") is first
    assert hours_for("UTC", None, "") == WorkingHours()


def test_holiday_names_are_built_once_per_region_and_year():
    """Asking a holiday's name twice builds the calendar once (it is on every lead's path)."""
    calendar = WorkingHours.from_spec(None, timezone="Europe/London", holidays_in="GB")
    assert calendar.holiday_name(date(2025, 12, 26)) == "Boxing Day"
    before = _holiday_names.cache_info().hits
    assert calendar.holiday_name(date(2025, 12, 25)) == "Christmas Day"
    assert calendar.holiday_name(date(2025, 12, 24)) == ""
    assert _holiday_names.cache_info().hits == before + 2


def test_periods_away_stop_the_clock_and_move_the_next_opening() -> None:
    """Leave cut out of the week: 4h from Tue 15:00 Berlin skips Wed-Thu away to Fri 11:00."""
    week = WorkingHours.from_spec(BERLIN_WEEK, timezone="Europe/Berlin")
    away = week.with_away([(utc(2026, 11, 3, 23, 0), utc(2026, 11, 5, 23, 0))])
    tuesday_3pm = utc(2026, 11, 3, 14, 0)
    assert away.add(tuesday_3pm, timedelta(hours=4)) == utc(2026, 11, 6, 10, 0)
    assert away.next_open(utc(2026, 11, 4, 9, 0)) == utc(2026, 11, 6, 8, 0)
    assert not away.is_open(utc(2026, 11, 4, 9, 0)) and week.is_open(utc(2026, 11, 4, 9, 0))


def test_a_period_away_inside_a_day_splits_its_window() -> None:
    """A pause from 11:00 to 13:00 local leaves 09:00-11:00 and 13:00-17:00 of that day."""
    week = WorkingHours.from_spec(BERLIN_WEEK, timezone="Europe/Berlin")
    paused = week.with_away([(utc(2026, 11, 2, 10, 0), utc(2026, 11, 2, 12, 0))])
    assert paused.add(utc(2026, 11, 2, 8, 0), timedelta(hours=3)) == utc(2026, 11, 2, 13, 0)


def test_nothing_counts_before_a_start() -> None:
    """A calendar that starts on Wednesday opens then, and says so."""
    week = WorkingHours.from_spec(BERLIN_WEEK, timezone="Europe/Berlin", holidays_in="DE")
    hire = week.with_away([], utc(2026, 11, 3, 23, 0))
    assert hire.next_open(utc(2026, 11, 2, 8, 0)) == utc(2026, 11, 4, 8, 0)
    assert hire.describe() == "Europe/Berlin, mon-fri 09:00-17:00, DE holidays, starts 2026-11-04"


def test_overlapping_periods_away_merge() -> None:
    """Two overlapping periods are one, so a calendar says each day away once."""
    week = WorkingHours.from_spec(BERLIN_WEEK, timezone="Europe/Berlin")
    merged = week.with_away(
        [
            (utc(2026, 11, 3, 23, 0), utc(2026, 11, 4, 23, 0)),
            (utc(2026, 11, 4, 12, 0), utc(2026, 11, 5, 23, 0)),
        ]
    )
    assert merged.away == ((utc(2026, 11, 3, 23, 0), utc(2026, 11, 5, 23, 0)),)
    assert merged.describe().endswith("away 2026-11-04..2026-11-05")


def test_describe_shows_runs_of_days_and_around_the_clock() -> None:
    """Equal days are a run, closed days are left out; no hours is around the clock."""
    hours = WorkingHours.from_spec(
        {"mon-thu": "09:00-17:00", "fri": "09:00-13:00", "sat": "10:00-12:00,13:00-24:00"},
        timezone="Asia/Tokyo",
    )
    assert hours.describe() == (
        "Asia/Tokyo, mon-thu 09:00-17:00; fri 09:00-13:00; sat 10:00-12:00,13:00-24:00"
    )
    assert WorkingHours().describe() == "UTC, around the clock"
    assert WorkingHours().is_wall_clock and not hours.is_wall_clock
