"""Property: over random teams and lead streams, nobody unavailable or capped gets a lead,
and every lead ends with an owner or in the fallback queue with a reason."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadroute.host import make_host
from leadroute.models import (
    AccountIndex,
    Availability,
    Capacity,
    DecisionStatus,
    Lead,
    LeaveWindow,
    Rep,
    RouteStep,
)
from leadroute.pipeline import Decided, Pipeline
from leadroute.policy import parse_policy
from leadroute.strategies import Ledger

POLICY = parse_policy(
    """
version: "prop"
regions: {NA: [US]}
pools:
  - {name: na, strategy: weighted, backup: bk}
routing:
  - {name: na, when: {region: NA}, pool: na}
fallback: {owner: ops, escalate_after: 2h}
"""
)
HOST = make_host(load_entrypoints=False)
START = datetime(2026, 11, 2, tzinfo=UTC)
ZONES = ("UTC", "America/Los_Angeles", "Europe/Berlin", "Asia/Tokyo")
HOURS = (None, {"mon-fri": "09:00-17:00"}, {"mon-sun": "00:00-12:00"})
caps = st.one_of(st.none(), st.integers(0, 3))


@st.composite
def reps(draw: st.DrawFn, rep_id: str, pools: tuple[str, ...]) -> Rep:
    leave_start = draw(st.integers(0, 72))
    leave = (
        (
            LeaveWindow(
                start=START + timedelta(hours=leave_start),
                end=START + timedelta(hours=leave_start + draw(st.integers(1, 48))),
            ),
        )
        if draw(st.booleans())
        else ()
    )
    paused_until = (
        START + timedelta(hours=draw(st.integers(0, 72))) if draw(st.booleans()) else None
    )
    return Rep(
        id=rep_id,
        pools=pools,
        active=draw(st.booleans()) or draw(st.booleans()),
        weight=draw(st.sampled_from((0.5, 1.0, 2.0))),
        open_leads=draw(st.integers(0, 2)),
        capacity=Capacity(
            max_open=draw(st.one_of(st.none(), st.integers(0, 6))),
            per_day=draw(caps),
            per_week=draw(st.one_of(st.none(), st.integers(0, 5))),
            per_type={"demo": n} if (n := draw(caps)) is not None else {},
        ),
        availability=Availability(
            timezone=draw(st.sampled_from(ZONES)),
            leave=leave,
            paused_until=paused_until,
            paused=draw(st.booleans()) and draw(st.booleans()) and paused_until is None,
            hours=draw(st.sampled_from(HOURS)) or {},
        ),
    )


@st.composite
def teams(draw: st.DrawFn) -> list[Rep]:
    size = draw(st.integers(1, 5))
    members = [draw(reps(f"r{i}", ("na",))) for i in range(size)]
    return [*members, draw(reps("bk", ())), Rep(id="ops")]


@st.composite
def streams(draw: st.DrawFn) -> list[tuple[Lead, datetime]]:
    count = draw(st.integers(1, 30))
    minutes = sorted(draw(st.lists(st.integers(0, 4 * 24 * 60), min_size=count, max_size=count)))
    return [
        (
            Lead(
                id=f"L{i}",
                email=f"l{i}@example.com",
                country=draw(st.sampled_from(("US", "US", "US", "FR"))),
                lead_type=draw(st.sampled_from(("demo", "quote"))),
                owner_id=draw(st.sampled_from(("", "", "", "r0", "bk"))),
            ),
            START + timedelta(minutes=m),
        )
        for i, m in enumerate(minutes)
    ]


def available(rep: Rep, at: datetime) -> bool:
    a = rep.availability
    paused = (a.paused_until is not None and a.paused_until > at) or (
        a.paused and a.paused_until is None
    )
    return rep.active and a.leave_at(at) is None and not paused


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(team=teams(), stream=streams())
def test_no_unavailable_or_capped_owner_and_nobody_unowned(team, stream):
    """Pool and backup owners are available and under every cap; fallbacks say why and when."""
    pipeline = Pipeline.build(
        HOST, POLICY, team, AccountIndex.build([]), assigned={}, ledger=Ledger({}, 0)
    )
    by_id = {r.id: r for r in team}
    open_load = Counter({r.id: r.open_leads for r in team})
    day: Counter[tuple[str, object]] = Counter()
    week: Counter[tuple[str, object]] = Counter()
    of_type: Counter[tuple[str, object, str]] = Counter()
    for lead, at in stream:
        outcome = pipeline.decide(lead, at)
        assert isinstance(outcome, Decided)
        d = outcome.decision
        owner = by_id[d.owner_id]
        if d.status == DecisionStatus.FALLBACK:
            assert (d.owner_id, d.queue) == ("ops", "unrouted")
            assert d.reason and d.escalate_at == at + timedelta(hours=2)
        else:
            assert d.owner_id and d.queue == ""
            assert available(owner, at), (d.step, d.owner_id)
        local = at.astimezone(ZoneInfo(owner.availability.timezone)).date()
        monday = local - timedelta(days=local.weekday())
        if d.step in (RouteStep.POOL, RouteStep.BACKUP):
            cap = owner.capacity
            assert cap.max_open is None or open_load[owner.id] < cap.max_open
            assert cap.per_day is None or day[owner.id, local] < cap.per_day
            assert cap.per_week is None or week[owner.id, monday] < cap.per_week
            limit = cap.per_type.get(lead.lead_type)
            assert limit is None or of_type[owner.id, local, lead.lead_type] < limit
        if d.step == RouteStep.POOL:
            assert available(owner, at)
            hours = owner.availability.working_hours()
            assert hours.is_open(at), "pools exclude off-shift reps by default"
        if d.step != RouteStep.CURRENT_OWNER:
            open_load[d.owner_id] += 1
            if d.status == DecisionStatus.ROUTED:
                day[d.owner_id, local] += 1
                week[d.owner_id, monday] += 1
                of_type[d.owner_id, local, lead.lead_type] += 1
