"""``route``: every lead of a snapshot through the engine, effects relayed, problems reported.

A run: the engine takes the snapshot's team; each lead replays its stored decision or is
decided (online by its pool's strategy, or with ``batch`` jointly by the solver); new
decisions are committed in groups (each group one transaction with its outbox, ledger
and identity rows); outcomes the adapter read reach ``leadroute_record_outcome``; the
relay applies the outbox through the adapter (deciding again what the target refused);
and the exception report (rejected leads, every lead in the fallback queue, replayed or
not, and effects that ended dead) is published through the adapter and stored.

A lead is never decided before it was created: a lead created after the run's time (the
clock, or ``--at``) waits for a later run (``RunResult.waiting``). With ``arrival`` each
lead is decided at its own time (``by_arrival``: its creation), in arrival order, as a
live intake would have decided it.

Rerunning the same input replays the stored decisions: no new decision, no ledger change,
no new side effect. A crash loses at most the group not yet committed; the next run
decides those leads again, identically.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from leadroute.adapters import Adapter
from leadroute.engine import CommitGroup, Engine
from leadroute.fallbacks import fallback_owner_problems, fallback_problems
from leadroute.logs import get_logger
from leadroute.models import Decision, InputProblem, Lead, Snapshot
from leadroute.outcomes import deliver_outcomes
from leadroute.pipeline import Decided, Deferred, Rejected
from leadroute.store.outcomes import save_problems
from leadroute.usecases.batch import Waiting, solve_batch
from leadroute.usecases.problems import rejection_problems
from leadroute.usecases.relay import relay_pass
from leadroute.usecases.results import RunResult, Tally

__all__ = ["GROUP_SIZE", "Phase", "Progress", "by_arrival", "route"]

log = get_logger(__name__)

Progress = Callable[[int], None]
Phase = Callable[[str], None]

# Decisions per commit on the command line: one transaction carries this many (the
# benchmark in docs/performance.md measures the choice); the live path commits one.
GROUP_SIZE = 500


def by_arrival(now: datetime) -> Callable[[Lead], datetime]:
    """Each lead's arrival: its creation time (``now`` for a lead without one)."""
    return lambda lead: lead.created_at or now


def route(
    engine: Engine,
    snapshot: Snapshot,
    *,
    adapter: Adapter | None = None,
    source: str = "library",
    progress: Progress | None = None,
    batch: bool = False,
    arrival: Callable[[Lead], datetime] | None = None,
    group_size: int = GROUP_SIZE,
    phase: Phase | None = None,
) -> RunResult:
    """Route every lead of a snapshot; apply effects and report problems via ``adapter``.

    With ``batch`` the leads that reach a pool are assigned jointly by the solver
    (``leadroute_solve``) instead of one at a time by each pool's strategy. With
    ``arrival`` each lead is decided as of its own time instead of the clock's
    (simulating live intake over a history), the leads taken in arrival order (ties in
    snapshot order). Either way a lead is decided no earlier than its creation, and a
    lead created after the clock's time waits for a later run (``RunResult.waiting``).
    ``progress`` hears how many leads were read so far, ``phase`` what the run does now
    (``deciding``, ``solving``, ``writing owners``, ``reporting``).
    """
    phase = phase or (lambda _: None)
    store = engine.store
    engine.catch_up()
    engine.update_team(snapshot.reps, snapshot.accounts)
    run_id = store.begin_run("route", source)
    at = engine.clock()
    result = RunResult(
        problems=[*snapshot.problems, *fallback_owner_problems(engine.policy, engine.reps, at)],
        plugin_failures=list(engine.host.failures),
    )
    tally = Tally(result)
    waiting: list[Waiting] = []
    leads = list(snapshot.leads)
    if arrival is not None:
        leads.sort(key=arrival)  # stable: ties keep the snapshot's order
    phase("deciding")
    with engine.group(size=group_size, on_commit=tally.committed) as group:
        for index, lead in enumerate(leads, start=1):
            if progress is not None:
                progress(index)
            stored = engine.replay(lead)
            when = _decision_time(lead, at, arrival)
            if stored is None and when is None:
                result.waiting.append(lead.id)  # not created yet at the run's time
                continue
            when = when or at
            if batch:
                waiting.append(
                    stored if stored is not None else engine.pipeline.prepare(lead, when)
                )
            else:
                # Online, each lead sees every decision before it (committed or held).
                _handle(stored or engine.pipeline.decide(lead, when), group, tally)
        if batch:
            phase("solving")
            finished, result.solution = solve_batch(engine, waiting, run_id)
            for outcome in finished:
                # A duplicate of a lead that waited for the solve is decided now, online.
                resumed = (
                    engine.pipeline.resume(outcome.trail)
                    if isinstance(outcome, Deferred)
                    else outcome
                )
                _handle(resumed, group, tally)
    by_id = {lead.id: lead for lead in snapshot.leads}
    deliver_outcomes(engine.host, store, snapshot.outcomes)
    failures: list[InputProblem] = []
    if adapter is not None:
        phase("writing owners")
        result.relay, failures = relay_pass(engine, adapter, by_id, tally.rerouted)
    phase("reporting")
    # Every lead the queue holds is in the report, decided by this run or replayed: never
    # silent; so is every effect a human must see, from this run or an earlier one.
    result.problems.extend(fallback_problems(result.decisions, by_id))
    result.problems.extend(failures)
    if adapter is not None:
        adapter.report_problems(result.problems)
    save_problems(store, run_id, result.problems, at=at)
    counts = {k: v for k, v in result.counts().items() if isinstance(v, int)}
    record: dict[str, Any] = dict(counts)
    if result.plugin_failures:  # the run's record says which plugins it ran without
        record["plugin_failures"] = [f"{f.name}: {f.error}" for f in result.plugin_failures]
    store.finish_run(run_id, record)
    log.info("run.finished", run_id=run_id, source=source, **counts)
    return result


def _decision_time(
    lead: Lead, at: datetime, arrival: Callable[[Lead], datetime] | None
) -> datetime | None:
    """When to decide a lead in a run at ``at``: its arrival (or ``at``), never before its
    creation; None when it was created after ``at``."""
    created = lead.created_at
    if created is not None and created > at:
        return None
    when = arrival(lead) if arrival is not None else at
    return max(when, created) if created is not None else when


def _handle(outcome: Decision | Decided | Rejected, group: CommitGroup, tally: Tally) -> None:
    """Replay a stored decision, stage a new one for its group, or report a rejection."""
    if isinstance(outcome, Decision):
        tally.place(outcome)
    elif isinstance(outcome, Decided):
        tally.place(outcome.decision)  # its place, until its group is written
        group.add(outcome)
    else:
        tally.result.problems.extend(rejection_problems(outcome.lead, outcome.problems))
        log.info("lead.rejected", lead_id=outcome.lead.id, codes=[p.code for p in outcome.problems])
