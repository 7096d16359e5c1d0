"""The relay pass: a refused owner's lead decided again without splitting its person, and
the refused decision's rotation turn given back."""

from __future__ import annotations

from collections.abc import Sequence

from tests.conftest import AT, BASE_POLICY, lead, policy_from, rep, snapshot
from tests.test_router_effects import TargetAdapter

from leadroute.models import Effect, EffectResult
from leadroute.router import Router
from leadroute.store import Store


class RefusesFirstOwners(TargetAdapter):
    """Refuses every owner of its first batch (whoever the rotation picked first)."""

    def apply(self, effects: Sequence[Effect]) -> list[EffectResult]:
        if not self.calls:
            self.refused = {str(e.payload["owner_id"]) for e in effects}
        return super().apply(effects)


def three_reps() -> list:
    return [
        rep("na-1", pools=["na"]),
        rep("na-2", pools=["na"]),
        rep("na-3", pools=["na"]),
        rep("ops"),
        rep("emea-backup"),
    ]


def test_a_rerouted_lead_takes_its_person_with_it(store: Store, host):
    """Both records of one person refused: after the reroute they share one new owner."""
    policy = policy_from(BASE_POLICY + "duplicates: {action: notify_owner}\n")
    router = Router(policy, store=store, host=host, clock=lambda: AT)
    adapter = RefusesFirstOwners()
    people = [lead("L1", email="kim@acme.com"), lead("L2", email="Kim@acme.com")]
    result = router.route(snapshot(people, three_reps()), adapter=adapter)
    current = store.current_decisions()
    [refused] = adapter.refused
    assert current["L1"].owner_id == current["L2"].owner_id != refused
    assert adapter.owners == {"L1": current["L1"].owner_id, "L2": current["L1"].owner_id}
    assert not [p for p in result.problems if p.code == "OWNER_REFUSED"]


def test_the_refused_decisions_turn_is_given_back(store: Store, host):
    """The ledger counts only the decision that stands: the refused owner's turn is returned."""
    router = Router(policy_from(), store=store, host=host, clock=lambda: AT)
    adapter = RefusesFirstOwners()
    router.route(snapshot([lead("L1")], three_reps()), adapter=adapter)
    [refused] = adapter.refused
    owner = store.current_decision("L1").owner_id  # type: ignore[union-attr]
    assigned = {rep_id: e.assigned for (_, rep_id), e in store.load_ledger().items()}
    assert owner != refused
    assert assigned.get(refused, 0) == 0 and assigned[owner] == 1
