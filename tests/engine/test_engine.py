"""The engine: one decision at a time, replay, catching up with other processes, races,
a new team, and a state that never reads the history again."""

from __future__ import annotations

import pytest
from tests.conftest import AT, BASE_POLICY, lead, policy_from, rep, standard_reps

from leadroute.engine import Engine
from leadroute.errors import PolicyError
from leadroute.host import PluginHost
from leadroute.models import RouteStep
from leadroute.store import Store

NOTIFY = policy_from(BASE_POLICY + "duplicates: {action: notify_owner}\n")


def engine_on(store: Store, host: PluginHost, reps=None, policy=NOTIFY) -> Engine:
    return Engine.open(policy, store, reps=reps or standard_reps(), host=host, clock=lambda: AT)


def standing(entries) -> dict[tuple[str, str], tuple[int, float]]:
    """Ledger entries that hold any lead or level (a turn given back leaves a zero entry)."""
    return {(e.pool, e.rep_id): (e.assigned, e.level) for e in entries if e.assigned or e.level}


def test_decide_commits_one_decision_and_replays_it_after(store, host):
    """The first call decides and commits; the second replays the stored decision."""
    engine = engine_on(store, host)
    first = engine.decide(lead("L1"))
    again = engine.decide(lead("L1"))
    assert first.new and first.decision is not None
    assert not again.new and again.decision == first.decision
    assert store.current_decision("L1") == first.decision
    assert [e.kind for e in store.pending_effects()] == ["owner_write"]


def test_a_rejected_lead_commits_nothing(store, host):
    """A lead validation rejects comes back with its problems; nothing is stored."""
    verdict = engine_on(store, host).decide(lead("L1", email=""))
    assert verdict.decision is None and verdict.rejected is not None
    assert {p.code for p in verdict.rejected.problems} and store.current_decisions() == {}


def test_deciding_never_reads_the_history_again(store, host, monkeypatch):
    """Once open, decisions, duplicates and rotation come from memory, not store reads."""
    engine_on(store, host).decide(lead("L0", email="kim@acme.com"))
    engine = engine_on(store, host)

    def no_history(*args, **kwargs):
        raise AssertionError("read the whole history")

    for name in ("current_decisions", "load_identities", "load_ledger", "decision_at"):
        monkeypatch.setattr(store, name, no_history)
    verdicts = [engine.decide(lead(f"L{i}")) for i in range(1, 20)]
    duplicate = engine.decide(lead("L20", email="Kim@acme.com"))
    assert all(v.new for v in verdicts)
    assert duplicate.decision is not None and duplicate.decision.step == RouteStep.DUPLICATE


def test_catch_up_takes_in_what_another_process_committed(store_location: str, host):
    """Engine B learns A's decision: its owner's load, the rotation turn and the person."""
    path = store_location
    with Store.open(path) as sa_, Store.open(path) as sb:
        a, b = engine_on(sa_, host), engine_on(sb, host)
        made = a.decide(lead("L1", email="kim@acme.com")).decision
        assert made is not None
        assert b.latest("L1") is None
        assert b.catch_up() == 1
        assert b.latest("L1") == made
        assert b.state.loads == a.state.loads
        assert b.state.ledger.entry("na", made.owner_id) == a.state.ledger.entry(
            "na", made.owner_id
        )
        # The other process's lead is a known person here now: one person, one owner.
        repeat = b.decide(lead("L2", email="KIM@acme.com")).decision
        assert repeat is not None and repeat.owner_id == made.owner_id
        assert repeat.duplicate is not None and repeat.duplicate.lead_id == "L1"
        assert b.catch_up() == 0


def test_a_lost_race_replays_the_winner_and_gives_the_turn_back(store_location: str, host):
    """Two engines decide the same lead: the second keeps the first's decision, and the
    rotation counts one turn, in the store and in both engines."""
    path = store_location
    with Store.open(path) as sa_, Store.open(path) as sb:
        a, b = engine_on(sa_, host), engine_on(sb, host)
        won = a.decide(lead("L1")).decision
        lost = b.decide(lead("L1"))
        assert not lost.new and lost.decision == won
        assert sum(e.assigned for e in sa_.load_ledger().values()) == 1
        assert b.state.loads == a.state.loads
        assert b.state.ledger.entries() == a.state.ledger.entries()
        # The loser's next decision continues the rotation as if it had never lost.
        nxt_a, nxt_b = a.state.ledger.sequence, b.state.ledger.sequence
        assert nxt_b >= nxt_a


def test_stale_engines_both_count_their_turns(store_location: str, host):
    """Two engines from the same state each route a different lead: the store counts both."""
    path = store_location
    with Store.open(path) as sa_, Store.open(path) as sb:
        a, b = engine_on(sa_, host), engine_on(sb, host)
        a.decide(lead("L1"))
        b.decide(lead("L2"))
        assert sum(e.assigned for e in sa_.load_ledger().values()) == 2


def test_a_failed_commit_leaves_the_state_as_the_store_has_it(store, host, monkeypatch):
    """A write that dies takes the staged decision back out of the engine's state."""
    engine = engine_on(store, host)
    loads, entries = dict(engine.state.loads), engine.state.ledger.entries()

    def dies(units):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(store, "commit", dies)
    with pytest.raises(KeyboardInterrupt):
        engine.decide(lead("L1"))
    assert engine.latest("L1") is None
    assert engine.state.loads == loads
    assert standing(engine.state.ledger.entries()) == standing(entries)


def test_a_new_team_moves_loads_with_open_leads(store, host):
    """update_team: a rep's load follows their new open_leads; the store's leads still count."""
    reps = [rep("na-1", pools=["na"], cap=3), rep("ops"), rep("emea-backup")]
    engine = engine_on(store, host, reps)
    engine.decide(lead("L1"))
    assert engine.state.loads["na-1"] == 1
    engine.update_team(
        [rep("na-1", pools=["na"], cap=3, open_leads=2), rep("ops"), rep("emea-backup")]
    )
    assert engine.state.loads["na-1"] == 3
    third = engine.decide(lead("L2")).decision
    assert third is not None and third.owner_id != "na-1"  # full: 3 of 3


def test_a_team_without_the_fallback_owner_is_refused_and_changes_nothing(store, host):
    """update_team checks the team before taking it."""
    engine = engine_on(store, host)
    before = dict(engine.state.loads)
    with pytest.raises(PolicyError, match=r"fallback\.owner"):
        engine.update_team([rep("na-1", pools=["na"])])
    assert engine.state.loads == before and "ops" in engine.reps
