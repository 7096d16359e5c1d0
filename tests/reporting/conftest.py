"""A small fixed routing history whose every metric is checked by hand in the tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadroute.models import (
    Capacity,
    Decision,
    DecisionStatus,
    InputProblem,
    Outcome,
    OutcomeKind,
    Rep,
    RouteStep,
    decision_id_for,
)
from leadroute.policy import Policy, parse_policy
from leadroute.reporting.history import History

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
AS_OF = T0 + timedelta(days=2)

POLICY = """
version: "r1"
pools:
  - {name: p1, strategy: round_robin}
routing:
  - {name: na, when: {country: US}, pool: p1}
fallback: {owner: q, queue: unrouted, escalate_after: 4h}
validation: {sources: [web]}
"""


def decision(
    lead_id: str,
    owner: str,
    *,
    created_before: timedelta | None,
    lead_type: str,
    source: str,
    step: RouteStep = RouteStep.POOL,
    at: datetime = T0,
    epoch: int = 1,
) -> Decision:
    """A decision taken at ``at`` for a lead created ``created_before`` earlier."""
    features = {"lead_type": lead_type, "source": source}
    # Demos carry a 15-minute SLA deadline, as a lead type would set it; others use the
    # reporting default (1 h).
    due = at + timedelta(minutes=15) if lead_type == "demo" else None
    if created_before is not None:
        features["created_at"] = str(at - created_before)
    fallback = step == RouteStep.FALLBACK
    return Decision(
        id=decision_id_for(lead_id, epoch),
        lead_id=lead_id,
        epoch=epoch,
        status=DecisionStatus.FALLBACK if fallback else DecisionStatus.ROUTED,
        owner_id=owner,
        queue="unrouted" if fallback else "",
        step=step,
        route_path=("rule:none", "fallback:unrouted") if fallback else ("rule:na", "pool:p1"),
        rule="na" if step == RouteStep.POOL else "",
        pool="p1" if step == RouteStep.POOL else "",
        reason="no rule matched" if fallback else "round robin",
        policy_version="r1",
        decided_at=at,
        escalate_at=at + timedelta(hours=4) if fallback else None,
        features=features,
        lead_type=lead_type,
        sla_due_at=due,
    )


def outcome(kind: OutcomeKind, lead_id: str, rep_id: str, after: timedelta) -> Outcome:
    """An outcome ``after`` the decision time T0."""
    return Outcome(kind=kind, lead_id=lead_id, rep_id=rep_id, at=T0 + after, source="test")


@pytest.fixture
def policy() -> Policy:
    """One round-robin pool, the default 1 h first-touch SLA, 'web' the only known source."""
    return parse_policy(POLICY)


@pytest.fixture
def history() -> History:
    """Five leads decided at T0, one decided 40 days earlier, two rejected rows.

    A demo, 30 s to owner, touched at 10 min (SLA met), meeting booked, accepted by r1.
    B contact, 2 min to owner, touched at 45 min (SLA met, but idle past 30 min).
    C contact from 'event', 10 s to owner, never touched (breached, idle).
    D demo, fallback queue, 5 min to owner, empty source, never touched.
    E kept its current owner r2 (no time to owner), touched at 5 min, declined by r2.
    H routed 40 days ago: outside a 30-day window.
    """
    m = timedelta(minutes=1)
    decisions = (
        decision("A", "r1", created_before=timedelta(seconds=30), lead_type="demo", source="web"),
        decision("B", "r2", created_before=2 * m, lead_type="contact", source="web"),
        decision(
            "C", "r1", created_before=timedelta(seconds=10), lead_type="contact", source="event"
        ),
        decision(
            "D", "q", created_before=5 * m, lead_type="demo", source="", step=RouteStep.FALLBACK
        ),
        decision(
            "E",
            "r2",
            created_before=None,
            lead_type="contact",
            source="web",
            step=RouteStep.CURRENT_OWNER,
        ),
        decision(
            "H", "r1", created_before=m, lead_type="demo", source="web", at=T0 - timedelta(days=40)
        ),
    )
    outcomes = (
        outcome(OutcomeKind.ACCEPTED, "A", "r1", 1 * m),
        outcome(OutcomeKind.FIRST_TOUCH, "A", "r1", 10 * m),
        outcome(OutcomeKind.MEETING_BOOKED, "A", "r1", timedelta(days=1)),
        outcome(OutcomeKind.FIRST_TOUCH, "B", "r2", 45 * m),
        outcome(OutcomeKind.REJECTED, "E", "r2", 1 * m),
        outcome(OutcomeKind.FIRST_TOUCH, "E", "", 5 * m),
    )
    problems = (
        InputProblem(
            file="leads.csv",
            line=7,
            record_id="F",
            kind="lead",
            field="email",
            code="MISSING_FIELD",
            message="required field 'email' is empty",
        ),
        InputProblem(
            file="leads.csv",
            line=9,
            record_id="A",
            kind="lead",
            field="id",
            code="DUPLICATE_ID",
            message="id 'A' already appeared earlier in the file",
        ),
        InputProblem(
            file="reps.csv",
            line=3,
            record_id="r9",
            kind="rep",
            field="capacity",
            code="BAD_NUMBER",
            message="capacity 'x' is not a number",
        ),
    )
    return History(decisions=decisions, outcomes=outcomes, problems=problems)


@pytest.fixture
def reps() -> list[Rep]:
    """r1 (3 open of 10) and r2 (1 open of 4) in pool p1; q owns the fallback queue."""
    return [
        Rep(id="r1", name="Ann", pools=("p1",), open_leads=3, capacity=Capacity(max_open=10)),
        Rep(id="r2", name="Bo", pools=("p1",), open_leads=1, capacity=Capacity(max_open=4)),
        Rep(id="q", name="Queue"),
    ]
