"""The outbox relay: each effect applied once, failures retried or given up on, never a spin."""

from __future__ import annotations

from collections.abc import Sequence

from tests.store.test_database import AT

from leadroute.models import (
    Decision,
    DecisionStatus,
    Effect,
    EffectResult,
    InputProblem,
    RouteStep,
    Snapshot,
    decision_id_for,
)
from leadroute.store import Store, relay


class ScriptedAdapter:
    """Answers each apply() call with the next scripted behaviour for every effect."""

    name = "scripted"

    def __init__(self, *script: str) -> None:
        self.script = list(script)
        self.calls: list[list[str]] = []

    def read(self) -> Snapshot:
        return Snapshot()

    def report_problems(self, problems: Sequence[InputProblem]) -> None:
        return None

    def apply(self, effects: Sequence[Effect]) -> list[EffectResult]:
        self.calls.append([e.idem_key for e in effects])
        mode = self.script.pop(0) if self.script else "ok"
        if mode == "silent":
            return []
        return [
            EffectResult(
                idem_key=e.idem_key,
                ok=mode == "ok",
                retryable=mode == "retry",
                detail="" if mode == "ok" else f"{mode} failure",
            )
            for e in effects
        ]


def seed(store: Store, n: int = 3) -> list[str]:
    keys = []
    for i in range(n):
        d = Decision(
            id=decision_id_for(f"L{i}", 1),
            lead_id=f"L{i}",
            status=DecisionStatus.ROUTED,
            owner_id="r1",
            step=RouteStep.POOL,
            policy_version="1",
            decided_at=AT,
        )
        e = Effect(
            kind="owner_write",
            decision_id=d.id,
            lead_id=d.lead_id,
            idem_key=Effect.key_for(d.id, "owner_write"),
            payload={"owner_id": "r1"},
        )
        store.record(d, [e])
        keys.append(e.idem_key)
    return keys


def test_each_effect_is_applied_once(store: Store):
    """A relay applies every pending effect; a second relay has nothing to send."""
    keys = seed(store)
    adapter = ScriptedAdapter("ok")
    report = relay(store, adapter)
    assert (report.applied, report.pending) == (3, 0)
    assert relay(store, adapter).applied == 0
    assert adapter.calls == [keys]


def test_retryable_failure_is_retried_next_time(store: Store):
    """A retryable failure leaves the effect pending; the next relay applies it."""
    seed(store)
    first = relay(store, ScriptedAdapter("retry"))
    assert (first.applied, first.failed, first.pending) == (0, 3, 3)
    assert relay(store, ScriptedAdapter("ok")).applied == 3
    assert store.outbox_counts() == {"done": 3}


def test_non_retryable_failure_goes_dead(store: Store):
    """A permanent failure is marked dead with its error and not retried."""
    seed(store, 1)
    report = relay(store, ScriptedAdapter("fatal"))
    assert (report.dead, report.pending) == (1, 0)
    assert store.outbox_counts() == {"dead": 1}


def test_missing_result_counts_as_retryable(store: Store):
    """An adapter that returns no result for an effect leaves it pending, not done."""
    seed(store, 2)
    report = relay(store, ScriptedAdapter("silent"))
    assert (report.applied, report.pending) == (0, 2)


def test_repeated_failure_ends_dead_after_max_attempts(store: Store):
    """An effect that keeps failing retryably is given up on after five attempts."""
    seed(store, 1)
    for _ in range(5):
        relay(store, ScriptedAdapter("retry"))
    assert store.outbox_counts() == {"dead": 1}


def test_relay_stops_when_nothing_succeeds(store: Store):
    """A relay whose adapter fails everything returns after one batch instead of spinning."""
    seed(store, 3)
    adapter = ScriptedAdapter(*["retry"] * 10)
    relay(store, adapter, batch_size=2)
    assert len(adapter.calls) == 1


