"""``rebalance``: the nightly move of owned-but-unworked leads, over the engine.

The plan (``leadroute.rebalance``) is made on a copy of the engine's state under the
policy with working hours deferring rather than excluding (the job runs off shift);
``dry_run`` stops there. Each move is a new decision epoch committed with its effect, in
groups, so a crash part-way resumes without moving anything twice (a rerun charges the
moves an interrupted run made against the move caps), and a second run right after moves
nothing. A moved lead's person moves with it. The outbox is relayed (deciding again what
the target refused) and the run's problems are published through the adapter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

import attrs

from leadroute.adapters import Adapter
from leadroute.engine import Engine
from leadroute.fallbacks import fallback_problems
from leadroute.logs import get_logger
from leadroute.models import Decision, RouteStep, Snapshot
from leadroute.pipeline import with_solve
from leadroute.policy import deferring_hours
from leadroute.rebalance import FORCED, plan_rebalance
from leadroute.store import Store
from leadroute.usecases.relay import relay_pass
from leadroute.usecases.results import RebalanceResult, RunResult, Tally
from leadroute.usecases.route import GROUP_SIZE, Progress

__all__ = ["interrupted_moves", "rebalance"]

log = get_logger(__name__)


def rebalance(
    engine: Engine,
    snapshot: Snapshot,
    *,
    adapter: Adapter | None = None,
    dry_run: bool = False,
    source: str = "library",
    progress: Progress | None = None,
    group_size: int = GROUP_SIZE,
) -> RebalanceResult:
    """Move owned-but-unworked leads jointly; ``dry_run`` plans without writing anything."""
    store = engine.store
    engine.catch_up()
    engine.update_team(snapshot.reps, snapshot.accounts)
    known = dict(engine.state.latest)
    planner = engine.planner(policy=deferring_hours(engine.policy))
    at = engine.clock()
    interrupted, spent = interrupted_moves(store, snapshot, known)
    plan = plan_rebalance(
        planner,
        snapshot.leads,
        known,
        at,
        spent=spent,
        person_records=engine.person_records,
        quiet=ran_recently(store, at, engine.policy.rebalance.min_interval),
    )
    if dry_run:
        return RebalanceResult(plan=plan, applied=0, relay=None)
    run_id = store.begin_run("rebalance", source)
    result = RunResult(problems=list(snapshot.problems))
    tally = Tally(result)
    with engine.group(size=group_size, on_commit=tally.committed) as group:
        for index, move in enumerate(plan.moves, start=1):
            solve = move.decided.decision.solve
            # The run id on each move lets a rerun find what an interrupted run already did.
            decided = (
                with_solve(move.decided, attrs.evolve(solve, run_id=run_id))
                if solve is not None
                else move.decided
            )
            tally.place(decided.decision)
            # A moved lead takes its person's other records along (planned as followers).
            group.add(decided, moved=move.carries_person, planned=True)
            if progress is not None:
                progress(index)
    relay_report = None
    if adapter is not None:
        leads = {lead.id: lead for lead in snapshot.leads}
        relay_report, failures = relay_pass(engine, adapter, leads, tally.rerouted)
        result.problems.extend(fallback_problems(result.decisions, leads))
        result.problems.extend(failures)
        adapter.report_problems(result.problems)
    applied = applied_moves((m.lead_id for m in plan.moves), result)
    counts = {
        "considered": plan.considered,
        "movable": len(plan.movable),
        "moved": applied,
        "kept": plan.kept,
        "resumed_after": sum(spent.values()),
        "followed": len(result.followers),
        "held": len(plan.held),
        # The plan's time (``--at``): the next run knows a plan was made for this night.
        "at": at.isoformat(),
    }
    store.finish_run(run_id, counts)
    for old_run in interrupted:
        # Its moves now count as this run's: a later run must not charge them again.
        store.finish_run(old_run, {"interrupted": 1})
    log.info("rebalance.finished", run_id=run_id, **counts)
    return RebalanceResult(plan=plan, applied=applied, relay=relay_report)


def interrupted_moves(
    store: Store, snapshot: Snapshot, known: Mapping[str, Decision]
) -> tuple[list[str], dict[str, int]]:
    """Rebalance runs that never finished (killed mid-apply) and the moves they made.

    Returns their run ids and rep id -> moves away from that rep, to charge against
    this run's move caps. Forced moves (owner inactive or on leave) do not count toward
    the caps; any other move is counted, which errs toward moving fewer.
    """
    runs = {
        r["id"]
        for r in store.runs(limit=100)
        if r["command"] == "rebalance" and r["finished_at"] is None
    }
    if not runs:
        return [], {}
    source_owner = {lead.id: lead.owner_id for lead in snapshot.leads}
    spent: Counter[str] = Counter()
    for d in known.values():
        if d.step != RouteStep.REBALANCE or d.solve is None or d.solve.run_id not in runs:
            continue
        if any(p.startswith("rebalance:") and _forced(p) for p in d.route_path):
            continue
        before = store.decision_at(d.lead_id, d.epoch - 1)
        spent[before.owner_id if before else source_owner.get(d.lead_id, "")] += 1
    return sorted(runs), dict(spent)


def ran_recently(store: Store, at: datetime, interval: timedelta) -> bool:
    """Whether a rebalance finished (not interrupted) with a plan made less than
    ``interval`` before ``at`` (the plan's time, as the run recorded it)."""
    for run in store.runs(limit=100):
        counts = run["counts"]
        if run["command"] != "rebalance" or run["finished_at"] is None or "at" not in counts:
            continue
        if counts.get("interrupted"):
            continue
        when = datetime.fromisoformat(counts["at"])
        if timedelta(0) <= at - when < interval:
            return True
    return False


def applied_moves(lead_ids: Iterable[str], result: RunResult) -> int:
    """Planned moves (of these leads) that happened: by their own decision, or by following
    a record of the same person that moved first (whose follower took the move's epoch)."""
    moved = {d.lead_id for d in result.decisions if d.id in result.new_ids}
    moved |= {f.lead_id for f in result.followers}
    return sum(1 for lead_id in lead_ids if lead_id in moved)


def _forced(path_step: str) -> bool:
    """Whether a ``rebalance:REASONS`` path step names a move no cap applies to."""
    reasons = set(path_step.removeprefix("rebalance:").split(","))
    return bool(reasons & FORCED)
