"""Per-lead facts: one row per routed lead with the times and outcomes metrics need.

Clocks: *time to owner* runs from the lead's creation to its first decision; *time to
first touch* and the SLA run from that first decision to the first touch (a
``first_touch``, ``meeting_booked`` or ``converted`` outcome, whichever comes first).
A lead that kept the owner it already had (``current_owner``) has no time to owner:
leadroute did not assign it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

import attrs

from leadroute.measures import flagged_codes, in_fallback
from leadroute.models import Decision, Outcome, OutcomeKind, RouteStep
from leadroute.policy import ReportingPolicy

__all__ = ["TOUCH_KINDS", "LeadFacts", "build_facts", "route_label"]

TOUCH_KINDS = frozenset(
    {OutcomeKind.FIRST_TOUCH, OutcomeKind.MEETING_BOOKED, OutcomeKind.CONVERTED}
)


def route_label(decision: Decision) -> str:
    """The route path a decision took, as reports group it (``rule na-smb``, ``account owner``)."""
    step = RouteStep(decision.step)
    if step == RouteStep.POOL and decision.rule:
        return f"rule {decision.rule}"
    if step == RouteStep.BACKUP and decision.rule:
        return f"rule {decision.rule} (backup)"
    if step == RouteStep.BACKUP and decision.account_id:
        return "account owner (backup)"
    return step.value.replace("_", " ")


def _created_at(decision: Decision) -> datetime | None:
    text = decision.features.get("created_at", "")
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _reps_with(events: Iterable[Outcome], kind: OutcomeKind, owner_id: str) -> tuple[str, ...]:
    """Reps with an outcome of that kind (the current owner when the source names none)."""
    return tuple(dict.fromkeys(o.rep_id or owner_id for o in events if o.kind == kind))


@attrs.frozen(kw_only=True)
class LeadFacts:
    """What happened to one lead, as of the report time.

    Attributes:
        lead_id: The lead.
        route: The route path of its first decision (``route_label``).
        pool: The pool of its first decision, ``""`` for none.
        owner_id: Its current owner (latest decision).
        lead_type: Lead type, ``""`` when unknown.
        source: Acquisition source, ``""`` when unknown.
        created_at: When the lead was created, when known.
        assigned_at: Its first decision's time.
        time_to_owner: Creation to first decision; ``None`` when unknown or kept owner.
        first_touch_at: Earliest touch outcome, if any.
        sla: The first-touch SLA that applies to it (``sla_due_at - assigned_at``).
        sla_due_at: When the first touch is due: the lead type's deadline recorded on the
            first decision (working time when the policy has a calendar), else
            ``reporting.first_touch_sla`` after assignment.
        nurture: Its current decision parks it in the nurture queue: no sales SLA applies.
        sla_breach_reported: The source reported an ``sla_breached`` outcome.
        fallback: Its current decision is the fallback queue.
        review: Codes of problems flagged for a human on its current decision.
        reassigned: Decisions after the first, plus ``reassigned`` outcomes.
        accepted_by: Reps that accepted it.
        rejected_by: Reps that rejected (declined) it.
        meeting: A meeting was booked.
        converted: It converted to an opportunity.
        stage: Lifecycle stage routing recorded (``lead``, ``mql``, ``sql``), ``""`` if unscored.
        current: The current decision.
    """

    lead_id: str
    route: str
    pool: str
    owner_id: str
    lead_type: str
    source: str
    created_at: datetime | None
    assigned_at: datetime
    time_to_owner: timedelta | None
    first_touch_at: datetime | None
    sla: timedelta
    sla_due_at: datetime
    nurture: bool
    sla_breach_reported: bool
    fallback: bool
    review: tuple[str, ...]
    reassigned: int
    accepted_by: tuple[str, ...]
    rejected_by: tuple[str, ...]
    meeting: bool
    converted: bool
    stage: str
    current: Decision

    @property
    def time_to_touch(self) -> timedelta | None:
        """Assignment to first touch, when touched."""
        return None if self.first_touch_at is None else self.first_touch_at - self.assigned_at

    def sla_state(self, as_of: datetime) -> str:
        """``met``, ``breached``, ``open`` (not due yet, untouched) or ``none`` (nurture)."""
        if self.nurture:
            return "none"
        deadline = self.sla_due_at
        if self.first_touch_at is not None and self.first_touch_at <= deadline:
            return "breached" if self.sla_breach_reported else "met"
        if self.first_touch_at is not None or as_of > deadline or self.sla_breach_reported:
            return "breached"
        return "open"

    def idle(self, as_of: datetime, after: timedelta) -> bool | None:
        """No touch within ``after`` of assignment; ``None`` while that time has not passed
        (and for nurture leads, which sales is not meant to touch yet)."""
        if self.nurture:
            return None
        touch = self.time_to_touch
        if touch is not None and touch <= after:
            return False
        if as_of - self.assigned_at < after:
            return None
        return True


def build_facts(
    decisions: Iterable[Decision],
    outcomes: Iterable[Outcome],
    settings: ReportingPolicy,
) -> list[LeadFacts]:
    """One ``LeadFacts`` per lead with a decision, in lead-id order."""
    by_lead: dict[str, list[Decision]] = defaultdict(list)
    for decision in decisions:
        by_lead[decision.lead_id].append(decision)
    events: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        events[outcome.lead_id].append(outcome)
    facts = []
    for lead_id in sorted(by_lead):
        epochs = sorted(by_lead[lead_id], key=lambda d: d.epoch)
        first, current = epochs[0], epochs[-1]
        lead_events = sorted(events.get(lead_id, ()), key=lambda o: o.at)
        kinds = {o.kind for o in lead_events}
        touches = [o.at for o in lead_events if o.kind in TOUCH_KINDS]
        created = _created_at(first)
        kept = RouteStep(first.step) == RouteStep.CURRENT_OWNER
        lead_type = first.lead_type or first.features.get("lead_type", "")
        due = first.sla_due_at or first.decided_at + settings.first_touch_sla

        facts.append(
            LeadFacts(
                lead_id=lead_id,
                route=route_label(first),
                pool=first.pool,
                owner_id=current.owner_id,
                lead_type=lead_type,
                source=first.features.get("source", ""),
                created_at=created,
                assigned_at=first.decided_at,
                time_to_owner=None
                if created is None or kept
                else max(timedelta(0), first.decided_at - created),
                first_touch_at=min(touches) if touches else None,
                sla=due - first.decided_at,
                sla_due_at=due,
                nurture=RouteStep(current.step) == RouteStep.NURTURE,
                sla_breach_reported=OutcomeKind.SLA_BREACHED in kinds,
                fallback=in_fallback(current),
                review=flagged_codes(current),
                reassigned=len(epochs)
                - 1
                + sum(1 for o in lead_events if o.kind == OutcomeKind.REASSIGNED),
                accepted_by=_reps_with(lead_events, OutcomeKind.ACCEPTED, current.owner_id),
                rejected_by=_reps_with(lead_events, OutcomeKind.REJECTED, current.owner_id),
                meeting=OutcomeKind.MEETING_BOOKED in kinds,
                converted=OutcomeKind.CONVERTED in kinds,
                stage=current.lifecycle_stage.strip().lower(),
                current=current,
            )
        )
    return facts
