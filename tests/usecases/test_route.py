"""The route use case: grouped commits, crashes between groups, and the exception report."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from tests.conftest import AT, lead, policy_from, snapshot
from tests.test_router_effects import TargetAdapter

from leadroute import usecases
from leadroute.engine import Engine
from leadroute.host import PluginHost
from leadroute.models import Snapshot
from leadroute.store import Store


def run(store: Store, host: PluginHost, snap: Snapshot, **kw) -> usecases.RunResult:
    engine = Engine.open(policy_from(), store, reps=snap.reps, host=host, clock=lambda: AT)
    return usecases.route(engine, snap, **kw)


def leads(n: int) -> list:
    return [lead(f"L{i:02}", country=("US", "DE", "XX")[i % 3]) for i in range(n)]


def owners(store: Store) -> dict[str, tuple[str, int]]:
    return {k: (d.owner_id, d.epoch) for k, d in store.current_decisions().items()}


def test_group_size_changes_how_decisions_are_written_not_what_is_decided(tmp_path, host):
    """One decision per commit or ten per commit: the same decisions, effects and ledger."""
    snap = snapshot(leads(25))
    with Store.open(tmp_path / "one.db") as one, Store.open(tmp_path / "ten.db") as ten:
        a = run(one, host, snap, group_size=1)
        b = run(ten, host, snap, group_size=10)
        assert a.decisions == b.decisions and owners(one) == owners(ten)
        assert one.load_ledger() == ten.load_ledger()
        assert [e.idem_key for e in one.pending_effects()] == [
            e.idem_key for e in ten.pending_effects()
        ]


def test_decisions_come_back_in_input_order_with_replays_between_groups(store, host):
    """A rerun with new leads between known ones lists every lead in input order."""
    first = leads(6)
    run(store, host, snapshot(first[::2]), group_size=2)
    result = run(store, host, snapshot(first), group_size=2)
    assert [d.lead_id for d in result.decisions] == [x.id for x in first]
    assert len(result.new_ids) == 3


def test_a_crash_loses_only_the_group_in_flight_and_the_rerun_decides_it_identically(
    tmp_path: Path, host, monkeypatch
):
    """Killed while writing the third group of four, the store holds eight decisions; the
    rerun decides the rest exactly as an uninterrupted run does."""
    snap = snapshot(leads(14))
    with Store.open(tmp_path / "clean.db") as clean:
        run(clean, host, snap, group_size=4)
        expected = owners(clean)
        expected_ledger = clean.load_ledger()
    with Store.open(tmp_path / "crash.db") as store:
        commit, groups = store.commit, []

        def dies_on_the_third(units):
            groups.append(len(units))
            if len(groups) == 3:
                raise KeyboardInterrupt("killed")
            return commit(units)

        monkeypatch.setattr(store, "commit", dies_on_the_third)
        with pytest.raises(KeyboardInterrupt):
            run(store, host, snap, group_size=4)
        monkeypatch.setattr(store, "commit", commit)
        assert len(store.current_decisions()) == 8  # two whole groups (XX leads go to fallback)
        rerun = run(store, host, snap, group_size=4)
        assert len(rerun.new_ids) == 6
        assert owners(store) == expected
        assert store.load_ledger() == expected_ledger


def test_a_rerun_reports_the_fallback_queue_again(store, host):
    """Routing the same input twice, the rerun's exception report still lists every lead
    waiting in the fallback queue (it replays their decisions, it does not forget them)."""
    adapter = TargetAdapter()
    snap = snapshot([lead("L1"), lead("L2", country="XX"), lead("L3", email="")])
    run(store, host, snap, adapter=adapter)
    first = [(p.record_id, p.code) for p in adapter.reported]
    run(store, host, snap, adapter=adapter)
    again = [(p.record_id, p.code) for p in adapter.reported]
    assert ("L2", "FALLBACK_NO_RULE") in first
    assert again == first


def test_the_run_says_what_it_does_now_in_order(store, host):
    """Phases, for a progress display: deciding, solving (batch), writing owners, reporting."""
    seen: list[str] = []
    run(store, host, snapshot(leads(3)), adapter=TargetAdapter(), batch=True, phase=seen.append)
    assert seen == ["deciding", "solving", "writing owners", "reporting"]
    seen.clear()
    run(store, host, snapshot(leads(3)), phase=seen.append)
    assert seen == ["deciding", "reporting"]


def test_a_lead_is_never_decided_before_it_was_created(store, host):
    """A run at 09:00 decides the lead created at 08:00 (at 09:00) and leaves the one created
    at 10:00 for a later run, which then decides it no earlier than 10:00."""
    early = lead("E1", created_at=AT - timedelta(hours=1))
    late = lead("L1", created_at=AT + timedelta(hours=1))
    result = run(store, host, snapshot([early, late]))
    assert [d.lead_id for d in result.decisions] == ["E1"] and result.waiting == ["L1"]
    assert result.counts()["waiting"] == 1 and result.counts()["input"] == 1
    assert result.decisions[0].decided_at == AT
    later = Engine.open(
        policy_from(),
        store,
        reps=snapshot([]).reps,
        host=host,
        clock=lambda: AT + timedelta(hours=2),
    )
    again = usecases.route(later, snapshot([early, late]))
    assert again.waiting == [] and store.current_decision("L1").decided_at == AT + timedelta(
        hours=2
    )


def test_arrival_decides_each_lead_at_its_own_time_in_arrival_order(store, host):
    """With ``by_arrival`` each lead is decided when it was created, earliest first; one
    created after the run's time waits; one without a time is decided at the run's time."""
    snap = snapshot(
        [
            lead("B", created_at=AT - timedelta(hours=1)),
            lead("A", created_at=AT - timedelta(hours=3)),
            lead("N"),
            lead("F", created_at=AT + timedelta(minutes=1)),
        ]
    )
    engine = Engine.open(policy_from(), store, reps=snap.reps, host=host, clock=lambda: AT)
    result = usecases.route(engine, snap, arrival=usecases.by_arrival(AT))
    assert [(d.lead_id, d.decided_at) for d in result.decisions] == [
        ("A", AT - timedelta(hours=3)),
        ("B", AT - timedelta(hours=1)),
        ("N", AT),
    ]
    assert result.waiting == ["F"]


def test_the_engine_never_decides_a_lead_before_its_creation(store, host):
    """A lead whose sender's clock runs ahead is decided as of its creation, not before."""
    engine = Engine.open(policy_from(), store, reps=snapshot([]).reps, host=host, clock=lambda: AT)
    ahead = AT + timedelta(seconds=30)
    verdict = engine.decide(lead("S1", created_at=ahead))
    assert verdict.decision is not None and verdict.decision.decided_at == ahead
