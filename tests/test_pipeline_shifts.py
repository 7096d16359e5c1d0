"""The pipeline with shifts and stacked caps: follow the sun, deferred SLA clocks, room, fallback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.conftest import lead

from leadroute.errors import UserInputError
from leadroute.models import Availability, Capacity, DecisionStatus, Rep, RouteStep
from leadroute.pipeline import Decided, Pending
from leadroute.policy import parse_policy

SHIFT_POLICY = """
version: "shifts"
regions: {NA: [US]}
pools:
  - {name: emea, strategy: round_robin, out_of_hours: follow_the_sun, on_shift_pool: apac}
  - {name: apac, strategy: round_robin}
  - {name: na, strategy: round_robin, out_of_hours: defer}
routing:
  - {name: na, when: {region: NA}, pool: na}
  - {name: rest, pool: emea}
fallback: {owner: ops, escalate_after: 4h}
"""
HOURS = {"mon-fri": "09:00-17:00"}
MONDAY_EVENING = datetime(2026, 11, 2, 19, tzinfo=UTC)  # 20:00 Berlin, Tue 06:00 Sydney


def shift(rep_id: str, pool: str, zone: str, **kw: object) -> Rep:
    return Rep(
        id=rep_id, pools=(pool,), availability=Availability(timezone=zone, hours=HOURS), **kw
    )  # type: ignore[arg-type]


def team() -> list[Rep]:
    return [
        shift("berlin", "emea", "Europe/Berlin"),
        shift("sydney", "apac", "Australia/Sydney"),
        shift("austin", "na", "America/Chicago"),
        Rep(id="ops"),
    ]


def decide(pipeline, item, at):
    outcome = pipeline.decide(item, at)
    assert isinstance(outcome, Decided)
    return outcome.decision


def test_follow_the_sun_routes_to_the_on_shift_pool(make_pipeline):
    """When every EMEA rep is off shift, the lead goes to the APAC pool that is on shift."""
    pipeline = make_pipeline(team(), policy=parse_policy(SHIFT_POLICY))
    sydney_morning = datetime(2026, 11, 2, 23, tzinfo=UTC)  # Tue 10:00 Sydney
    d = decide(pipeline, lead("L1", country="FR"), sydney_morning)
    assert (d.owner_id, d.pool) == ("sydney", "apac")
    assert "follow_the_sun:apac" in d.route_path
    assert [f"{e.code} {e.detail}" for e in d.exclusions] == ["OUT_OF_HOURS Europe/Berlin 00:00"]
    assert d.sla_starts_at is None


def test_follow_the_sun_with_nobody_on_shift_falls_back_with_the_reason(make_pipeline):
    """Off shift everywhere: the fallback queue gets it, with both pools' exclusions."""
    pipeline = make_pipeline(team(), policy=parse_policy(SHIFT_POLICY))
    d = decide(pipeline, lead("L1", country="FR"), MONDAY_EVENING)
    assert (d.status, d.owner_id) == (DecisionStatus.FALLBACK, "ops")
    assert {e.rep_id: e.code for e in d.exclusions} == {
        "berlin": "OUT_OF_HOURS",
        "sydney": "OUT_OF_HOURS",
    }
    assert d.escalate_at == MONDAY_EVENING + timedelta(hours=4)


def test_defer_assigns_and_starts_the_clock_at_the_next_working_hour(make_pipeline):
    """``out_of_hours: defer`` keeps an off-shift rep eligible; the SLA starts at 09:00 local."""
    pipeline = make_pipeline(team(), policy=parse_policy(SHIFT_POLICY))
    friday_night = datetime(2026, 11, 7, 3, tzinfo=UTC)  # Fri 21:00 in Chicago
    d = decide(pipeline, lead("L1", country="US"), friday_night)
    assert (d.owner_id, d.step) == ("austin", RouteStep.POOL)
    assert d.exclusions == ()
    assert d.sla_starts_at == datetime(2026, 11, 9, 15, tzinfo=UTC)  # Monday 09:00 CST


