"""Properties of the rebalance over random teams, caps, people and move budgets."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import AT, BASE_POLICY, lead, policy_from

from leadroute.engine import Engine
from leadroute.host import make_host
from leadroute.models import Capacity, Rep, Snapshot
from leadroute.router import Router
from leadroute.store import Store

NIGHT = AT + timedelta(days=3)
LANGS = ("en", "de", "fr")


@st.composite
def worlds(draw, people: bool = True):
    """A routed book of leads (some people with two records), then a changed team."""
    n_reps = draw(st.integers(2, 5))
    n_leads = draw(st.integers(1, 12))
    leads = []
    for i in range(n_leads):
        # About one lead in four is a second record of an earlier person.
        person = draw(st.integers(0, max(0, i - 1))) if people and i and draw(st.booleans()) else i
        leads.append(
            lead(
                f"L{i:02d}",
                email=f"p{person}+{i}@acme-{person}.com",
                language=draw(st.sampled_from(LANGS)),
                lead_type=draw(st.sampled_from(["demo", "trial"])),
                created_at=AT,
            )
        )
    team = []
    for j in range(n_reps):
        team.append(
            Rep(
                id=f"r{j}",
                name=f"R{j}",
                pools=("na",),
                active=j == 0 or draw(st.integers(0, 4)) > 0,
                languages=tuple(draw(st.sets(st.sampled_from(LANGS), max_size=2))),
                open_leads=draw(st.integers(0, 2)),
                capacity=Capacity(
                    max_open=draw(st.one_of(st.none(), st.integers(0, 6))),
                    per_day=draw(st.one_of(st.none(), st.integers(0, 3))),
                    per_type=draw(st.sampled_from([{}, {"demo": 1}, {"demo": 2}])),
                ),
            )
        )
    budget = (
        f"max_moves: {draw(st.sampled_from(['null', 0, 1, 3]))}, "
        f"max_moves_per_rep: {draw(st.sampled_from(['null', 0, 1, 2]))}, "
        f"stay_bonus: {draw(st.sampled_from([0.0, 0.5]))}"
    )
    fairness = draw(st.sampled_from([0.0, 0.25]))
    return leads, team, budget, fairness


def text_for(rebalance: str, fairness: float = 0.0) -> str:
    return (
        BASE_POLICY
        + "constraints: [territory]\n"
        + "duplicates: {action: notify_owner}\n"
        + f"batch: {{fairness: {fairness}}}\n"
        + f"rebalance: {{{rebalance}}}\n"
    )


def first_team(team: list[Rep]) -> list[Rep]:
    """Everyone active and uncapped, so the first routing spreads the book freely."""
    loose = [Rep(id=r.id, name=r.name, pools=r.pools) for r in team]
    return [*loose, Rep(id="ops", name="Ops"), Rep(id="emea-backup", name="Backup")]


def receiving(result) -> set[str]:
    """Reps that got a record in a rebalance (moves and followers), the queue left out."""
    return {m.to_owner for m in result.plan.moves if m.to_owner != "ops"}


def over_caps(store: Store, text: str, team: list[Rep], reps: set[str]) -> list[str]:
    """Every cap broken, as the store now says, among ``reps``."""
    full = [*team, Rep(id="ops", name="Ops"), Rep(id="emea-backup", name="Backup")]
    engine = Engine.open(
        policy_from(text), store, reps=full, host=make_host(load_entrypoints=False)
    )
    broken = []
    for rep in team:
        if rep.id not in reps:
            continue
        cap, state = rep.capacity, engine.state
        if cap.max_open is not None and state.loads.get(rep.id, 0) > cap.max_open:
            broken.append(f"{rep.id} open {state.loads[rep.id]}/{cap.max_open}")
        if cap.per_day is not None and state.usage.day(rep.id, NIGHT) > cap.per_day:
            broken.append(f"{rep.id} day {state.usage.day(rep.id, NIGHT)}/{cap.per_day}")
        for kind, limit in cap.per_type.items():
            if state.usage.of_type(rep.id, NIGHT, kind) > limit:
                broken.append(f"{rep.id} {kind} {state.usage.of_type(rep.id, NIGHT, kind)}")
    return broken


def routed_store(folder: Path, text: str, leads, team) -> Store:
    store = Store.open(folder / "s.db")
    host = make_host(load_entrypoints=False)
    Router(policy_from(text), store=store, host=host, clock=lambda: AT).route(
        Snapshot(leads=tuple(leads), reps=tuple(first_team(team)))
    )
    return store


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(worlds())
def test_no_cap_is_ever_exceeded_and_a_second_run_moves_nothing(world):
    """Whatever the team, caps, people and budgets: no rep that receives a lead (or a
    follower) ends over its open, daily or per-type cap, and a second run moves nothing."""
    leads, team, budget, fairness = world
    text = text_for(budget, fairness)
    host = make_host(load_entrypoints=False)
    snap = Snapshot(
        leads=tuple(leads),
        reps=(*team, Rep(id="ops", name="Ops"), Rep(id="emea-backup", name="Backup")),
    )
    with tempfile.TemporaryDirectory() as folder:
        store = routed_store(Path(folder), text, leads, team)
        with store:
            first = Router(policy_from(text), store=store, host=host, clock=lambda: NIGHT)
            result = first.rebalance(snap)
            assert over_caps(store, text, team, receiving(result)) == []
            again = Router(policy_from(text), store=store, host=host, clock=lambda: NIGHT)
            assert again.rebalance(snap).plan.moves == ()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(worlds(people=False))
def test_the_plan_is_a_fixed_point_when_fit_does_not_depend_on_load(world):
    """Even with no pause between runs (``min_interval: 0s``) and no budget, a run on the
    state the previous run left moves nothing: the plan is its own optimum (stays win
    exact ties; fits here do not change with load). One record per person: a person's
    other records are solved as staying, so the room they free by following a move is
    seen only by the next plan."""
    leads, team, _, _ = world
    text = text_for("min_interval: 0s, stay_bonus: 0.0") + "fit: {weights: {headroom: 0}}\n"
    host = make_host(load_entrypoints=False)
    snap = Snapshot(
        leads=tuple(leads),
        reps=(*team, Rep(id="ops", name="Ops"), Rep(id="emea-backup", name="Backup")),
    )
    with tempfile.TemporaryDirectory() as folder:
        store = routed_store(Path(folder), text, leads, team)
        with store:
            Router(policy_from(text), store=store, host=host, clock=lambda: NIGHT).rebalance(snap)
            later = NIGHT + timedelta(minutes=5)
            again = Router(policy_from(text), store=store, host=host, clock=lambda: later)
            assert again.rebalance(snap).plan.moves == ()
