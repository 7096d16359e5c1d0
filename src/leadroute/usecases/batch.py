"""The batch chooser of ``route --batch``: every lead that reached a pool, solved jointly.

``Pipeline.prepare`` brings each lead up to its pool (capacity left out); the waiting
leads become one ``BatchProblem``, the ``leadroute_solve`` hook solves it (min-cost flow
by default), ``Pipeline.finish`` turns each choice into a decision, and the solve's
capacity prices are published for ``strategy: optimize`` online.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from leadroute.engine import Engine
from leadroute.logs import get_logger
from leadroute.models import Decision
from leadroute.pipeline import Decided, Deferred, Pending, Rejected, with_solve
from leadroute.policy import Policy
from leadroute.solver import (
    BatchProblem,
    SideConstraints,
    Solution,
    duals,
    steering_prices,
    unassigned_reasons,
)

__all__ = ["Waiting", "solve_batch"]

log = get_logger(__name__)

Waiting = Decision | Decided | Rejected | Pending | Deferred


def solve_batch(
    engine: Engine, outcomes: Sequence[Waiting], run_id: str = ""
) -> tuple[list[Decision | Decided | Rejected | Deferred], Solution | None]:
    """Solve every pending lead jointly, then finish each with the solver's choice.

    Returns the outcomes in order (pending ones finished) and the solve (None when no
    lead was pending).
    """
    pipeline, policy = engine.pipeline, engine.policy
    pending = [o for o in outcomes if isinstance(o, Pending)]
    if not pending:
        return [o for o in outcomes if not isinstance(o, Pending)], None
    # Room left after this batch's sticky decisions (current and account owners).
    room = pipeline.room(pending[0].trail.at)
    problem = BatchProblem.from_candidates(
        {p.lead_id: [(c.rep_id, max(0.0, c.fit)) for c in p.candidates] for p in pending},
        room,
        fairness=policy.batch.fairness,
        side=side_constraints(policy, pending),
        pools={p.lead_id: p.pool.name for p in pending},
        pool_caps={pool.name: pool.max_per_batch for pool in policy.pools},
    )
    solution = engine.host.solve(problem)
    unplaced = {
        problem.lead_ids[i]: why for i, why in unassigned_reasons(problem, solution).items()
    }
    prices: dict[str, float] = {}
    if solution.optimal:
        # Publish what each rep's capacity is worth, for the optimize strategy online.
        dual = duals(problem, solution)
        # Prices of the solve with a strictly convex capacity cost: a busy rep carries a
        # positive price even when fits tie and capacity is slack (minimal prices of the
        # fit-only solve are all zero there), so one-at-a-time routing still steers.
        steering = steering_prices(problem)
        prices = dict(zip(problem.rep_ids, steering.tolist(), strict=True))
        engine.publish_prices(prices, engine.clock())
        if problem.pool_ids:
            # A full pool's price: the fit one more lead of cap would add. Logged, not
            # published: online routing does not count pool caps.
            log.info(
                "solver.pool_prices",
                run_id=run_id,
                prices=dict(zip(problem.pool_ids, dual.pool.round(4).tolist(), strict=True)),
            )
    chosen = {
        problem.lead_ids[i]: problem.rep_ids[r]
        for i, r in enumerate(solution.assignment.tolist())
        if r >= 0
    }
    # Every decision the solve made keeps the solve's status, bound, gap and timings.
    summary = attrs.evolve(solution.summary(problem), run_id=run_id)
    finished = [
        with_solve(
            pipeline.finish(o, chosen.get(o.lead_id), prices, unplaced=unplaced.get(o.lead_id, "")),
            summary,
        )
        if isinstance(o, Pending)
        else o
        for o in outcomes
    ]
    return finished, solution


def side_constraints(policy: Policy, pending: Sequence[Pending]) -> SideConstraints | None:
    """The batch rules the policy asks for, per pending lead (None when it asks for none)."""
    settings = policy.batch
    if not settings.same_owner_per_account and not settings.max_type_share:
        return None
    return SideConstraints(
        account=tuple(
            p.trail.match.account_id if settings.same_owner_per_account and p.trail.match else ""
            for p in pending
        ),
        lead_type=tuple(p.trail.lead.lead_type.strip().lower() for p in pending),
        max_type_share={k.lower(): v for k, v in settings.max_type_share.items()},
        time_limit=settings.time_limit.total_seconds(),
    )
