"""The notification effects of a decision, as the policy's channels ask for them.

The payload holds ids and non-personal facts only (company, country, lead type, reason,
deadline): the store keeps no personal data, and the rep's contact details (Slack id,
email, time zone, booking link) are looked up from the team when the message is sent,
so a changed Slack id is used even for a retry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from leadroute.models import Decision, Effect, Lead
from leadroute.policy import Policy
from leadroute.redaction import redact_values

__all__ = ["MEETING_TYPES", "NOTIFY_PREFIX", "is_notification", "notification_effects"]

NOTIFY_PREFIX = "notify:"
# Lead types that are a request for a meeting: the rep's booking link goes in the message.
MEETING_TYPES = frozenset({"demo", "meeting"})
_TRUE = frozenset({"1", "true", "yes", "y", "on"})


def is_notification(effect: Effect) -> bool:
    """Whether an effect is for a notification channel (not for the CRM adapter)."""
    return effect.kind.startswith(NOTIFY_PREFIX)


def wants_meeting(decision: Decision, lead: Lead | None) -> bool:
    """A demo or meeting type, or a form that ticked ``meeting_requested``."""
    if decision.lead_type.lower() in MEETING_TYPES:
        return True
    return lead is not None and lead.attributes.get("meeting_requested", "").lower() in _TRUE


def summary(decision: Decision, lead: Lead | None) -> dict[str, Any]:
    """What the message says about the lead: business facts, never the person's details."""
    facts: dict[str, Any] = {
        "lead_type": decision.lead_type,
        "country": decision.features.get("country", ""),
        "region": decision.features.get("region", ""),
        "segment": decision.features.get("segment", ""),
        "score": decision.score,
        "stage": decision.lifecycle_stage,
    }
    if lead is not None:
        facts |= {
            "company": lead.company,
            "country": lead.country or facts["country"],
            "employees": lead.employees,
            "product": lead.product,
            "source": lead.source,
        }
    return redact_values(facts)


def notification_effects(
    decision: Decision,
    policy: Policy,
    *,
    lead: Lead | None = None,
    purpose: str = "assigned",
    to: str = "",
    extra: Mapping[str, Any] | None = None,
) -> list[Effect]:
    """One ``notify:<channel>`` effect per channel the policy gives this decision.

    ``purpose`` picks the template (``assigned``, ``reminder``, ``breach``); ``to`` is the
    rep told (default: the decision's owner). The key is derived from the decision,
    purpose, recipient and channel, so a replay or a second scheduler adds nothing.
    """
    notes = policy.notifications
    names = notes.channels_for(decision.lead_type, decision.pool or decision.queue)
    if not names:
        return []
    recipient = to or decision.owner_id
    payload = {
        "purpose": purpose,
        "rep_id": recipient,
        "owner_id": decision.owner_id,
        "lead_id": decision.lead_id,
        "decision_id": decision.id,
        "epoch": decision.epoch,
        "status": str(decision.status),
        "step": str(decision.step),
        "queue": decision.queue,
        "pool": decision.pool,
        "rule": decision.rule,
        "reason": decision.reason,
        "decided_at": decision.decided_at.isoformat(),
        "sla_due_at": decision.sla_due_at.isoformat() if decision.sla_due_at else "",
        "escalate_at": decision.escalate_at.isoformat() if decision.escalate_at else "",
        "meeting": wants_meeting(decision, lead),
        "lead": summary(decision, lead),
        **(extra or {}),
    }
    effects = []
    for name in names:
        kind = f"{NOTIFY_PREFIX}{name}"
        effects.append(
            Effect(
                kind=kind,
                decision_id=decision.id,
                lead_id=decision.lead_id,
                idem_key=Effect.key_for(decision.id, f"{purpose}:{recipient}:{kind}"),
                payload={**payload, "channel": name},
            )
        )
    return effects
