"""Availability exclusions: inactive, leave, pause, working hours, public holidays, DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.conftest import AT, policy_from

from leadroute.context import RoutingContext
from leadroute.host import PluginHost
from leadroute.models import Availability, ExclusionCode, Lead, LeaveWindow, Rep

WEEKDAYS = {"mon-fri": "09:00-17:00"}


def excluded(host: PluginHost, rep: Rep, at: datetime, constraints=("hours",)) -> list[str]:
    """``CODE detail`` for every exclusion the built-ins raise for a rep at ``at``."""
    ctx = RoutingContext(at=at, policy=policy_from(), loads={}, constraints=constraints)
    return [f"{e.code} {e.detail}" for e in host.exclude_rep(Lead(id="L"), rep, ctx)]


def shift_rep(rep_id: str = "r", **availability: object) -> Rep:
    return Rep(id=rep_id, availability=Availability(**availability))  # type: ignore[arg-type]


def test_inactive_rep_is_excluded(host):
    """An inactive user is excluded with REP_INACTIVE."""
    assert excluded(host, Rep(id="r", active=False), AT) == ["REP_INACTIVE user is inactive"]


def test_leave_names_the_last_day_away_in_the_reps_zone(host):
    """ON_LEAVE says the last local day of the leave (``until 2026-12-02``)."""
    zone_midnight = datetime(2026, 12, 2, 23, tzinfo=UTC)  # Berlin's midnight before the 3rd
    rep = shift_rep(
        timezone="Europe/Berlin",
        leave=(LeaveWindow(start=datetime(2026, 11, 20, 23, tzinfo=UTC), end=zone_midnight),),
    )
    assert excluded(host, rep, datetime(2026, 12, 1, 12, tzinfo=UTC)) == [
        "ON_LEAVE until 2026-12-02"
    ]
    assert excluded(host, rep, zone_midnight) == []


def test_pause_with_and_without_an_end(host):
    """A pause with an end excludes until then; an open-ended pause until resumed."""
    until = AT + timedelta(hours=2)
    assert excluded(host, shift_rep(paused_until=until), AT) == [
        f"PAUSED until {until.isoformat(timespec='minutes')}"
    ]
    assert excluded(host, shift_rep(paused_until=until), until) == []
    assert excluded(host, shift_rep(paused=True), AT) == ["PAUSED until resumed"]


def test_a_dated_pause_window_excludes_only_inside_it(host):
    """A pause from Wednesday 12:00 to Thursday 09:00 Berlin excludes with its local end."""
    window = LeaveWindow(
        start=datetime(2026, 11, 4, 11, tzinfo=UTC), end=datetime(2026, 11, 5, 8, tzinfo=UTC)
    )
    rep = shift_rep(timezone="Europe/Berlin", pauses=(window,))
    assert excluded(host, rep, datetime(2026, 11, 4, 10, 59, tzinfo=UTC)) == []
    assert excluded(host, rep, datetime(2026, 11, 4, 11, tzinfo=UTC)) == [
        "PAUSED until 2026-11-05 09:00 Europe/Berlin"
    ]
    assert excluded(host, rep, window.end) == []


def test_a_new_hire_is_excluded_until_their_start_date(host):
    """Before their first day a rep is NOT_STARTED (at every step, hours or not)."""
    starts = datetime(2026, 11, 3, 23, tzinfo=UTC)  # Wed 4 Nov, Berlin's midnight
    rep = shift_rep(timezone="Europe/Berlin", starts_at=starts)
    assert excluded(host, rep, starts - timedelta(minutes=1), constraints=()) == [
        f"{ExclusionCode.NOT_STARTED} starts 2026-11-04"
    ]
    assert excluded(host, rep, starts, constraints=()) == []


def test_out_of_hours_shows_the_reps_local_clock(host):
    """A lead at 19:40 Berlin time excludes a 09:00-17:00 Berlin rep with their local time."""
    rep = shift_rep(timezone="Europe/Berlin", hours=WEEKDAYS)
    evening = datetime(2026, 11, 2, 18, 40, tzinfo=UTC)  # Monday, 19:40 CET
    assert excluded(host, rep, evening) == ["OUT_OF_HOURS Europe/Berlin 19:40"]
    assert excluded(host, rep, datetime(2026, 11, 2, 9, tzinfo=UTC)) == []


def test_hours_are_enforced_only_where_the_step_asks(host):
    """Without ``hours`` in the constraints (defer, account owner), an off-shift rep stays."""
    rep = shift_rep(timezone="Europe/Berlin", hours=WEEKDAYS)
    assert excluded(host, rep, datetime(2026, 11, 2, 22, tzinfo=UTC), constraints=()) == []


def test_holiday_in_one_reps_country_only(host):
    """Boxing Day closes the GB rep (HOLIDAY GB Boxing Day) but not the US rep."""
    friday = datetime(2025, 12, 26, 15, tzinfo=UTC)  # 15:00 London, 10:00 New York
    gb = shift_rep("gb", timezone="Europe/London", hours=WEEKDAYS, holidays="GB")
    us = shift_rep("us", timezone="America/New_York", hours=WEEKDAYS, holidays="US")
    assert excluded(host, gb, friday) == ["HOLIDAY GB Boxing Day"]
    assert excluded(host, us, friday) == []


def test_holiday_applies_to_a_rep_without_hours(host):
    """A rep who works around the clock still does not work their country's holidays."""
    rep = shift_rep(holidays="GB", timezone="Europe/London")
    assert excluded(host, rep, datetime(2025, 12, 26, 3, tzinfo=UTC)) == ["HOLIDAY GB Boxing Day"]


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # Friday before the change: 07:30 UTC is 09:30 CEST, on shift.
        (datetime(2026, 10, 23, 7, 30, tzinfo=UTC), []),
        # Monday after clocks went back: 07:30 UTC is 08:30 CET, before the shift.
        (datetime(2026, 10, 26, 7, 30, tzinfo=UTC), ["OUT_OF_HOURS Europe/Berlin 08:30"]),
        # And 08:30 UTC is 09:30 CET: on shift again.
        (datetime(2026, 10, 26, 8, 30, tzinfo=UTC), []),
    ],
)
def test_working_hours_follow_a_dst_change(host, at, expected):
    """The same UTC instant is on shift before the DST change and off shift after it."""
    rep = shift_rep(timezone="Europe/Berlin", hours=WEEKDAYS)
    assert excluded(host, rep, at) == expected


def test_every_availability_code_is_an_exclusion_code():
    """The codes this module raises are stable ``ExclusionCode`` members."""
    assert {"REP_INACTIVE", "ON_LEAVE", "PAUSED", "OUT_OF_HOURS", "HOLIDAY"} <= {
        c.value for c in ExclusionCode
    }
