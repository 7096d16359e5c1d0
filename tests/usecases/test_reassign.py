"""Moving one lead, as its decision stands, into a pool without its owner (a breach move)."""

from __future__ import annotations

import attrs
import pytest
from tests.conftest import AT, BASE_POLICY, lead, policy_from, rep

from leadroute.engine import Engine
from leadroute.errors import UserInputError
from leadroute.models import RouteStep, decision_id_for
from leadroute.pipeline import Decided
from leadroute.usecases import reassign_one

TEAM = [
    rep("na-1", pools=["na"], territories=("NA",)),
    rep("na-2", pools=["na"], territories=("NA",)),
    rep("ops"),
    rep("emea-backup"),
]


def engine_on(store, host, duplicates: str = "{action: notify_owner}") -> Engine:
    policy = policy_from(BASE_POLICY + f"duplicates: {duplicates}\n")
    return Engine.open(policy, store, reps=TEAM, host=host, clock=lambda: AT)


def test_a_lead_moves_into_the_pool_without_its_owner(store, host):
    """The next epoch goes to another member, with the reason first; the load moves too."""
    engine = engine_on(store, host)
    first = engine.decide(lead("L1")).decision
    assert first is not None
    moved = reassign_one(engine, first, to="na", reason="SLA_BREACHED")
    assert moved.new and moved.decision is not None
    other = ({"na-1", "na-2"} - {first.owner_id}).pop()
    assert (moved.decision.owner_id, moved.decision.epoch) == (other, 2)
    assert moved.decision.reason.startswith("SLA_BREACHED: ")
    assert moved.decision.route_path[0] == f"reassign:from-{first.owner_id}"
    assert store.current_decision("L1") == moved.decision
    assert (engine.state.loads[first.owner_id], engine.state.loads[other]) == (0, 1)
    assert [e.kind for e in store.pending_effects() if e.lead_id == "L1"] == [
        "owner_write",
        "owner_write",
    ]


def test_the_persons_other_record_follows_the_move(store, host):
    """One person, one owner: the kept duplicate moves with the reassigned lead."""
    engine = engine_on(store, host)
    first = engine.decide(lead("L1", email="kim@acme.com")).decision
    engine.decide(lead("L2", email="Kim@acme.com"))
    assert first is not None
    moved = reassign_one(engine, first, to="na", reason="SLA_BREACHED")
    assert [f.lead_id for f in moved.followers] == ["L2"]
    assert store.current_decision("L2").owner_id == moved.decision.owner_id  # type: ignore[union-attr]


def test_nobody_in_the_pool_means_the_fallback_queue(store, host):
    """With the owner excluded and nobody else eligible, the lead goes to the queue."""
    engine = engine_on(store, host)
    first = engine.decide(lead("L1")).decision
    assert first is not None
    gone = ({"na-1", "na-2"} - {first.owner_id}).pop()
    engine.update_team([r if r.id != gone else attrs.evolve(r, active=False) for r in TEAM])
    moved = reassign_one(engine, first, to="na", reason="SLA_BREACHED").decision
    assert moved is not None and moved.step == RouteStep.FALLBACK and moved.owner_id == "ops"


def test_an_unknown_target_is_a_user_error(store, host):
    """``to`` must name a pool or a rep."""
    engine = engine_on(store, host)
    first = engine.decide(lead("L1")).decision
    assert first is not None
    with pytest.raises(UserInputError, match="neither a pool"):
        reassign_one(engine, first, to="nowhere", reason="SLA_BREACHED")


def test_a_decision_made_outside_the_engine_moves_its_load_when_committed(store, host):
    """commit(planned=True): a backup move built by the caller counts here like any other."""
    engine = engine_on(store, host)
    first = engine.decide(lead("L1")).decision
    assert first is not None
    to_ops = attrs.evolve(
        first, id=decision_id_for("L1", 2), epoch=2, owner_id="ops", step=RouteStep.BACKUP
    )
    done = engine.commit(Decided(decision=to_ops), moved=True, planned=True)
    assert done.new and engine.latest("L1") == to_ops
    assert (engine.state.loads[first.owner_id], engine.state.loads["ops"]) == (0, 1)
    stale = engine.commit(Decided(decision=to_ops), moved=True, planned=True)
    assert not stale.new and engine.state.loads["ops"] == 1
