"""What the router does with the target's verdicts: refused owners, overrides, dead effects."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from tests.conftest import AT, lead, policy_from, snapshot
from typer.testing import CliRunner

from leadroute.cli import app
from leadroute.models import Effect, EffectResult, InputProblem, RouteStep, Snapshot
from leadroute.router import MAX_REROUTE_ROUNDS, Router
from leadroute.store import Store


class TargetAdapter:
    """A target that refuses some owners, overrides others and rejects some leads outright."""

    name = "target"

    def __init__(
        self,
        *,
        refused: Sequence[str] = (),
        override: dict[str, str] | None = None,
        invalid: Sequence[str] = (),
    ) -> None:
        self.refused = set(refused)
        self.override = override or {}
        self.invalid = set(invalid)
        self.owners: dict[str, str] = {}
        self.calls: list[list[str]] = []
        self.reported: list[InputProblem] = []

    def read(self) -> Snapshot:
        return Snapshot()

    def apply(self, effects: Sequence[Effect]) -> list[EffectResult]:
        self.calls.append([e.lead_id for e in effects])
        results = []
        for e in effects:
            owner = str(e.payload["owner_id"])
            if owner in self.refused:
                results.append(
                    EffectResult(idem_key=e.idem_key, ok=False, reroute=True, detail="inactive")
                )
            elif e.lead_id in self.invalid:
                results.append(
                    EffectResult(idem_key=e.idem_key, ok=False, detail="VALIDATION_ERROR: bad")
                )
            else:
                self.owners[e.lead_id] = self.override.get(owner, owner)
                observed = self.override.get(owner, "")
                results.append(EffectResult(idem_key=e.idem_key, ok=True, observed_owner=observed))
        return results

    def report_problems(self, problems: Sequence[InputProblem]) -> None:
        self.reported = list(problems)


def test_refused_owner_is_rerouted_in_the_same_run(router: Router):
    """A lead whose owner the target refuses is decided again, without that owner, in one run."""
    adapter = TargetAdapter(refused=["na-1"])
    result = router.route(snapshot([lead("L1"), lead("L2"), lead("L3")]), adapter=adapter)
    assert set(adapter.owners.values()) == {"na-2"}
    assert {d.lead_id: d.owner_id for d in result.decisions} == adapter.owners
    assert len(result.decisions) == 3
    rerouted = [d for d in result.decisions if d.epoch == 2]
    assert rerouted and all("REP_INACTIVE" in {e.code for e in d.exclusions} for d in rerouted)
    counts = result.counts()
    assert counts["rerouted"] == len(rerouted) and counts["routed"] == 3
    assert (counts["new"], counts["replayed"]) == (3, 0)
    assert adapter.reported == [] and router.store.outbox_counts()["rerouted"] == len(rerouted)
    for d in rerouted:
        assert router.explain(d.lead_id) == d


def test_rerouted_decision_replays_on_the_next_run(router: Router):
    """After a reroute, a rerun replays the new epoch and sends nothing again."""
    adapter = TargetAdapter(refused=["na-1"])
    snap = snapshot([lead("L1"), lead("L2")])
    router.route(snap, adapter=adapter)
    calls = len(adapter.calls)
    again = router.route(snap, adapter=adapter)
    assert again.counts()["new"] == 0 and len(adapter.calls) == calls
    assert {d.owner_id for d in again.decisions} == {"na-2"}


def test_rerouting_is_bounded_and_ends_in_the_exception_report(router: Router):
    """When every owner is refused the router stops and reports OWNER_REFUSED, never looping."""
    adapter = TargetAdapter(refused=["na-1", "na-2", "ops"])
    result = router.route(snapshot([lead("L1")]), adapter=adapter)
    assert len(adapter.calls) <= MAX_REROUTE_ROUNDS + 1
    [problem] = [p for p in adapter.reported if p.kind == "effect"]
    assert (problem.record_id, problem.code) == ("L1", "OWNER_REFUSED")
    assert "inactive" in problem.message
    assert result.decisions[0].step == RouteStep.FALLBACK  # the last decision, not written


def test_dead_effect_is_in_the_exception_report_with_its_reason(router: Router):
    """A non-retryable write failure reaches report_problems with the target's reason."""
    adapter = TargetAdapter(invalid=["L2"])
    router.route(snapshot([lead("L1"), lead("L2")]), adapter=adapter)
    assert [(p.record_id, p.code, p.file, p.kind) for p in adapter.reported] == [
        ("L2", "EFFECT_FAILED", "outbox:owner_write", "effect")
    ]
    assert "VALIDATION_ERROR: bad" in adapter.reported[0].message


