"""``reassign``: move a departing rep's leads through the same policy.

Reps get reshuffled, leave the company or change teams, and their leads must follow. A
reassignment takes every lead the rep owns now (by this store's latest decision, or the
source's owner for leads it never decided), excludes the rep everywhere with
``REASSIGNED_AWAY`` and decides each lead again as a new epoch:

* no target: the whole policy (account owner, rules, pools, backups, fallback);
* ``--to POOL``: that pool, under the policy's hard constraints and its strategy;
* ``--to REP``: that rep, subject to their availability and caps (not to territory:
  naming the rep is the choice), else the fallback queue with the reason.

Working hours defer rather than exclude (``policy.deferring_hours``): a reassignment run
in the evening hands leads to reps for their next working day, with the SLA clock
starting then, instead of sending everything to the fallback queue.

With ``only_unworked`` a lead with activity since its assignment stays. Every move is a
new decision with its outbox effect and ledger turn, so a crash part-way resumes without
moving anything twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime

import attrs

from leadroute.context import RoutingContext
from leadroute.errors import UserInputError
from leadroute.host import PluginHost, hookimpl
from leadroute.models import Decision, Exclusion, ExclusionCode, Lead, Rep
from leadroute.pipeline import Decided, Pipeline, Rejected
from leadroute.policy import AccountOwnerPolicy, Policy, PoolPolicy, Rule, deferring_hours

__all__ = ["ReassignPlan", "Reassignment", "excluding", "owned_by", "plan_reassign", "policy_for"]

PLUGIN_NAME = "leadroute.reassign.away"


@attrs.frozen(kw_only=True)
class Reassignment:
    """One lead leaving the departing rep.

    Attributes:
        lead_id: The lead.
        from_owner: The departing rep.
        to_owner: The new owner (the queue's owner for a fallback).
        status: ``routed`` or ``fallback``.
        step: The hierarchy step that decided.
        reason: Why this owner.
        decided: The decision (a new epoch) with its ledger entries.
    """

    lead_id: str
    from_owner: str
    to_owner: str
    status: str
    step: str
    reason: str
    decided: Decided


@attrs.frozen(kw_only=True)
class ReassignPlan:
    """What a reassignment would do.

    Attributes:
        from_rep: The departing rep.
        target: The ``--to`` target, ``""`` for the whole policy.
        owned: Leads the rep owns now.
        worked: Owned leads kept because they were worked (``only_unworked``).
        moves: The reassignments, in input order.
        rejected: Leads validation rejects now (kept with their owner, reported).
    """

    from_rep: str
    target: str
    owned: int
    worked: int
    moves: tuple[Reassignment, ...]
    rejected: tuple[Rejected, ...] = ()


class _Away:
    """A one-run plugin: the departing rep takes nothing."""

    def __init__(self, rep_id: str) -> None:
        self.rep_id = rep_id

    @hookimpl
    def leadroute_exclude_rep(self, lead: Lead, rep: Rep, ctx: RoutingContext) -> list[Exclusion]:
        if rep.id != self.rep_id:
            return []
        return [Exclusion(rep_id=rep.id, code=ExclusionCode.REASSIGNED_AWAY, detail="leaving")]


@contextmanager
def excluding(host: PluginHost, rep_id: str) -> Iterator[PluginHost]:
    """The host with ``rep_id`` excluded from every step, for the duration of the block."""
    host.register(_Away(rep_id), name=PLUGIN_NAME, source="reassign")
    try:
        yield host
    finally:
        host.unregister(PLUGIN_NAME)


def policy_for(policy: Policy, reps: Mapping[str, Rep], to: str) -> Policy:
    """The policy a reassignment decides under: the same one, or narrowed to ``to``.

    ``UserInputError`` when ``to`` names neither a pool nor a rep.
    """
    policy = deferring_hours(policy)
    if not to:
        return attrs.evolve(policy, keep_current_owner=False)
    no_accounts = AccountOwnerPolicy(enabled=False)
    if any(p.name == to for p in policy.pools):
        rule = Rule(name=f"reassign-to-{to}", pool=to)
        return attrs.evolve(
            policy, keep_current_owner=False, account_owner=no_accounts, routing=(rule,)
        )
    if to in reps:
        # Naming the rep is the choice: off shift, they keep it and their clock waits.
        pool = PoolPolicy(name=f"reassign:{to}", members=(to,), out_of_hours="defer")
        rule = Rule(name=f"reassign-to-{to}", pool=pool.name, constraints=())
        return attrs.evolve(
            policy,
            keep_current_owner=False,
            account_owner=no_accounts,
            pools=(*policy.pools, pool),
            routing=(rule,),
        )
    raise UserInputError(f"--to: {to!r} is neither a pool in the policy nor a known rep")


def owned_by(
    rep_id: str, leads: Sequence[Lead], known: Mapping[str, Decision]
) -> list[tuple[Lead, datetime | None, int]]:
    """The rep's leads now: ``(lead, assigned_at, current epoch)``, in input order."""
    found = []
    for lead in leads:
        stored = known.get(lead.id)
        owner = stored.owner_id if stored else lead.owner_id
        if owner == rep_id:
            assigned_at = stored.decided_at if stored else lead.created_at
            found.append((lead, assigned_at, stored.epoch if stored else 0))
    return found


def plan_reassign(
    pipeline: Pipeline,
    leads: Sequence[Lead],
    known: Mapping[str, Decision],
    at: datetime,
    *,
    from_rep: str,
    to: str = "",
    only_unworked: bool = False,
) -> ReassignPlan:
    """Decide the departing rep's leads again (the pipeline's host must exclude the rep)."""
    owned = owned_by(from_rep, leads, known)
    # Their leads are what is being decided: free the places they hold.
    pipeline.loads[from_rep] = max(0, pipeline.loads.get(from_rep, 0) - len(owned))
    moves, rejected, worked = [], [], 0
    for lead, assigned_at, epoch in owned:
        activity = lead.last_activity_at
        if (
            only_unworked
            and activity is not None
            and (assigned_at is None or activity >= assigned_at)
        ):
            worked += 1
            continue
        outcome = pipeline.decide(attrs.evolve(lead, owner_id=""), at, epoch=epoch + 1)
        if isinstance(outcome, Rejected):
            rejected.append(outcome)
            continue
        d = attrs.evolve(
            outcome.decision,
            route_path=(f"reassign:from-{from_rep}", *outcome.decision.route_path),
            reason=f"reassigned from {from_rep}: {outcome.decision.reason}",
        )
        moves.append(
            Reassignment(
                lead_id=lead.id,
                from_owner=from_rep,
                to_owner=d.owner_id,
                status=str(d.status),
                step=str(d.step),
                reason=d.reason,
                decided=attrs.evolve(outcome, decision=d),
            )
        )
    return ReassignPlan(
        from_rep=from_rep,
        target=to,
        owned=len(owned),
        worked=worked,
        moves=tuple(moves),
        rejected=tuple(rejected),
    )
