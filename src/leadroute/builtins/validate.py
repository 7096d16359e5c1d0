"""Required-field validation as the policy's ``validation`` section asks."""

from __future__ import annotations

from leadroute.host import hookimpl
from leadroute.models import Lead, Problem
from leadroute.policy import Policy


@hookimpl
def leadroute_validate_lead(lead: Lead, policy: Policy) -> list[Problem]:
    """One ``MISSING_FIELD`` problem per required field that is empty."""
    action = policy.validation.missing_action
    return [
        Problem(
            code="MISSING_FIELD",
            field=field,
            message=f"required field '{field}' is empty",
            action=action,
        )
        for field in policy.validation.required
        if not lead.get(field).strip()
    ]