def test_observed_owner_is_counted_and_explained(store: Store, host, tmp_path: Path):
    """An owner the target changed after the write is counted and shown by explain as one line."""
    router = Router(policy_from(), store=store, host=host, clock=lambda: AT)
    adapter = TargetAdapter(override={"na-1": "boss", "na-2": "boss"})
    result = router.route(snapshot([lead("L1")]), adapter=adapter)
    assert result.relay is not None and result.relay.overridden == 1
    runner = CliRunner()
    where = store.where
    shown = runner.invoke(app, ["explain", "L1", "--store", where], catch_exceptions=False)
    assert "Owner changed to boss after the write" in shown.stdout
    data = json.loads(runner.invoke(app, ["explain", "L1", "--store", where, "--json"]).stdout)
    assert data["observed_owner"] == "boss"


def test_refused_rebalance_move_is_decided_again(router: Router):
    """A nightly move the target refuses is re-decided without that owner, in the same run."""
    from datetime import timedelta

    adapter = TargetAdapter(refused=["na-1", "na-2"])  # whoever the solver picks is refused
    leads = [lead(f"L{i}", owner_id="gone", created_at=AT - timedelta(days=3)) for i in range(4)]
    result = router.rebalance(snapshot(leads), adapter=adapter)
    assert result.relay is not None and result.relay.rerouted >= 4
    assert adapter.owners == {f"L{i}": "ops" for i in range(4)}
    assert {router.explain(f"L{i}").owner_id for i in range(4)} == {"ops"}


class QuotaTarget(TargetAdapter):
    """Applies ``room`` owner writes, then answers the rest with a daily-quota verdict."""

    def __init__(self, room: int, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.room = room

    def apply(self, effects: Sequence[Effect]) -> list[EffectResult]:
        done = super().apply(effects[: self.room])
        self.room -= len(done)
        stopped = [
            EffectResult(idem_key=e.idem_key, ok=False, quota=True, detail="daily limit reached")
            for e in effects[len(done) :]
        ]
        return [*done, *stopped]


def test_a_quota_stop_reports_itself_and_reroutes_nothing(router: Router):
    """A quota stop mid-write ends the relay; the run says so, and the rest waits for later."""
    adapter = QuotaTarget(room=1, refused=["na-1"])
    result = router.route(snapshot([lead("L1"), lead("L2"), lead("L3")]), adapter=adapter)
    assert result.relay is not None and result.relay.quota == "daily limit reached"
    assert len(adapter.calls) == 1 and result.counts()["rerouted"] == 0
    assert router.store.outbox_counts()["pending"] == 2
    later = router.route(snapshot([lead("L1"), lead("L2"), lead("L3")]), adapter=TargetAdapter())
    assert later.relay is not None and later.relay.applied == 2 and not later.relay.quota


def test_a_dead_effect_stays_in_every_later_exception_report(router: Router):
    """An effect that died in one run is still reported by the next runs, until retried."""
    snap = snapshot([lead("L1"), lead("L2")])
    router.route(snap, adapter=TargetAdapter(invalid=["L2"]))
    later = TargetAdapter()
    router.route(snap, adapter=later)
    router.route(snapshot([lead("L3")]), adapter=later)
    assert [(p.record_id, p.code) for p in later.reported] == [("L2", "EFFECT_FAILED")]
    router.store.retry_unresolved(["L2"])
    router.route(snap, adapter=later)
    assert later.reported == [] and later.owners["L2"]
