"""Which owned leads a rebalance may move, which stay although they could, and why.

A lead is **movable** (``movable_reasons``, stable codes) when its owner is inactive or
unknown (``OWNER_INACTIVE``), on leave for longer than ``rebalance.leave_longer_than``
(``OWNER_ON_LEAVE``), over capacity (``OWNER_OVER_CAPACITY``), or has not touched it
within ``rebalance.unworked_after`` of assignment (``UNWORKED``). A lead with any activity
since its assignment is worked and never moves. A nurture lead is movable only once it
qualifies (``QUALIFIED``). Inactive, on leave and qualified are **forced**: the owner
cannot (or must not) keep the lead, so no cap or hold applies.

A movable lead is **held** (``hold_reason``) for a discretionary reason only:

* ``REBALANCED_RECENTLY``: a rebalance finished less than ``rebalance.min_interval`` ago,
  so this run makes forced moves only (one plan per night; a rerun moves nothing new);
* ``MOVED_RECENTLY``: a rebalance moved it (or it followed its person's move) less than
  ``rebalance.hold_after_move`` ago: no bounce-back;
* ``ACCOUNT_OWNED``: its owner owns its account (``rebalance.keep_account_owned``), and
  account ownership beats territory and capacity;
* ``PERSON_HELD``: another record of the same person stays (worked, held, or too fresh to
  move), and a person's records move together.
"""

from __future__ import annotations

from datetime import datetime

from leadroute.models import Decision, Lead, Rep, RouteStep
from leadroute.pipeline import Pipeline

__all__ = ["FORCED", "account_owned", "hold_reason", "movable_reasons", "moved_by_rebalance"]

# The owner cannot keep these: gone, away, or the nurture queue for a lead sales must now
# work (``QUALIFIED``).
FORCED = frozenset({"OWNER_INACTIVE", "OWNER_ON_LEAVE", "QUALIFIED"})


def movable_reasons(
    lead: Lead, owner: Rep | None, assigned_at: datetime, at: datetime, pipeline: Pipeline
) -> tuple[str, ...]:
    """Why an owned lead may move now (empty: it stays, e.g. because it was worked)."""
    settings = pipeline.policy.rebalance
    if lead.last_activity_at is not None and lead.last_activity_at >= assigned_at:
        return ()  # worked since assignment: never moved
    reasons = []
    if owner is None or not owner.active:
        reasons.append("OWNER_INACTIVE")
    elif (
        window := owner.availability.leave_at(at)
    ) and window.end - at > settings.leave_longer_than:
        reasons.append("OWNER_ON_LEAVE")
    if (
        owner is not None
        and owner.capacity.max_open is not None
        and pipeline.loads.get(owner.id, 0) > owner.capacity.max_open
    ):
        reasons.append("OWNER_OVER_CAPACITY")
    if at - assigned_at >= settings.unworked_after:
        reasons.append("UNWORKED")
    return tuple(reasons)


def moved_by_rebalance(decision: Decision) -> bool:
    """Whether a decision is a rebalance move, or a record following its person's move."""
    dup = decision.duplicate
    return decision.step == RouteStep.REBALANCE or (dup is not None and dup.role == "follower")


def account_owned(lead: Lead, owner_id: str, stored: Decision | None, pipeline: Pipeline) -> bool:
    """Whether the lead's owner holds it as its account's owner: the account-owner step
    gave it to them, or the lead matches an owned account (of a status the policy's
    ``account_owner`` counts) whose owner is its owner."""
    if stored is not None and stored.step == RouteStep.ACCOUNT_OWNER:
        return stored.owner_id == owner_id
    settings = pipeline.policy.account_owner
    if not settings.enabled:
        return False
    match = pipeline.host.match_account(lead, pipeline.accounts, pipeline.policy)
    account = pipeline.accounts.by_id.get(match.account_id) if match else None
    if account is None or account.owner_id != owner_id:
        return False
    statuses = {s.lower() for s in settings.statuses}
    return not statuses or account.status.lower() in statuses


def hold_reason(
    lead: Lead,
    owner_id: str,
    stored: Decision | None,
    reasons: tuple[str, ...],
    at: datetime,
    pipeline: Pipeline,
    *,
    quiet: bool,
) -> str:
    """Why a movable lead stays although it may move (``""``: nothing holds it).

    ``quiet``: a rebalance finished within ``min_interval``, so only forced moves are made.
    """
    if FORCED & set(reasons):
        return ""
    settings = pipeline.policy.rebalance
    if quiet:
        return "REBALANCED_RECENTLY"
    if (
        stored is not None
        and moved_by_rebalance(stored)
        and at - stored.decided_at < settings.hold_after_move
    ):
        return "MOVED_RECENTLY"
    if settings.keep_account_owned and account_owned(lead, owner_id, stored, pipeline):
        return "ACCOUNT_OWNED"
    return ""
