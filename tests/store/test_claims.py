"""Outbox claims: on PostgreSQL each pending effect is claimed by one relay (SKIP LOCKED)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.conftest import fresh_location

from leadroute.models import Decision, DecisionStatus, Effect, EffectResult, RouteStep
from leadroute.models import decision_id_for as _id
from leadroute.store import Store, relay

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def decision(lead_id: str) -> Decision:
    return Decision(
        id=_id(lead_id, 1),
        lead_id=lead_id,
        epoch=1,
        status=DecisionStatus.ROUTED,
        owner_id="r1",
        step=RouteStep.POOL,
        policy_version="1@abc",
        decided_at=AT,
    )


def fill(store: Store, n: int) -> None:
    """``n`` decisions, each with one pending owner write."""
    for i in range(n):
        d = decision(f"L{i:04d}")
        effect = Effect(
            kind="owner_write",
            decision_id=d.id,
            lead_id=d.lead_id,
            idem_key=Effect.key_for(d.id, "owner_write"),
            payload={"owner_id": "r1"},
        )
        store.record(d, [effect])


@pytest.fixture
def pg_store(tmp_path: Path, request: pytest.FixtureRequest):
    """A store on PostgreSQL, where several relays may share the outbox."""
    location = fresh_location("postgresql", tmp_path, request)
    with Store.open(location) as store:
        yield store


class CountingAdapter:
    """Applies every effect (slowly, like a CRM round trip) and counts each application."""

    name = "counting"

    def __init__(self, delay: float = 0.01) -> None:
        self.applied: Counter[str] = Counter()
        self.delay = delay
        self.lock = threading.Lock()

    def apply(self, effects: Sequence[Effect]) -> list[EffectResult]:
        time.sleep(self.delay)
        with self.lock:
            self.applied.update(e.idem_key for e in effects)
        return [EffectResult(idem_key=e.idem_key, ok=True) for e in effects]


def test_two_claims_at_once_take_different_rows(pg_store: Store):
    """While one relay holds a batch, a second relay's claim skips it and takes the next rows."""
    fill(pg_store, 6)
    with pg_store.claim_effects(3) as first, pg_store.claim_effects(3) as second:
        one = [r.effect.lead_id for r in first.rows]
        two = [r.effect.lead_id for r in second.rows]
    assert one == ["L0000", "L0001", "L0002"]
    assert two == ["L0003", "L0004", "L0005"]


def test_a_claim_left_unmarked_returns_its_rows(pg_store: Store):
    """A batch that fails before it is marked stays pending and is claimed again."""
    fill(pg_store, 2)

    def fail_mid_batch() -> None:
        with pg_store.claim_effects(10) as claim:
            assert len(claim.rows) == 2
            raise RuntimeError("the CRM call blew up")

    with pytest.raises(RuntimeError):
        fail_mid_batch()
    with pg_store.claim_effects(10) as again:
        assert [r.effect.lead_id for r in again.rows] == ["L0000", "L0001"]


def test_marks_commit_with_the_claim(pg_store: Store):
    """Marking inside a claim records the results when the claim ends."""
    fill(pg_store, 3)
    with pg_store.claim_effects(2) as claim:
        claim.mark([EffectResult(idem_key=r.effect.idem_key, ok=True) for r in claim.rows])
    assert pg_store.outbox_counts() == {"done": 2, "pending": 1}


def test_parallel_relays_apply_each_effect_once(pg_store: Store):
    """Four relays on one outbox of 300 effects: every effect applied, none twice."""
    fill(pg_store, 300)
    adapter = CountingAdapter()
    relays = [
        threading.Thread(target=relay, args=(pg_store, adapter), kwargs={"batch_size": 10})
        for _ in range(4)
    ]
    for t in relays:
        t.start()
    for t in relays:
        t.join()
    assert len(adapter.applied) == 300
    assert max(adapter.applied.values()) == 1
    assert pg_store.outbox_counts() == {"done": 300}


CLAIM_AND_HANG = """
import sys, time
import structlog
structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
from leadroute.store import Store
with Store.open(sys.argv[1], create=False) as store:
    with store.claim_effects(5) as claim:
        print(len(claim.rows), flush=True)
        time.sleep(60)
"""


def test_a_killed_relay_releases_its_claim(pg_store: Store, tmp_path: Path):
    """A relay killed with SIGKILL while holding a batch loses nothing: its rows are
    claimable at once by the next relay (the lock dies with the connection)."""
    fill(pg_store, 5)
    url = pg_store.engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    holder = subprocess.Popen(
        [sys.executable, "-c", CLAIM_AND_HANG, url],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "5"
        with pg_store.claim_effects(5) as meanwhile:
            assert meanwhile.rows == ()  # all five are the holder's
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(10)
        if holder.stdout is not None:
            holder.stdout.close()
    deadline = time.monotonic() + 10
    taken: tuple = ()
    while time.monotonic() < deadline and len(taken) < 5:
        # The server notices the dead connection as soon as its socket closes.
        with pg_store.claim_effects(5) as claim:
            taken = claim.rows
        time.sleep(0.05)
    assert [r.effect.lead_id for r in taken] == [f"L{i:04d}" for i in range(5)]