class VerdictAdapter:
    """Answers every effect with one fixed result (reroute, observed owner, dead...)."""

    name = "verdict"

    def __init__(self, **result: object) -> None:
        self.result = result

    def read(self) -> Snapshot:
        return Snapshot()

    def report_problems(self, problems: Sequence[InputProblem]) -> None:
        return None

    def apply(self, effects: Sequence[Effect]) -> list[EffectResult]:
        return [EffectResult(idem_key=e.idem_key, **self.result) for e in effects]  # type: ignore[arg-type]


def test_refused_owner_is_final_and_reported_as_reroute(store: Store):
    """A reroute result is neither retried nor dead: the relay lists it for the router."""
    keys = seed(store, 2)
    report = relay(store, VerdictAdapter(ok=False, reroute=True, detail="owner archived"))
    assert store.outbox_counts() == {"rerouted": 2}
    assert (report.rerouted, report.dead, report.pending) == (2, 0, 0)
    assert [(f.idem_key, f.owner_id, f.reroute, f.detail) for f in report.failures] == [
        (k, "r1", True, "owner archived") for k in keys
    ]
    assert relay(store, VerdictAdapter(ok=True)).applied == 0


def test_observed_owner_is_kept_against_the_decision(store: Store):
    """An owner write the target overrode is done, counted, and its observed owner stored."""
    seed(store, 1)
    report = relay(store, VerdictAdapter(ok=True, observed_owner="r9"))
    assert (report.applied, report.overridden, report.failures) == (1, 1, ())
    assert store.observed_owner(decision_id_for("L0", 1)) == "r9"
    assert store.observed_owner(decision_id_for("L1", 1)) == ""


def test_dead_effects_are_listed_with_their_reason(store: Store):
    """An effect that ends dead is in the report's failures with the target's reason."""
    (key,) = seed(store, 1)
    report = relay(store, VerdictAdapter(ok=False, detail="VALIDATION_ERROR: bad status"))
    assert [(f.idem_key, f.lead_id, f.reroute, f.detail) for f in report.failures] == [
        (key, "L0", False, "VALIDATION_ERROR: bad status")
    ]


def test_retryable_failure_is_not_listed_until_it_ends_dead(store: Store):
    """A failure that will be retried is not a reported failure yet; the fifth one is."""
    seed(store, 1)
    for _ in range(4):
        assert relay(store, VerdictAdapter(ok=False, retryable=True)).failures == ()
    assert len(relay(store, VerdictAdapter(ok=False, retryable=True)).failures) == 1


class QuotaAdapter:
    """Applies ``room`` effects, then answers every other one with a quota verdict (or raises)."""

    name = "quota"

    def __init__(self, room: int, *, raises: bool = False) -> None:
        self.room = room
        self.raises = raises
        self.calls: list[list[str]] = []

    def read(self) -> Snapshot:
        return Snapshot()

    def report_problems(self, problems: Sequence[InputProblem]) -> None:
        return None

    def apply(self, effects: Sequence[Effect]) -> list[EffectResult]:
        from leadroute.errors import QuotaExhaustedError

        self.calls.append([e.idem_key for e in effects])
        if self.raises and self.room < len(effects):
            raise QuotaExhaustedError("daily limit reached")
        results = []
        for e in effects:
            if self.room > 0:
                self.room -= 1
                results.append(EffectResult(idem_key=e.idem_key, ok=True))
            else:
                results.append(
                    EffectResult(idem_key=e.idem_key, ok=False, quota=True, detail="daily limit")
                )
        return results


def attempts(store: Store) -> dict[str, int]:
    import sqlalchemy as sa

    from leadroute.store import schema

    t = schema.outbox
    with store.engine.connect() as conn:
        return {r.lead_id: r.attempts for r in conn.execute(sa.select(t.c.lead_id, t.c.attempts))}