def test_on_shift_owner_has_no_deferred_clock(make_pipeline):
    """A lead decided inside the owner's hours starts its clock at the decision."""
    pipeline = make_pipeline(team(), policy=parse_policy(SHIFT_POLICY))
    d = decide(pipeline, lead("L1", country="US"), datetime(2026, 11, 2, 16, tzinfo=UTC))
    assert d.owner_id == "austin" and d.sla_starts_at is None


def test_room_is_the_tightest_stacked_cap(make_pipeline):
    """The solver's room is min(open cap - open, day cap - today, week cap - this week)."""
    reps = [
        Rep(id="a", pools=("na",), open_leads=2, capacity=Capacity(max_open=10, per_day=3)),
        Rep(id="b", pools=("na",), capacity=Capacity(per_week=5)),
        Rep(id="c", pools=("na",), capacity=Capacity(max_open=4), open_leads=3),
        Rep(id="d", pools=("na",)),
        Rep(id="ops"),
    ]
    pipeline = make_pipeline(
        reps, policy=parse_policy(SHIFT_POLICY.replace(", out_of_hours: defer", ""))
    )
    at = datetime(2026, 11, 4, 12, tzinfo=UTC)
    pipeline.usage.add("a", at, "demo", 1.0)
    pipeline.usage.add("b", at - timedelta(days=1), "demo", 1.0)
    pipeline.usage.add("b", at - timedelta(days=3), "demo", 1.0)  # last week's Sunday
    room = pipeline.room(at)
    assert room == {"a": 2, "b": 4, "c": 1, "d": None, "ops": None}
    assert pipeline.room()["a"] == 8  # without a time only open leads count


def test_batch_choice_over_a_type_cap_goes_to_fallback(make_pipeline):
    """The solver cannot see per-type caps: ``finish`` re-checks and sends the lead on, with why."""
    reps = [
        Rep(id="a", pools=("na",), capacity=Capacity(per_type={"demo": 1})),
        Rep(id="ops"),
    ]
    pipeline = make_pipeline(reps, policy=parse_policy(SHIFT_POLICY))
    at = datetime(2026, 11, 2, 16, tzinfo=UTC)
    first, second = (pipeline.prepare(lead(f"L{i}", lead_type="demo"), at) for i in (1, 2))
    assert isinstance(first, Pending) and isinstance(second, Pending)
    assert pipeline.finish(first, "a").decision.owner_id == "a"
    d = pipeline.finish(second, "a").decision
    assert (d.status, d.owner_id) == (DecisionStatus.FALLBACK, "ops")
    assert "over a cap (TYPE_CAP)" in d.reason


def test_everyone_full_goes_to_fallback_with_the_reason(make_pipeline):
    """A pool where every rep is at a daily cap sends the lead to the fallback, saying so."""
    reps = [
        Rep(id="a", pools=("na",), capacity=Capacity(per_day=1)),
        Rep(id="b", pools=("na",), capacity=Capacity(per_day=1)),
        Rep(id="ops"),
    ]
    pipeline = make_pipeline(reps, policy=parse_policy(SHIFT_POLICY))
    at = datetime(2026, 11, 2, 16, tzinfo=UTC)
    owners = [decide(pipeline, lead(f"L{i}"), at) for i in range(3)]
    assert sorted(d.owner_id for d in owners[:2]) == ["a", "b"]
    last = owners[2]
    assert (last.status, last.queue, last.owner_id) == (DecisionStatus.FALLBACK, "unrouted", "ops")
    assert last.reason == "no eligible rep in pool na (2 DAILY_CAP)"
    assert last.escalate_at is not None


