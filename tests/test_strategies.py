"""The rotation ledger."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadroute.models import Availability, Candidate, Capacity, Lead, LeaveWindow, Rep
from leadroute.pipeline import Decided, Pipeline
from leadroute.policy import Strategy, parse_policy
from leadroute.store import LedgerEntry
from leadroute.strategies import Ledger, decayed_level, rank, share_factors


def test_take_turn_advances_the_global_sequence():
    """Each turn gets the next sequence number, across pools, and counts the rep's leads."""
    ledger = Ledger({("p", "a"): LedgerEntry(pool="p", rep_id="a", assigned=4, last_seq=10)}, 10)
    first = ledger.take_turn("p", "a")
    second = ledger.take_turn("q", "b")
    assert (first.seq, first.prior_seq, second.seq, second.prior_seq) == (11, 10, 12, 0)
    assert (ledger.entry("p", "a").assigned, ledger.entry("p", "a").last_seq) == (5, 11)
    assert (ledger.entry("q", "b").assigned, ledger.entry("q", "b").last_seq) == (1, 12)
    assert ledger.entry("p", "zzz").last_seq == 0
    assert ledger.sequence == 12


# --------------------------------------------------------------------------- fair shares

WEIGHTED_POLICY = """
version: "fair"
regions: {NA: [US]}
pools:
  - {name: na, strategy: weighted, half_life: 7d}
routing:
  - {name: na, when: {region: NA}, pool: na}
fallback: {owner: ops}
"""

START = datetime(2026, 11, 2, 8, tzinfo=UTC)
PER_DAY = 40


def _team(leave: tuple[LeaveWindow, ...] = ()) -> list[Rep]:
    return [
        Rep(id="a", pools=("na",)),
        Rep(id="b", pools=("na",)),
        Rep(id="c", pools=("na",), weight=2.0, availability=Availability(leave=leave)),
        Rep(id="d", pools=("na",)),
        Rep(id="ops"),
    ]


def _day(pipeline: Pipeline, day: int) -> Counter[str]:
    """Route one day's leads (every 15 minutes from 08:00 UTC) and count owners."""
    got: Counter[str] = Counter()
    for i in range(PER_DAY):
        at = START + timedelta(days=day, minutes=15 * i)
        outcome = pipeline.decide(Lead(id=f"D{day}-{i}", email="x@y.com", country="US"), at)
        assert isinstance(outcome, Decided)
        got[outcome.decision.owner_id] += 1
    return got


def test_no_burst_after_two_weeks_of_leave(make_pipeline):
    """A weight-2 rep back from 14 days of leave gets about 2/5 of the next day, not a burst."""
    leave = (LeaveWindow(start=START + timedelta(days=7), end=START + timedelta(days=21)),)
    pipeline = make_pipeline(_team(leave), policy=parse_policy(WEIGHTED_POLICY))
    for day in range(21):
        shares = _day(pipeline, day)
        if 7 <= day < 21:
            assert shares["c"] == 0
    back = _day(pipeline, 21)
    assert abs(back["c"] / PER_DAY - 2 / 5) <= 0.05, back
    # And the days after stay on weight too: no delayed catch-up either.
    later = _day(pipeline, 22)
    assert abs(later["c"] / PER_DAY - 2 / 5) <= 0.05, later


def test_without_the_floor_the_returning_rep_would_burst(make_pipeline):
    """The same history with levels taken raw (no floor) gives the returner far over 2/5."""
    leave = (LeaveWindow(start=START + timedelta(days=7), end=START + timedelta(days=21)),)
    pipeline = make_pipeline(_team(leave), policy=parse_policy(WEIGHTED_POLICY))
    for day in range(21):
        _day(pipeline, day)
    entries = {(e.pool, e.rep_id): e for e in pipeline.ledger.entries()}
    at = START + timedelta(days=21)
    half_life = timedelta(days=7)
    raw = {r: decayed_level(entries["na", r], at, half_life) for r in "abcd"}
    floored = pipeline.ledger.view("na", list("abcd"), pipeline.reps, at, half_life).levels
    # Raw, c sits dozens of leads below everyone: that gap is the burst the floor prevents.
    assert min(raw[r] for r in "abd") - raw["c"] > 5 * (1 / 2)
    assert min(floored[r] for r in "abd") - floored["c"] <= 1.0 + 1e-9