def test_a_quota_stop_spends_no_attempt_and_stops_the_pass(store: Store):
    """Effects a quota stopped stay pending with no attempt spent, and no later batch is sent."""
    seed(store, 6)
    adapter = QuotaAdapter(room=1)
    report = relay(store, adapter, batch_size=2)
    assert len(adapter.calls) == 1  # the second batch is never sent
    assert (report.applied, report.failed, report.pending, report.dead) == (1, 0, 5, 0)
    assert report.quota == "daily limit" and report.failures == ()
    assert set(attempts(store).values()) == {0}


def test_a_quota_stop_lasting_many_runs_kills_nothing(store: Store):
    """Six runs stopped by the quota, then one with room: every effect is applied, none dead."""
    seed(store, 5)
    for _ in range(6):
        assert relay(store, QuotaAdapter(room=0)).quota
    report = relay(store, QuotaAdapter(room=100))
    assert (report.applied, report.quota) == (5, "")
    assert store.outbox_counts() == {"done": 5}


def test_an_adapter_raising_quota_exhausted_leaves_its_batch_pending(store: Store):
    """QuotaExhaustedError out of apply is a quota verdict for the whole batch, not a crash."""
    seed(store, 3)
    report = relay(store, QuotaAdapter(room=1, raises=True))
    assert report.quota == "daily limit reached" and report.pending == 3
    assert set(attempts(store).values()) == {0}


def test_a_pass_tries_each_effect_once(store: Store):
    """A retryable failure is not re-picked in the same pass: it waits for the next one."""
    seed(store, 4)

    class FirstFails(ScriptedAdapter):
        def apply(self, effects: Sequence[Effect]) -> list[EffectResult]:
            self.calls.append([e.idem_key for e in effects])
            return [
                EffectResult(idem_key=e.idem_key, ok=e.lead_id != "L0", retryable=True)
                for e in effects
            ]

    adapter = FirstFails()
    report = relay(store, adapter, batch_size=2)
    tried = [key for call in adapter.calls for key in call]
    assert len(tried) == len(set(tried)) == 4
    assert (report.applied, report.pending) == (3, 1)
    assert relay(store, adapter, after=report.cursor).applied == 0  # same run: not again
    assert relay(store, ScriptedAdapter("ok")).applied == 1  # next run: retried


def test_dead_effects_stay_unresolved_until_retried_or_resolved(store: Store):
    """A dead effect is listed by every later pass, until queued again or closed by hand."""
    from leadroute.store import unresolved_failures

    seed(store, 2)
    relay(store, VerdictAdapter(ok=False, detail="VALIDATION_ERROR: bad status"))
    relay(store, VerdictAdapter(ok=True))  # a later run applies nothing and forgets nothing
    assert [f.lead_id for f in unresolved_failures(store)] == ["L0", "L1"]
    assert [r.effect.lead_id for r in store.retry_unresolved(["L0"])] == ["L0"]
    assert [f.lead_id for f in unresolved_failures(store)] == ["L1"]
    assert relay(store, VerdictAdapter(ok=True)).applied == 1
    store.resolve_unresolved(["L1"])
    assert unresolved_failures(store) == [] and store.outbox_counts() == {
        "done": 1,
        "resolved": 1,
    }


def test_a_later_decision_supersedes_a_dead_effect(store: Store):
    """When a lead is decided again (a new epoch), its old dead effect is no longer listed."""
    from leadroute.store import unresolved_failures

    seed(store, 1)
    relay(store, VerdictAdapter(ok=False, detail="VALIDATION_ERROR: bad status"))
    d = Decision(
        id=decision_id_for("L0", 2),
        lead_id="L0",
        epoch=2,
        status=DecisionStatus.ROUTED,
        owner_id="r2",
        step=RouteStep.REBALANCE,
        policy_version="1",
        decided_at=AT,
    )
    store.record(d, [])
    assert unresolved_failures(store) == []


