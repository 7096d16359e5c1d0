"""Why a rep cannot take a lead: the policy's hard constraints (territory, language,
segment, product and skill levels).

Implemented as ``leadroute_exclude_reps`` over an index of the team built once per run
(``leadroute.constraints.ConstraintIndex``), so a pool of a thousand reps costs a few
lookups per lead; only the reps that pass reach the per-rep ``leadroute_exclude_rep``
hooks (``builtins/availability.py``, ``builtins/capacity.py``, third-party plugins).
Which constraints apply is ``ctx.constraints``: pool routing uses the rule's (or the
policy's) list; the current-owner and account-owner steps use none.
"""

from __future__ import annotations

from collections.abc import Sequence

from leadroute.constraints import HARD_CONSTRAINTS, ConstraintIndex
from leadroute.context import RoutingContext
from leadroute.host import hookimpl
from leadroute.models import ExclusionGroup, Lead
from leadroute.team import Team

MEMO_KEY = "leadroute.builtins.eligibility"


def index_for(team: Team, ctx: RoutingContext) -> ConstraintIndex:
    """The team's constraint index under the context's policy, built on first use."""
    policy = ctx.policy
    index = team.memo(
        (MEMO_KEY, id(policy)), lambda: ConstraintIndex.build(policy, team.reps.values())
    )
    # Keyed by the policy's id: the index holds its policy, so the id cannot be reused.
    return index


@hookimpl
def leadroute_exclude_reps(
    lead: Lead, team: Team, rep_ids: Sequence[str], ctx: RoutingContext
) -> tuple[ExclusionGroup, ...] | None:
    """Groups of reps that fail a hard constraint in force, one group per code and detail."""
    if not any(c in ctx.constraints for c in HARD_CONSTRAINTS):
        return None
    return index_for(team, ctx).exclude(lead, rep_ids, ctx)