def test_a_new_rep_starts_at_the_team_level_and_nobody_resets(make_pipeline):
    """Adding a rep changes no one's ledger entry and gives the newcomer a quarter, not a burst."""
    reps = [r for r in _team() if r.id != "c"]
    pipeline = make_pipeline(reps, policy=parse_policy(WEIGHTED_POLICY))
    for day in range(5):
        _day(pipeline, day)
    before = {e.rep_id: e for e in pipeline.ledger.entries()}
    joined = make_pipeline(
        [*reps, Rep(id="e", pools=("na",))], policy=parse_policy(WEIGHTED_POLICY)
    )
    joined.ledger = pipeline.ledger
    assert {e.rep_id: e for e in joined.ledger.entries()} == before
    shares = _day(joined, 5)
    assert abs(shares["e"] / PER_DAY - 1 / 4) <= 0.05, shares


def test_levels_decay_by_half_each_half_life():
    """A level set a half-life ago counts half; one set later than ``at`` is not grown."""
    entry = LedgerEntry(pool="p", rep_id="a", assigned=3, last_seq=3, level=8.0, level_at=START)
    assert decayed_level(entry, START + timedelta(days=14), timedelta(days=7)) == 2.0
    assert decayed_level(entry, START - timedelta(days=1), timedelta(days=7)) == 8.0


def test_share_factors_are_the_weights_by_default():
    """Weights mean the split: caps do not change a rep's share unless the pool says so."""
    reps = [
        Rep(id="a", capacity=Capacity(per_day=16), weight=2.0),
        Rep(id="b", capacity=Capacity(per_day=10)),
    ]
    assert share_factors(reps) == {"a": 2.0, "b": 1.0}


def test_share_factors_use_weight_and_daily_capacity_when_asked():
    """``weight_x_daily_cap``: weight times daily cap (or weekly / 5); uncapped reps count as
    the median capacity."""
    reps = [
        Rep(id="a", capacity=Capacity(per_day=10)),
        Rep(id="b", capacity=Capacity(per_week=100), weight=0.5),
        Rep(id="c"),
    ]
    assert share_factors(reps, "weight_x_daily_cap") == {"a": 10.0, "b": 10.0, "c": 15.0}
    assert share_factors([Rep(id="x", weight=2.0)], "weight_x_daily_cap") == {"x": 2.0}


def test_ties_break_on_the_hash_not_on_creation_order():
    """Equal levels and fit: the winner depends on the lead, so no rep always wins ties."""
    reps = {r: Rep(id=r) for r in ("a", "b", "c")}
    ledger = Ledger({}, 0)
    winners = {
        rank(Strategy.WEIGHTED, "p", f"L{i}", [Candidate(rep_id=r) for r in reps], ledger, reps)[
            0
        ].rep_id
        for i in range(30)
    }
    assert winners == {"a", "b", "c"}


# --------------------------------------------------------------------------- member factors

_REPS = st.builds(
    lambda i, weight, per_day, per_week: Rep(
        id=f"r{i}",
        weight=weight,
        capacity=Capacity(per_day=per_day, per_week=per_week),
    ),
    st.integers(0, 7),
    st.sampled_from((0.5, 1.0, 2.0, 3.0)),
    st.none() | st.integers(1, 20),
    st.none() | st.integers(1, 100),
)


