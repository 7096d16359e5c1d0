"""The exception report on the fixed history: who needs a human, why, and what to do."""

from __future__ import annotations

from datetime import timedelta

from tests.reporting.conftest import AS_OF, T0

from leadroute.reporting.exceptions import exception_rows
from leadroute.reporting.metrics import compute_report


def rows_for(history, policy, as_of=AS_OF):
    """Exception rows over the 30-day window as of ``as_of``."""
    report = compute_report(history, policy, as_of=as_of, window=timedelta(days=30))
    return exception_rows(report.facts, history.problems, policy, as_of)


def test_every_reason_is_listed_in_order(history, policy):
    """Rejected, duplicate, fallback, declined, invalid source, then idle leads; rep rows skipped."""
    rows = rows_for(history, policy)
    assert [(r.reason_code, r.lead_id) for r in rows] == [
        ("BLANK_OWNER", "F"),
        ("DUPLICATE", "A"),
        ("FALLBACK_OWNER", "D"),
        ("REP_REJECTED", "E"),
        ("INVALID_SOURCE", "C"),
        ("INVALID_SOURCE", "D"),
        ("NO_ACTIVITY", "C"),
        ("NO_ACTIVITY", "D"),
    ]


def test_rows_carry_reason_and_a_concrete_action(history, policy):
    """Each row says what is wrong and what to do, naming the field, queue owner or deadline."""
    rows = {(r.reason_code, r.lead_id): r for r in rows_for(history, policy)}
    blank = rows[("BLANK_OWNER", "F")]
    assert (blank.where, blank.owner_id) == ("leads.csv:7", "")
    assert "MISSING_FIELD" in blank.reason and "fill in email" in blank.action
    fallback = rows[("FALLBACK_OWNER", "D")]
    assert (
        "unrouted" in fallback.reason
        and "q assigns it by hand before 2026-11-02 13:00" in fallback.action
    )
    assert "'event'" in rows[("INVALID_SOURCE", "C")].reason
    idle = rows[("NO_ACTIVITY", "C")]
    assert idle.reason == "no activity 2.0 d after assignment to r1 (SLA 1h passed)"
    assert "reassign" in idle.action and idle.since == T0


def test_no_activity_waits_for_its_threshold(history, policy):
    """Twenty minutes in, nobody is idle yet (the threshold is 30 minutes)."""
    rows = rows_for(history, policy, as_of=T0 + timedelta(minutes=20))
    assert not [r for r in rows if r.reason_code == "NO_ACTIVITY"]
    later = rows_for(history, policy, as_of=T0 + timedelta(minutes=40))
    [c_row] = [r for r in later if r.reason_code == "NO_ACTIVITY" and r.lead_id == "C"]
    assert "remind r1" in c_row.action  # inside C's 1 h SLA: a reminder, not a reassignment


def test_unresolved_effects_come_right_after_rejected_leads(history, policy):
    """Dead effects and refused owners are listed after blank owners, each with its command."""
    from leadroute.store import EffectFailure

    failures = [
        EffectFailure(
            idem_key="k1",
            decision_id="d1",
            lead_id="B",
            kind="owner_write",
            owner_id="r1",
            detail="VALIDATION_ERROR: bad status",
        ),
        EffectFailure(
            idem_key="k2",
            decision_id="d2",
            lead_id="C",
            kind="owner_write",
            owner_id="r9",
            detail="inactive",
            reroute=True,
        ),
    ]
    report = compute_report(history, policy, as_of=AS_OF, window=timedelta(days=30))
    rows = exception_rows(report.facts, history.problems, policy, AS_OF, failures=failures)
    assert [(r.reason_code, r.lead_id) for r in rows[:3]] == [
        ("BLANK_OWNER", "F"),
        ("OWNER_REFUSED", "C"),
        ("EFFECT_FAILED", "B"),
    ]
    refused, dead = rows[1], rows[2]
    assert refused.owner_id == "r9" and "reactivate r9" in refused.action
    assert "relay --retry-dead --lead B" in dead.action and "bad status" in dead.reason
