"""The built-in scoring rules (policy ``scoring.rules``) as ``leadroute_score_lead`` points."""

from __future__ import annotations

from datetime import datetime

from leadroute.host import hookimpl
from leadroute.models import Lead, ScoreContribution
from leadroute.policy import Policy
from leadroute.scoring import rule_contributions


@hookimpl
def leadroute_score_lead(lead: Lead, policy: Policy, at: datetime) -> list[ScoreContribution]:
    """Field rules once, event rules per event decayed by age; nothing without ``scoring``."""
    if policy.scoring is None:
        return []
    return rule_contributions(lead, policy.scoring, at)