@settings(max_examples=200, deadline=None)
@given(
    team=st.lists(_REPS, min_size=1, max_size=8, unique_by=lambda r: r.id),
    members=st.lists(st.sampled_from([f"r{i}" for i in range(9)]), unique=True),
    picks=st.lists(st.integers(0, 7), min_size=1, max_size=5, unique=True),
    levels=st.lists(st.floats(0, 50), min_size=8, max_size=8),
)
def test_view_with_precomputed_member_factors_matches_computing_them(team, members, picks, levels):
    """Factors computed once over the members give the same view as computing them per lead,
    including contenders outside the members (the view then falls back to computing)."""
    reps = {r.id: r for r in team}
    contenders = [team[i % len(team)].id for i in picks]
    contenders = list(dict.fromkeys(contenders))
    entries = {
        ("p", r.id): LedgerEntry(
            pool="p", rep_id=r.id, assigned=1, last_seq=1, level=levels[i], level_at=START
        )
        for i, r in enumerate(team)
    }
    ledger = Ledger(entries, 1)
    at, half_life = START + timedelta(days=3), timedelta(days=7)
    cached = share_factors(reps[r] for r in members if r in reps)
    fast = ledger.view("p", contenders, reps, at, half_life, members, cached)
    slow = ledger.view("p", contenders, reps, at, half_life, members)
    assert fast == slow


CAPPED_SHARES = WEIGHTED_POLICY.replace("half_life: 7d", "half_life: 7d, share: weight_x_daily_cap")


def _single_rep_turn(reps: list[Rep], ledger: Ledger, make_pipeline) -> LedgerEntry:
    """One lead through a weighted pool where only ``a`` can win; the ledger entry it wrote."""
    pipeline = make_pipeline(reps, policy=parse_policy(CAPPED_SHARES))
    pipeline.ledger = ledger
    outcome = pipeline.decide(
        Lead(id=f"L{len(ledger.entries())}", email="x@y.com", country="US"), START
    )
    assert isinstance(outcome, Decided)
    assert outcome.decision.owner_id == "a"
    [turn] = outcome.turns
    assert (turn.pool, turn.rep_id) == ("na", "a")
    return ledger.entry("na", "a")


def test_member_factors_follow_reps_changed_or_added_between_runs(make_pipeline):
    """Share factors are cached per run: the next run sees a changed weight and a new member,
    even one who cannot take the lead (the uncapped default is the members' median cap)."""
    ledger = Ledger({}, 0)
    first = _single_rep_turn([Rep(id="a", pools=("na",)), Rep(id="ops")], ledger, make_pipeline)
    assert first.level == 1.0  # factor 1: weight 1, no cap among the members
    heavier = [Rep(id="a", pools=("na",), weight=4.0), Rep(id="ops")]
    second = _single_rep_turn(heavier, ledger, make_pipeline)
    assert second.level == pytest.approx(1.0 + 1 / 4)
    joined = [
        *heavier,
        Rep(id="b", pools=("na",), active=False, capacity=Capacity(per_day=10)),
    ]
    third = _single_rep_turn(joined, ledger, make_pipeline)
    assert third.level == pytest.approx(1.25 + 1 / 40)  # weight 4 x the median cap 10


@pytest.mark.parametrize("share", ["weight", "weight_x_daily_cap"])
def test_member_factors_are_share_factors_over_the_pool(make_pipeline, share):
    """The pipeline's cached factors are exactly ``share_factors`` over the pool's loaded
    members, on the pool's ``share``."""
    reps = [*_team(), Rep(id="e", pools=("na",), capacity=Capacity(per_day=6))]
    text = WEIGHTED_POLICY.replace("half_life: 7d", f"half_life: 7d, share: {share}")
    pipeline = make_pipeline(reps, policy=parse_policy(text))
    expected = share_factors((r for r in reps if "na" in r.pools), share)
    assert pipeline.member_factors("na") == expected
    assert pipeline.member_factors("na") is pipeline.member_factors("na")
    assert pipeline.member_factors("no-such-pool") == {}


def test_ranked_copies_every_field_of_a_candidate():
    """The cheap copy in ``rank`` equals ``attrs.evolve``: no field of Candidate is dropped."""
    import attrs

    from leadroute.models import FitContribution
    from leadroute.strategies import _ranked

    c = Candidate(
        rep_id="a",
        fit=1.25,
        load=3,
        capacity=9,
        contributions=(FitContribution(name="language", value=1.0),),
        rank=7,
        reason="old",
    )
    assert _ranked(c, 2, "new") == attrs.evolve(c, rank=2, reason="new")


