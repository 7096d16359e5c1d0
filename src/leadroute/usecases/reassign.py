"""``reassign``: move a departing rep's leads through the policy, over the engine.

The plan (``leadroute.reassign``) is made on a copy of the engine's state, with the rep
excluded everywhere; ``dry_run`` stops there. Each move is a new decision epoch with its
effect and rotation turn, committed in groups, so a crash part-way resumes without moving
anything twice. A moved lead's person moves with it. The outbox is relayed (deciding
again what the target refused) and the run's problems are published through the adapter.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from leadroute.adapters import Adapter
from leadroute.engine import Engine, Verdict
from leadroute.fallbacks import fallback_problems
from leadroute.logs import get_logger
from leadroute.models import Decision, Lead, Snapshot
from leadroute.pipeline import Trail
from leadroute.reassign import excluding, plan_reassign, policy_for
from leadroute.usecases.problems import rejection_problems
from leadroute.usecases.rebalance import applied_moves
from leadroute.usecases.relay import relay_pass
from leadroute.usecases.results import ReassignResult, RunResult, Tally
from leadroute.usecases.route import GROUP_SIZE

__all__ = ["lead_of", "reassign", "reassign_one"]

log = get_logger(__name__)


def reassign(
    engine: Engine,
    snapshot: Snapshot,
    *,
    from_rep: str,
    to: str = "",
    only_unworked: bool = False,
    dry_run: bool = False,
    adapter: Adapter | None = None,
    source: str = "library",
    group_size: int = GROUP_SIZE,
) -> ReassignResult:
    """Move ``from_rep``'s leads through the policy (``leadroute.reassign``)."""
    store = engine.store
    engine.catch_up()
    engine.update_team(snapshot.reps, snapshot.accounts)
    known = dict(engine.state.latest)
    policy = policy_for(engine.policy, engine.reps, to)
    with excluding(engine.host, from_rep) as host:
        planner = engine.planner(policy=policy, host=host)
        plan = plan_reassign(
            planner,
            snapshot.leads,
            known,
            engine.clock(),
            from_rep=from_rep,
            to=to,
            only_unworked=only_unworked,
        )
    if dry_run:
        return ReassignResult(plan=plan, applied=0, relay=None)
    run_id = store.begin_run("reassign", source)
    result = RunResult(problems=list(snapshot.problems))
    for rejected in plan.rejected:
        result.problems.extend(rejection_problems(rejected.lead, rejected.problems))
    tally = Tally(result)
    with engine.group(size=group_size, on_commit=tally.committed) as group:
        for move in plan.moves:
            tally.place(move.decided.decision)
            group.add(move.decided, moved=True, planned=True)
    relay_report = None
    if adapter is not None:
        leads = {lead.id: lead for lead in snapshot.leads}
        relay_report, failures = relay_pass(engine, adapter, leads, tally.rerouted)
        result.problems.extend(fallback_problems(result.decisions, leads))
        result.problems.extend(failures)
        adapter.report_problems(result.problems)
    applied = applied_moves((m.lead_id for m in plan.moves), result)
    counts = {
        "owned": plan.owned,
        "worked": plan.worked,
        "moved": applied,
        "followed": len(result.followers),
    }
    store.finish_run(run_id, counts)
    log.info("reassign.finished", run_id=run_id, from_rep=from_rep, to=to, **counts)
    return ReassignResult(plan=plan, applied=applied, relay=relay_report)


def reassign_one(
    engine: Engine, decision: Decision, *, to: str, reason: str, at: datetime | None = None
) -> Verdict:
    """Move one lead, as its decision stands, to ``to`` (a pool or a rep) without its owner.

    For a move the live service makes (an SLA breach with ``reassign_to: <pool>``): the
    lead is rebuilt from the decision's routing features (the store keeps no personal
    data), decided by the target's rule, pool and strategy (then its backup, then the
    fallback queue), and committed as the next epoch with ``reason`` first in its reason,
    its effects, notifications and timers; the person's other records follow it.
    ``UserInputError`` when ``to`` names neither a pool nor a rep.
    """
    when = at or engine.clock()
    policy = policy_for(engine.policy, engine.reps, to)
    with excluding(engine.host, decision.owner_id) as host:
        planner = engine.planner(policy=policy, host=host)
        lead, score = planner.intake(lead_of(decision), when)
        trail = Trail(lead=lead, at=when, epoch=decision.epoch + 1, score=score)
        decided = planner.in_pool(trail)
    moved = attrs.evolve(
        decided.decision,
        route_path=(f"reassign:from-{decision.owner_id}", *decided.decision.route_path),
        reason=f"{reason}: {decided.decision.reason}",
    )
    done = engine.commit(attrs.evolve(decided, decision=moved), moved=True, planned=True)
    log.info("lead.reassigned", lead_id=decision.lead_id, rep_id=done.decision.owner_id, to=to)
    return Verdict(decision=done.decision, new=done.new, followers=done.followers)


def lead_of(decision: Decision) -> Lead:
    """The lead as its decision recorded it: the routing features, no personal data."""
    f = decision.features
    created = f.get("created_at", "")
    return Lead(
        id=decision.lead_id,
        country=f.get("country", ""),
        language=f.get("language", ""),
        product=f.get("product", ""),
        lead_type=f.get("lead_type", ""),
        source=f.get("source", ""),
        created_at=datetime.fromisoformat(created) if created else None,
        attributes={k: v for k, v in f.items() if k in ("region", "segment")},
        origin=f"decision:{decision.id}",
    )
