"""The rebalance use case publishes its problems through the adapter, like route."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import AT, lead, snapshot
from tests.test_router_effects import TargetAdapter

from leadroute.router import Router


def test_rebalance_reports_its_problems_through_the_adapter(router: Router):
    """A move whose owner write dies is in the exception report the adapter receives."""
    adapter = TargetAdapter(invalid=["L0"])
    leads = [lead(f"L{i}", owner_id="gone", created_at=AT - timedelta(days=3)) for i in range(2)]
    router.rebalance(snapshot(leads), adapter=adapter)
    effects = [(p.record_id, p.code) for p in adapter.reported if p.kind == "effect"]
    assert effects == [("L0", "EFFECT_FAILED")]


def test_a_dry_run_reports_nothing(router: Router):
    """Planning writes no decision and publishes no report."""
    adapter = TargetAdapter()
    leads = [lead("L0", owner_id="gone", created_at=AT - timedelta(days=3))]
    result = router.rebalance(snapshot(leads), adapter=adapter, dry_run=True)
    assert result.applied == 0 and adapter.reported == [] and adapter.calls == []