# --------------------------------------------------------------------------- time away

WEEK_POLICY = """
version: "week"
pools:
  - {name: global, strategy: weighted}
routing:
  - {name: all, pool: global}
fallback: {owner: ops}
"""
THANKSGIVING_WEEK = datetime(2026, 11, 23, 8, tzinfo=UTC)  # Monday; Thursday the 26th is US-only
LEADS_PER_DAY = 60


def _week_team() -> list[Rep]:
    """Two US reps (Thanksgiving off together), one in London, two in Berlin: one of them on
    leave Tuesday and Wednesday. Weights 2, 1, 1, 1.5 and 1."""
    berlin_leave = LeaveWindow(  # Tue 24 and Wed 25 November, Berlin's midnights
        start=datetime(2026, 11, 23, 23, tzinfo=UTC), end=datetime(2026, 11, 25, 23, tzinfo=UTC)
    )

    def member(rep_id: str, zone: str, country: str, weight: float, **kw: object) -> Rep:
        availability = Availability(timezone=zone, holidays=country, **kw)  # type: ignore[arg-type]
        return Rep(id=rep_id, pools=("global",), weight=weight, availability=availability)

    return [
        member("us-1", "America/New_York", "US", 2.0),
        member("us-2", "America/Chicago", "US", 1.0),
        member("gb-1", "Europe/London", "GB", 1.0),
        member("de-1", "Europe/Berlin", "DE", 1.5),
        member("de-2", "Europe/Berlin", "DE", 1.0, leave=(berlin_leave,)),
        Rep(id="ops"),
    ]


def _available(rep: Rep, at: datetime) -> bool:
    """Whether the rep works at ``at``: not on a public holiday of theirs, not on leave."""
    calendar = rep.availability.working_hours()
    local = at.astimezone(calendar.zone).date()
    return not calendar.is_closed_day(local) and rep.availability.leave_at(at) is None


def test_a_week_with_a_holiday_and_a_leave_keeps_every_rep_within_one_lead(make_pipeline):
    """Over a week with a US-only holiday and a Berlin leave, every rep ends within one lead
    of their weighted share of the leads that came while they were available, and the day
    after each absence nobody catches up: time away is no debt."""
    team = _week_team()
    pipeline = make_pipeline(team, policy=parse_policy(WEEK_POLICY))
    members = [r for r in team if r.id != "ops"]
    received: Counter[str] = Counter()
    owed: dict[str, float] = dict.fromkeys((r.id for r in members), 0.0)
    by_day: dict[int, tuple[Counter[str], dict[str, float]]] = {}
    for day in range(5):
        today: Counter[str] = Counter()
        due_today: dict[str, float] = dict.fromkeys(owed, 0.0)
        for i in range(LEADS_PER_DAY):
            at = THANKSGIVING_WEEK + timedelta(days=day, minutes=8 * i)
            present = [r for r in members if _available(r, at)]
            total = sum(r.weight for r in present)
            for r in present:
                due_today[r.id] += r.weight / total
            outcome = pipeline.decide(Lead(id=f"W{day}-{i}", email="x@y.com", country="US"), at)
            assert isinstance(outcome, Decided)
            today[outcome.decision.owner_id] += 1
        by_day[day] = (today, due_today)
        received += today
        for rep_id, share in due_today.items():
            owed[rep_id] += share
    # Thursday: the US reps got nothing; Tuesday and Wednesday: de-2 got nothing.
    assert by_day[3][0]["us-1"] == by_day[3][0]["us-2"] == 0
    assert by_day[1][0]["de-2"] == by_day[2][0]["de-2"] == 0
    for rep_id, share in owed.items():
        assert abs(received[rep_id] - share) <= 1.0, (rep_id, received[rep_id], share)
    # The day after: the returners get their share of that day, not the days they missed.
    for day, returners in ((4, ("us-1", "us-2")), (3, ("de-2",))):
        got, due = by_day[day]
        for rep_id in returners:
            assert abs(got[rep_id] - due[rep_id]) <= 1.0, (day, rep_id, got, due)