def test_a_rep_with_an_unreadable_calendar_stops_before_any_lead(make_pipeline):
    """A bad zone or hours on a rep built in code is one error naming the rep and origin."""
    bad = Rep(
        id="x",
        origin="crm:users/7",
        availability=Availability(timezone="Mars/Olympus"),
    )
    with pytest.raises(UserInputError, match=r"rep 'x' \(crm:users/7\): unknown time zone"):
        make_pipeline([bad, Rep(id="ops")], policy=parse_policy(SHIFT_POLICY))
    odd_hours = Rep(id="y", availability=Availability(hours={"weekdays": "9-5"}))
    with pytest.raises(UserInputError, match="rep 'y': "):
        make_pipeline([odd_hours, Rep(id="ops")], policy=parse_policy(SHIFT_POLICY))


def test_the_sla_deadline_counts_from_the_deferred_start(make_pipeline):
    """A 1h demo SLA on a lead deferred to Monday 09:00 is due Monday 10:00, not Friday night."""
    text = SHIFT_POLICY + "lead_types:\n  types:\n    - {name: demo, sla: 1h}\n"
    pipeline = make_pipeline(team(), policy=parse_policy(text))
    friday_night = datetime(2026, 11, 7, 3, tzinfo=UTC)  # Fri 21:00 in Chicago
    d = decide(pipeline, lead("L1", country="US", lead_type="demo"), friday_night)
    assert d.sla_starts_at == datetime(2026, 11, 9, 15, tzinfo=UTC)
    assert d.sla_due_at == datetime(2026, 11, 9, 16, tzinfo=UTC)


# --------------------------------------------------------------------------- whoever starts first

EARLIEST_POLICY = """
version: "earliest"
pools:
  - {name: global, strategy: round_robin, backup: ldn, defer: earliest_available}
routing:
  - {name: all, pool: global}
fallback: {owner: ops, escalate_after: 4h}
lead_types:
  types: [{name: demo, sla: 1h}]
"""
SUNDAY_NIGHT = datetime(2026, 12, 27, 22, tzinfo=UTC)  # Monday the 28th: UK bank holiday only


def day_team(**berlin: object) -> list[Rep]:
    def member(rep_id: str, zone: str, country: str, **kw: object) -> Rep:
        availability = Availability(timezone=zone, hours=HOURS, holidays=country)
        return Rep(id=rep_id, pools=("global",), availability=availability, **kw)  # type: ignore[arg-type]

    return [
        member("ber", "Europe/Berlin", "DE", **berlin),
        member("ldn", "Europe/London", "GB"),
        member("ny", "America/New_York", "US"),
        Rep(id="ops"),
    ]


def test_earliest_available_takes_whoever_starts_first(make_pipeline):
    """Sunday night, nobody on shift: Berlin starts Monday 09:00 CET (08:00 UTC), before New
    York (14:00 UTC); London's Monday is a bank holiday, so its backup rep would be wrong.
    The SLA clock starts when Berlin does."""
    pipeline = make_pipeline(day_team(), policy=parse_policy(EARLIEST_POLICY))
    d = decide(pipeline, lead("L1", lead_type="demo"), SUNDAY_NIGHT)
    assert (d.owner_id, d.step, d.pool) == ("ber", RouteStep.POOL, "global")
    assert "defer:earliest_available:global" in d.route_path
    assert d.sla_starts_at == datetime(2026, 12, 28, 8, tzinfo=UTC)
    assert d.sla_due_at == datetime(2026, 12, 28, 9, tzinfo=UTC)
    assert d.reason.startswith("nobody on shift with room; earliest available in pool global: ")
    assert "ber starts Mon 2026-12-28 09:00 Europe/Berlin" in d.reason


def test_earliest_available_needs_room_on_the_day_it_starts(make_pipeline):
    """A Berlin rep whose Monday is already full is passed over for New York's start."""
    team = day_team(capacity=Capacity(per_day=1))
    pipeline = make_pipeline(team, policy=parse_policy(EARLIEST_POLICY))
    pipeline.usage.add("ber", datetime(2026, 12, 28, 8, tzinfo=UTC), "demo", 1.0)
    d = decide(pipeline, lead("L1", lead_type="demo"), SUNDAY_NIGHT)
    assert d.owner_id == "ny"
    assert d.sla_starts_at == datetime(2026, 12, 28, 14, tzinfo=UTC)  # 09:00 EST
    # The lead counts on New York's Monday, the day its clock starts.
    assert pipeline.usage.day("ny", datetime(2026, 12, 28, 15, tzinfo=UTC)) == 1.0


