"""A routing run end to end over the store: counts, idempotent reruns and the outbox."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from tests.conftest import AT, lead, policy_from, rep, snapshot, standard_reps

from leadroute.errors import UnknownLeadError
from leadroute.models import (
    DecisionStatus,
    Effect,
    EffectResult,
    InputProblem,
    RouteStep,
    Snapshot,
)
from leadroute.router import Router


class MemoryAdapter:
    """An adapter that keeps effects in memory and counts how often each key was applied."""

    name = "memory"

    def __init__(self) -> None:
        self.applied: dict[str, int] = {}
        self.owners: dict[str, str] = {}
        self.reported: list[InputProblem] = []

    def read(self) -> Snapshot:
        return Snapshot()

    def apply(self, effects: Sequence[Effect]) -> list[EffectResult]:
        for effect in effects:
            self.applied[effect.idem_key] = self.applied.get(effect.idem_key, 0) + 1
            self.owners[effect.lead_id] = effect.payload["owner_id"]
        return [EffectResult(idem_key=e.idem_key, ok=True) for e in effects]

    def report_problems(self, problems: Sequence[InputProblem]) -> None:
        self.reported = list(problems)


def bad_row(line: int) -> InputProblem:
    return InputProblem(
        file="leads.csv",
        line=line,
        record_id="",
        kind="lead",
        field="id",
        code="MISSING_ID",
        message="row has no id",
    )


def test_counts_add_up(router: Router):
    """input = routed + fallback + exceptions; a row with two problems is one exception."""
    snap = snapshot([lead("L1"), lead("L2", country="XX"), lead("L3", email="")])
    snap = Snapshot(leads=snap.leads, reps=snap.reps, problems=(bad_row(5), bad_row(5), bad_row(9)))
    counts = router.route(snap).counts()
    assert (counts["input"], counts["routed"], counts["fallback"], counts["exceptions"]) == (
        5,
        1,
        1,
        3,
    )
    assert counts["input"] == counts["routed"] + counts["fallback"] + counts["exceptions"]
    # One row per rejected lead, by its first problem: the route-step table adds up.
    assert counts["exceptions_by_code"] == {"MISSING_FIELD": 1, "MISSING_ID": 2}


def test_rerun_replays_without_new_decisions_ledger_changes_or_effects(router: Router):
    """Routing the same input twice makes no new decision, moves no rotation and sends nothing twice."""
    adapter = MemoryAdapter()
    snap = snapshot([lead(f"L{i}") for i in range(6)])
    first = router.route(snap, adapter=adapter)
    ledger_before = router.store.load_ledger()
    second = router.route(snap, adapter=adapter)
    assert first.counts()["new"] == 6 and second.counts()["new"] == 0
    assert second.counts()["replayed"] == 6
    assert [d.owner_id for d in first.decisions] == [d.owner_id for d in second.decisions]
    assert router.store.load_ledger() == ledger_before
    assert sorted(adapter.applied.values()) == [1] * 6
    assert router.store.outbox_counts().get("pending", 0) == 0


def test_new_leads_continue_the_rotation_across_runs(router: Router):
    """A second run with new leads continues round robin where the first run stopped."""
    router.route(snapshot([lead("L1")]))
    first_owner = router.explain("L1").owner_id
    router.route(snapshot([lead("L1"), lead("L2")]))
    assert router.explain("L2").owner_id != first_owner


def test_loads_include_this_stores_assignments_across_runs(store, host):
    """Capacity counts leads assigned in earlier runs, not only the rep's open_leads column."""
    reps = [rep("a", pools=["na"], cap=1), rep("emea-backup"), rep("ops")]
    router = Router(policy_from(), store=store, host=host, clock=lambda: AT)
    router.route(snapshot([lead("L1")], reps))
    result = router.route(snapshot([lead("L2")], reps))
    [d] = result.decisions
    assert d.status == DecisionStatus.FALLBACK and "OPEN_CAP" in d.reason


def test_kept_current_owner_does_not_count_twice(store, host):
    """A lead kept by its current owner is already in open_leads, so it does not fill the cap again."""
    reps = [rep("a", pools=["na"], cap=2, open_leads=1), rep("emea-backup"), rep("ops")]
    router = Router(policy_from(), store=store, host=host, clock=lambda: AT)
    router.route(snapshot([lead("L1", owner_id="a")], reps))
    [d] = router.route(snapshot([lead("L2")], reps)).decisions
    assert (d.owner_id, d.step) == ("a", RouteStep.POOL)


def test_effects_are_relayed_once_with_deterministic_keys(router: Router):
    """Each new decision produces one owner_write effect, applied once, keyed by the decision."""
    adapter = MemoryAdapter()
    result = router.route(snapshot([lead("L1"), lead("L2", country="XX")]), adapter=adapter)
    assert result.relay is not None and result.relay.applied == 2
    assert adapter.owners == {d.lead_id: d.owner_id for d in result.decisions}
    keys = {Effect.key_for(d.id, "owner_write") for d in result.decisions}
    assert set(adapter.applied) == keys


def test_problems_are_reported_through_the_adapter(router: Router):
    """Adapter rejects and validation rejects both reach the adapter's exception report."""
    adapter = MemoryAdapter()
    snap = snapshot([lead("L1", email="", origin="leads.csv:4")])
    snap = Snapshot(leads=snap.leads, reps=snap.reps, problems=(bad_row(7),))
    router.route(snap, adapter=adapter)
    assert [(p.line, p.code) for p in adapter.reported] == [(7, "MISSING_ID"), (4, "MISSING_FIELD")]


def test_explain_unknown_lead(router: Router):
    """Explaining a lead the store has never decided is a user error."""
    with pytest.raises(UnknownLeadError, match="no decision recorded for lead 'nope'"):
        router.explain("nope")


def test_runs_are_recorded(router: Router):
    """Each run leaves a row with its counts."""
    router.route(snapshot([lead("L1")]))
    [run] = router.store.runs()
    assert run["counts"]["routed"] == 1


def test_no_lead_goes_to_an_inactive_rep(router: Router):
    """Even when an inactive rep is in the pool and owns nothing, every lead avoids them."""
    reps = [*standard_reps(), rep("na-0", pools=["na"], active=False)]
    result = router.route(snapshot([lead(f"L{i}") for i in range(20)], reps))
    assert "na-0" not in {d.owner_id for d in result.decisions}
