"""Lead scoring: rule points with time decay, per-group caps, and the lifecycle stage.

Scoring runs before routing (``Pipeline.start``), so a lead whose score crosses the MQL
threshold in this very request routes as an MQL. The built-in rules and third-party
``leadroute_score_lead`` contributions are combined here, caps applied to both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import attrs

from leadroute.models import Lead, LeadEvent, ScoreContribution
from leadroute.policy import Policy, ScoreRule, ScoringPolicy

__all__ = [
    "STAGES",
    "LeadScore",
    "combine",
    "decay",
    "format_score",
    "rule_contributions",
    "with_score",
]

STAGES = ("lead", "mql", "sql")


@attrs.frozen(kw_only=True)
class LeadScore:
    """A lead's score and what it is made of.

    Attributes:
        total: The sum of every contribution, caps included.
        stage: ``lead``, ``mql`` or ``sql``; ``""`` when the policy sets no threshold.
        contributions: Every part, with one ``cap:<group>`` entry per capped group.
    """

    total: float
    stage: str
    contributions: tuple[ScoreContribution, ...] = ()


def decay(age: timedelta, half_life: timedelta | None) -> float:
    """The share of an event's points left after ``age`` (1.0 without a half-life)."""
    if half_life is None or age <= timedelta(0):
        return 1.0
    return float(0.5 ** (age / half_life))


def _event_contribution(
    rule: ScoreRule, events: Sequence[LeadEvent], at: datetime, half_life: timedelta | None
) -> ScoreContribution | None:
    matching = [e for e in events if e.kind.lower() == rule.event.lower() and e.at <= at]
    if not matching:
        return None
    count = sum(e.count for e in matching)
    points = sum(rule.points * e.count * decay(at - e.at, half_life) for e in matching)
    full = rule.points * count
    detail = f"{count} x {rule.event}"
    if half_life is not None and round(points, 2) != round(full, 2):
        detail += f", {full:g} decayed to {points:.1f}"
    if rule.cap is not None and points > rule.cap:
        points, detail = rule.cap, f"{detail}, capped at {rule.cap:g}"
    return ScoreContribution(
        name=rule.name, points=round(points, 2), group=rule.group, detail=detail
    )


def rule_contributions(lead: Lead, scoring: ScoringPolicy, at: datetime) -> list[ScoreContribution]:
    """The policy's rules applied to one lead: field rules once, event rules per event.

    Events later than ``at`` are not counted: a replay or simulation at an earlier time
    sees only what had happened by then.
    """
    found = []
    for rule in scoring.rules:
        if not rule.matches(lead):
            continue
        if rule.event:
            contribution = _event_contribution(rule, lead.events, at, scoring.half_life)
            if contribution is not None:
                found.append(contribution)
            continue
        points = rule.points if rule.cap is None else min(rule.points, rule.cap)
        conditions = ", ".join(sorted(rule.when)) or "every lead"
        found.append(
            ScoreContribution(name=rule.name, points=points, group=rule.group, detail=conditions)
        )
    return found


def combine(contributions: Iterable[ScoreContribution], policy: Policy) -> LeadScore:
    """Sum contributions, cap each group the policy caps, and set the lifecycle stage."""
    parts = list(contributions)
    scoring = policy.scoring
    caps = scoring.caps if scoring else {}
    sums: dict[str, float] = {}
    for part in parts:
        sums[part.group] = sums.get(part.group, 0.0) + part.points
    for group, cap in caps.items():
        if sums.get(group, 0.0) > cap:
            parts.append(
                ScoreContribution(
                    name=f"cap:{group}",
                    points=round(cap - sums[group], 2),
                    group=group,
                    detail=f"{group} {sums[group]:g} capped at {cap:g}",
                )
            )
    total = round(sum(p.points for p in parts), 2)
    return LeadScore(total=total, stage=_stage(total, scoring), contributions=tuple(parts))


def _stage(total: float, scoring: ScoringPolicy | None) -> str:
    if scoring is None or (scoring.mql is None and scoring.sql is None):
        return ""
    if scoring.sql is not None and total >= scoring.sql:
        return "sql"
    if scoring.mql is not None and total >= scoring.mql:
        return "mql"
    return "lead"


def format_score(total: float) -> str:
    """A score as text for conditions: ``72``, ``61.21`` (never exponent notation)."""
    return str(int(total)) if float(total).is_integer() else f"{total:.2f}".rstrip("0")


def with_score(lead: Lead, score: LeadScore) -> Lead:
    """The lead with ``score`` and ``lifecycle_stage`` attributes routing rules can test.

    The computed score replaces a ``score`` column from the input: routing must see the
    score of this request, not a stale one from the CRM.
    """
    attributes = {**lead.attributes, "score": format_score(score.total)}
    if score.stage:
        attributes["lifecycle_stage"] = score.stage
    return attrs.evolve(lead, attributes=attributes)
