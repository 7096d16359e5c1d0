"""Intake decisions the pipeline takes before routing: problem actions, type, SLA, score.

``Pipeline.start`` runs normalize -> enrich -> validate -> score through the hooks; this
module holds the policy lookups around them, so the pipeline stays a list of stages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from leadroute.errors import PolicyError
from leadroute.host import PluginHost
from leadroute.models import InputProblem, Lead, Problem, Rep
from leadroute.policy import LeadTypePolicy, Policy
from leadroute.scoring import LeadScore, combine, with_score
from leadroute.team import unknown_rep

__all__ = [
    "QUALIFIED",
    "check_intake_references",
    "decision_fields",
    "lead_type_of",
    "resolve_actions",
    "score_lead",
    "wants_nurture",
]

# Lifecycle stages that sales works whatever the lead type's route says.
QUALIFIED = frozenset({"mql", "sql"})


def resolve_actions(problems: Iterable[Problem], policy: Policy) -> tuple[Problem, ...]:
    """Every problem with the action the policy gives its code (plugins' codes included)."""
    actions = policy.validation.actions
    return tuple(
        attrs.evolve(p, action=actions[p.code])
        if p.code in actions and p.action != actions[p.code]
        else p
        for p in problems
    )


def score_lead(
    host: PluginHost, lead: Lead, policy: Policy, at: datetime
) -> tuple[Lead, LeadScore | None]:
    """Score a lead through the hook and put ``score``/``lifecycle_stage`` on it.

    Nothing is scored (``None``) when the policy has no ``scoring`` section and no plugin
    contributes: the lead's own attributes stay as read.
    """
    contributions = host.score_lead(lead, policy, at)
    if policy.scoring is None and not contributions:
        return lead, None
    score = combine(contributions, policy)
    return with_score(lead, score), score


def lead_type_of(lead: Lead, policy: Policy) -> LeadTypePolicy | None:
    """The policy's lead type the (normalized) lead carries, if any."""
    return policy.lead_types.named(lead.lead_type) if lead.lead_type else None


def wants_nurture(lead: Lead, policy: Policy, score: LeadScore | None) -> LeadTypePolicy | None:
    """The lead's type when it routes to nurture: its route says so and it is not an MQL/SQL."""
    kind = lead_type_of(lead, policy)
    if kind is None or kind.route != "nurture":
        return None
    if score is not None and score.stage in QUALIFIED:
        return None
    return kind


def decision_fields(lead: Lead, policy: Policy, score: LeadScore | None) -> Mapping[str, Any]:
    """The intake fields of a decision: type, priority and score (the SLA deadline is the
    owner's, ``leadroute.deadlines``)."""
    kind = lead_type_of(lead, policy)
    fields: dict[str, Any] = {}
    if kind is not None:
        fields |= {"lead_type": kind.name, "priority": kind.priority}
    if score is not None:
        fields |= {
            "score": score.total,
            "lifecycle_stage": score.stage,
            "score_contributions": score.contributions,
        }
    return fields


def check_intake_references(
    policy: Policy, reps: Mapping[str, Rep], problems: Iterable[InputProblem] = ()
) -> None:
    """The nurture queue's owner must be a known, active rep (like the fallback owner)."""
    if policy.nurture is None:
        return
    owner = reps.get(policy.nurture.owner)
    if owner is None:
        raise unknown_rep(policy.nurture.owner, "nurture.owner", problems)
    if not owner.active:
        raise PolicyError(
            f"rep {owner.id!r} is inactive; the nurture queue needs an active owner",
            path="nurture.owner",
        )