def test_a_refusal_that_was_not_rerouted_stays_unresolved(store: Store):
    """A refused owner whose decision is still the latest is an OWNER_REFUSED row, run after run."""
    from leadroute.store import unresolved_failures

    seed(store, 1)
    relay(store, VerdictAdapter(ok=False, reroute=True, detail="owner archived"))
    [failure] = unresolved_failures(store)
    assert failure.reroute and failure.as_problem().code == "OWNER_REFUSED"
    assert "r1" in failure.as_problem().message


class ReadBackTarget:
    """Applies owner writes; a workflow later moves some of them; it can read owners back."""

    name = "readback"

    def __init__(self, moves: dict[str, str] | None = None) -> None:
        from datetime import timedelta

        self.owner_settle = timedelta(0)
        self.owners: dict[str, str] = {}
        self.moves = moves or {}
        self.reads: list[list[str]] = []

    def read(self) -> Snapshot:
        return Snapshot()

    def report_problems(self, problems: Sequence[InputProblem]) -> None:
        return None

    def apply(self, effects: Sequence[Effect]) -> list[EffectResult]:
        for e in effects:
            self.owners[e.lead_id] = str(e.payload["owner_id"])
        return [EffectResult(idem_key=e.idem_key, ok=True) for e in effects]

    def current_owners(self, lead_ids: Sequence[str]) -> dict[str, str]:
        self.reads.append(list(lead_ids))
        return {i: self.moves.get(i, self.owners[i]) for i in lead_ids if i in self.owners}


def test_owner_writes_are_read_back_once_on_a_later_pass(store: Store):
    """A write is re-read on the next pass; a workflow's change is stored and counted, once."""
    seed(store, 3)
    target = ReadBackTarget()
    first = relay(store, target)
    assert first.overridden == 0 and target.reads == []  # nothing older to read back yet
    target.moves = {"L1": "boss"}  # a workflow acted after the writes
    second = relay(store, target)
    assert second.overridden == 1 and target.reads == [["L0", "L1", "L2"]]
    assert store.observed_owner(decision_id_for("L1", 1)) == "boss"
    assert store.observed_owner(decision_id_for("L0", 1)) == ""
    assert relay(store, target).overridden == 0 and len(target.reads) == 1  # read once


def test_read_back_waits_for_the_settle_time(store: Store):
    """A write younger than the adapter's owner_settle is not read back yet."""
    from datetime import timedelta

    seed(store, 1)
    target = ReadBackTarget()
    target.owner_settle = timedelta(hours=1)
    relay(store, target)
    relay(store, target)
    assert target.reads == []


def test_a_lead_lost_by_the_target_is_checked_without_an_override(store: Store):
    """A record the target no longer has (merged, deleted) is marked read, not overridden."""
    seed(store, 1)
    target = ReadBackTarget()
    relay(store, target)
    target.owners.clear()
    assert relay(store, target).overridden == 0
    assert store.owner_writes_to_check(AT.replace(year=2100)) == []


def test_owner_writes_done_before_the_migration_are_not_read_back(tmp_path):
    """Upgrading a store marks its earlier owner writes read back; only new ones are re-read."""
    from alembic import command
    from alembic.config import Config

    from leadroute.store.database import MIGRATIONS

    path = tmp_path / "old.db"
    with Store.open(path) as old:
        seed(old, 2)
        relay(old, ScriptedAdapter("ok"))
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with old.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "text_identifiers")
    with Store.open(path) as upgraded:
        target = ReadBackTarget()
        relay(upgraded, target)
        assert target.reads == []


def test_owner_writes_older_than_a_week_are_not_read_back(store: Store):
    """Read-back is for workflows acting within minutes; a week-old write is left alone."""
    from datetime import UTC, datetime, timedelta

    seed(store, 1)
    relay(store, ScriptedAdapter("ok"))
    now = datetime.now(UTC)
    assert len(store.owner_writes_to_check(now)) == 1
    assert store.owner_writes_to_check(now + timedelta(days=8)) == []