def test_reps_back_together_from_a_holiday_are_not_owed(make_pipeline):
    """Two reps off on the same day come back level with the pool: neither floors the other
    below it (the pool's level, not the lowest other contender, is the floor)."""
    team = _week_team()
    pipeline = make_pipeline(team, policy=parse_policy(WEEK_POLICY))
    for day in range(4):  # Monday to Thursday (the US holiday)
        for i in range(LEADS_PER_DAY):
            at = THANKSGIVING_WEEK + timedelta(days=day, minutes=8 * i)
            pipeline.decide(Lead(id=f"H{day}-{i}", email="x@y.com", country="US"), at)
    friday = THANKSGIVING_WEEK + timedelta(days=4)
    view = pipeline.ledger.view(
        "global",
        ["us-1", "us-2", "gb-1", "de-1", "de-2"],
        pipeline.reps,
        friday,
        timedelta(days=14),
        members=[r.id for r in team if r.id != "ops"],
    )
    stayed = min(view.levels[r] for r in ("gb-1", "de-1", "de-2"))
    for rep_id in ("us-1", "us-2"):
        raw = decayed_level(pipeline.ledger.entry("global", rep_id), friday, timedelta(days=14))
        # A day away left them many leads' worth behind; they come back at most one lead
        # (of a weight-1 colleague) below the lowest who stayed, not that far behind.
        assert stayed - raw > 5.0, (rep_id, raw, stayed)
        assert view.levels[rep_id] >= stayed - 1.0, view.levels


@pytest.mark.parametrize(
    ("share", "split"), [("weight", (28, 14)), ("weight_x_daily_cap", (32, 10))]
)
def test_weights_are_the_split_unless_the_pool_multiplies_by_capacity(make_pipeline, share, split):
    """Weights 2:1 with daily capacities 16 and 10 split 42 leads 28:14 by default, and
    3.2:1 (32:10) only under ``share: weight_x_daily_cap``."""
    reps = [
        Rep(id="a", pools=("na",), weight=2.0, capacity=Capacity(per_week=80)),
        Rep(id="b", pools=("na",), weight=1.0, capacity=Capacity(per_week=50)),
        Rep(id="ops"),
    ]
    text = WEIGHTED_POLICY.replace("half_life: 7d", f"half_life: 7d, share: {share}")
    pipeline = make_pipeline(reps, policy=parse_policy(text))
    got: Counter[str] = Counter()
    for i in range(42):
        outcome = pipeline.decide(
            Lead(id=f"S{i}", email="x@y.com", country="US"), START + timedelta(minutes=5 * i)
        )
        assert isinstance(outcome, Decided)
        got[outcome.decision.owner_id] += 1
    assert (got["a"], got["b"]) == split


def test_the_pool_level_is_the_same_after_a_restart(make_pipeline):
    """The pool's level kept in memory as turns are taken equals the one a new process
    works out from the stored entries, so a restart or another process floors alike."""
    team = _week_team()
    pipeline = make_pipeline(team, policy=parse_policy(WEEK_POLICY))
    for i in range(37):
        at = THANKSGIVING_WEEK + timedelta(minutes=11 * i)
        pipeline.decide(Lead(id=f"R{i}", email="x@y.com", country="US"), at)
    at = THANKSGIVING_WEEK + timedelta(days=2)
    factors = pipeline.member_factors("global")
    live = pipeline.ledger.pool_level("global", at, timedelta(days=14), factors)
    entries = {(e.pool, e.rep_id): e for e in pipeline.ledger.entries()}
    fresh = Ledger(entries, pipeline.ledger.sequence)
    assert fresh.pool_level("global", at, timedelta(days=14), factors) == pytest.approx(live)
    assert live > 0
