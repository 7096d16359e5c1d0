"""Where a report's window ends by default, and which window holds the rejected leads."""

from __future__ import annotations

from datetime import timedelta

import attrs
from tests.reporting.conftest import AS_OF, T0

from leadroute.reporting import compute_report
from leadroute.reporting.history import window_end

WINDOW = timedelta(days=30)


def test_the_window_ends_now_when_the_store_is_active():
    """Activity inside the last window: the report is as of now."""
    now = T0 + timedelta(days=3)
    assert window_end(T0, now, WINDOW) == now


def test_a_store_of_the_past_is_reported_up_to_its_last_event(history):
    """A store whose last event is older than the window (the demo, months later) ends there."""
    now = T0 + timedelta(days=90)
    latest = history.latest()
    assert latest is not None and latest == T0 + timedelta(days=1)  # A's meeting
    assert history.window_end(now, WINDOW) == latest


def test_a_store_dated_ahead_is_reported_up_to_its_last_event(history):
    """A simulation dated after today is reported as of its own last event, not as empty."""
    assert window_end(T0, T0 - timedelta(days=400), WINDOW) == T0


def test_an_empty_store_ends_now():
    """Nothing stored: the window ends now."""
    assert window_end(None, T0, WINDOW) == T0


def test_rejected_rows_count_only_in_the_window_of_their_run(history, policy):
    """The last run's rejected leads count in a window holding its time, and in no other."""
    ran = attrs.evolve(history, problems_at=T0 - timedelta(hours=1))
    inside = compute_report(ran, policy, as_of=AS_OF, window=WINDOW)
    assert inside.summary.rejected == 2
    later = compute_report(ran, policy, as_of=T0 + timedelta(days=45), window=WINDOW)
    assert later.summary.rejected == 0
    earlier = compute_report(ran, policy, as_of=T0 - timedelta(days=2), window=WINDOW)
    assert earlier.summary.rejected == 0


def test_the_run_time_is_part_of_the_latest_event(history):
    """A run that only rejected leads still moves the store's last event."""
    ran = attrs.evolve(history, problems_at=T0 + timedelta(days=5))
    assert ran.latest() == T0 + timedelta(days=5)