def test_earliest_available_prefers_members_on_shift(make_pipeline):
    """While someone is on shift they take the lead by the strategy, the clock running now."""
    pipeline = make_pipeline(day_team(), policy=parse_policy(EARLIEST_POLICY))
    tuesday_noon_utc = datetime(2026, 12, 29, 12, tzinfo=UTC)  # Berlin 13:00, London 12:00
    d = decide(pipeline, lead("L1"), tuesday_noon_utc)
    assert d.owner_id in ("ber", "ldn") and d.sla_starts_at is None
    assert not any(p.startswith("defer:") for p in d.route_path)


def test_without_earliest_available_the_backup_stands_in(make_pipeline):
    """The default (``defer: strategy`` under ``exclude``) keeps the fixed backup rep."""
    text = EARLIEST_POLICY.replace(", defer: earliest_available", "")
    pipeline = make_pipeline(day_team(), policy=parse_policy(text))
    d = decide(pipeline, lead("L1"), SUNDAY_NIGHT)
    assert (d.owner_id, d.step) == ("ldn", RouteStep.BACKUP)


CHAIN_POLICY = """
version: "chain"
pools:
  - name: emea
    out_of_hours: follow_the_sun
    on_shift_pool: apac
    defer: earliest_available
  - {name: apac, out_of_hours: follow_the_sun, on_shift_pool: amer}
  - {name: amer, out_of_hours: follow_the_sun, on_shift_pool: emea}
routing:
  - {name: rest, pool: emea}
fallback: {owner: ops, escalate_after: 4h}
"""


def chain_team(**berlin: object) -> list[Rep]:
    return [
        shift("berlin", "emea", "Europe/Berlin", **berlin),
        shift("tokyo", "apac", "Asia/Tokyo"),
        shift("newyork", "amer", "America/New_York"),
        Rep(id="ops"),
    ]


def test_follow_the_sun_chains_to_the_next_partner_when_the_home_team_is_full(make_pipeline):
    """Monday 15:30 UTC: Berlin is on shift but full, Tokyo is asleep, New York is on shift:
    the lead goes emea -> apac -> amer."""
    pipeline = make_pipeline(
        chain_team(capacity=Capacity(per_day=1)), policy=parse_policy(CHAIN_POLICY)
    )
    at = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)
    pipeline.usage.add("berlin", at, "", 1.0)
    d = decide(pipeline, lead("L1", country="FR"), at)
    assert (d.owner_id, d.pool) == ("newyork", "amer")
    assert [p for p in d.route_path if p.startswith("follow_the_sun")] == [
        "follow_the_sun:apac",
        "follow_the_sun:amer",
    ]
    assert {e.rep_id: e.code for e in d.exclusions} == {
        "berlin": "DAILY_CAP",
        "tokyo": "OUT_OF_HOURS",
    }


def test_a_chain_with_nobody_on_shift_ends_at_the_home_teams_earliest_starter(make_pipeline):
    """Saturday: every team is off; the chain comes back round, and the home team's earliest
    starter (Berlin, Monday 09:00 CET) takes it, though Tokyo's Monday starts sooner."""
    pipeline = make_pipeline(chain_team(), policy=parse_policy(CHAIN_POLICY))
    d = decide(pipeline, lead("L1", country="FR"), datetime(2026, 11, 7, 12, tzinfo=UTC))
    assert (d.owner_id, d.pool) == ("berlin", "emea")
    assert d.route_path[-3:-1] == ("follow_the_sun:amer", "defer:earliest_available:emea")
    assert d.sla_starts_at == datetime(2026, 11, 9, 8, tzinfo=UTC)
