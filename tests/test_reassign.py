"""``Router.reassign``: a departing rep's leads go through the policy as new epochs."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest
from tests.conftest import AT, lead, policy_from, snapshot

from leadroute.errors import UserInputError
from leadroute.models import Availability, DecisionStatus, RouteStep
from leadroute.router import Router

LEADS = [lead(f"L{i}") for i in range(1, 5)]


@pytest.fixture
def routed(store, host) -> Router:
    """A router whose store has four US leads split between na-1 and na-2."""
    router = Router(policy_from(), store=store, host=host, clock=lambda: AT)
    router.route(snapshot(LEADS))
    return router


def owners(router: Router) -> dict[str, str]:
    return {lead.id: router.explain(lead.id).owner_id for lead in LEADS}


def test_leads_move_through_the_policy_as_new_epochs(routed, store):
    """Every lead na-1 owned goes to na-2 (the other NA rep), epoch 2, with an outbox effect."""
    before = owners(routed)
    leaving = [k for k, v in before.items() if v == "na-1"]
    result = routed.reassign(snapshot(LEADS), from_rep="na-1")
    assert result.applied == len(leaving) == 2
    after = owners(routed)
    assert all(after[k] == "na-2" for k in leaving)
    assert {k: v for k, v in after.items() if k not in leaving} == {
        k: v for k, v in before.items() if k not in leaving
    }
    d = routed.explain(leaving[0])
    assert d.epoch == 2 and d.route_path[0] == "reassign:from-na-1"
    assert d.reason.startswith("reassigned from na-1: ")
    assert any(e.code == "REASSIGNED_AWAY" and e.rep_id == "na-1" for e in d.exclusions)
    assert store.outbox_counts()["pending"] == len(LEADS) + 2
    # Nothing left to move: a second run is a no-op.
    assert routed.reassign(snapshot(LEADS), from_rep="na-1").applied == 0


def test_dry_run_writes_nothing(routed, store):
    """A dry run plans the moves but records no decision and no effect."""
    before = owners(routed)
    result = routed.reassign(snapshot(LEADS), from_rep="na-1", dry_run=True)
    assert len(result.plan.moves) == 2 and result.applied == 0
    assert owners(routed) == before
    assert store.outbox_counts()["pending"] == len(LEADS)


def test_to_a_rep_ignores_territory_but_not_availability(routed):
    """``--to emea-backup`` hands US leads to that rep; the counts name the new owner."""
    paused = [
        attrs.evolve(r, availability=Availability(paused=True)) if r.id == "emea-backup" else r
        for r in snapshot([]).reps
    ]
    away = routed.reassign(snapshot(LEADS, paused), from_rep="na-1", to="emea-backup", dry_run=True)
    assert {m.status for m in away.plan.moves} == {str(DecisionStatus.FALLBACK)}
    assert "1 PAUSED" in away.plan.moves[0].reason
    result = routed.reassign(snapshot(LEADS), from_rep="na-1", to="emea-backup")
    assert result.counts()["by_new_owner"] == {"emea-backup": 2}
    assert {m.step for m in result.plan.moves} == {str(RouteStep.POOL)}


def test_to_a_pool_applies_its_constraints(routed):
    """``--to emea`` keeps territory rules: US leads reach the EMEA pool's backup."""
    result = routed.reassign(snapshot(LEADS), from_rep="na-1", to="emea")
    assert {(m.to_owner, m.step) for m in result.plan.moves} == {("emea-backup", "backup")}


def test_nobody_left_means_the_fallback_queue(store, host):
    """When the only other NA rep is gone too, the leads go to the fallback with a code."""
    reps = [r for r in snapshot([]).reps if r.id != "na-2"]
    router = Router(policy_from(), store=store, host=host, clock=lambda: AT)
    router.route(snapshot(LEADS, reps))
    result = router.reassign(snapshot(LEADS, reps), from_rep="na-1")
    assert {m.status for m in result.plan.moves} == {str(DecisionStatus.FALLBACK)}
    assert result.counts()["to_fallback"] == len(LEADS)


def test_only_unworked_keeps_worked_leads(routed):
    """A lead with activity since its assignment stays with ``only_unworked``."""
    leaving = [k for k, v in owners(routed).items() if v == "na-1"]
    worked = {leaving[0]}
    leads = [
        lead(x.id, last_activity_at=AT + timedelta(hours=1)) if x.id in worked else x for x in LEADS
    ]
    result = routed.reassign(snapshot(leads), from_rep="na-1", only_unworked=True)
    assert result.plan.worked == 1
    assert [m.lead_id for m in result.plan.moves] == leaving[1:]


def test_source_owned_leads_never_decided_here_move_too(store, host):
    """A lead the CRM says na-1 owns, with no stored decision, moves at epoch 1."""
    router = Router(policy_from(), store=store, host=host, clock=lambda: AT)
    result = router.reassign(snapshot([lead("X1", owner_id="na-1")]), from_rep="na-1")
    assert result.applied == 1
    assert router.explain("X1").epoch == 1 and router.explain("X1").owner_id == "na-2"


def test_unknown_target_is_a_user_error(routed):
    """``--to`` must name a pool or a rep."""
    with pytest.raises(UserInputError, match="--to: 'nowhere' is neither a pool"):
        routed.reassign(snapshot(LEADS), from_rep="na-1", to="nowhere")


def test_the_exclusion_plugin_is_removed_afterwards(routed, host):
    """After a reassignment the departing rep is eligible again for normal routing."""
    routed.reassign(snapshot(LEADS), from_rep="na-1", dry_run=True)
    assert "leadroute.reassign.away" not in {p.name for p in host.plugins()}


def test_an_evening_reassignment_defers_the_clock_instead_of_queueing(store, host):
    """Reassigned after hours, leads go to an off-shift rep whose clock starts next morning."""
    hours = Availability(timezone="America/New_York", hours={"mon-fri": "09:00-17:00"})
    reps = [attrs.evolve(r, availability=hours) if r.id == "na-2" else r for r in snapshot([]).reps]
    evening = AT.replace(hour=23)  # Monday 18:00 in New York
    router = Router(policy_from(), store=store, host=host, clock=lambda: evening)
    result = router.reassign(snapshot([lead("X1", owner_id="na-1")], reps), from_rep="na-1")
    [move] = result.plan.moves
    assert move.to_owner == "na-2"
    assert move.decided.decision.sla_starts_at == AT.replace(day=3, hour=14)  # Tue 09:00 EST
