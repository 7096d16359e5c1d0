"""The built-in validator: required fields, email, phone, country, source, lead type, free mail.

Each problem has a stable code and the field it concerns; what happens to the lead is the
policy's call (``validation.actions``), with the defaults in ``DEFAULT_ACTIONS``. The lead
arrives normalized (``leadroute_normalize_lead``), so a value still not in its normal
form here is one the normalizer could not read.
"""

from __future__ import annotations

from collections.abc import Mapping

from leadroute.host import hookimpl
from leadroute.models import Lead, Problem
from leadroute.normalize import check_email, country_code, email_domain, is_free_mail, phone_e164
from leadroute.policy import Policy

__all__ = ["DEFAULT_ACTIONS", "action_for"]

# What each built-in code does unless the policy says otherwise. An address that cannot
# receive mail cannot be worked; everything else is routable and worth a human's look.
DEFAULT_ACTIONS: Mapping[str, str] = {
    "INVALID_EMAIL": "reject",
    "INVALID_PHONE": "flag",
    "UNKNOWN_COUNTRY": "flag",
    "UNKNOWN_SOURCE": "flag",
    "UNKNOWN_LEAD_TYPE": "flag",
    "FREE_MAIL_ON_BUSINESS_FORM": "flag",
}


def action_for(policy: Policy, code: str, default: str = "flag") -> str:
    """The action the policy gives a problem code (``MISSING_FIELD``: ``missing_action``)."""
    if code == "MISSING_FIELD":
        return policy.validation.missing_action
    return policy.validation.actions.get(code, DEFAULT_ACTIONS.get(code, default))


def _problem(policy: Policy, code: str, field: str, message: str) -> Problem:
    return Problem(code=code, field=field, message=message, action=action_for(policy, code))


def _missing(lead: Lead, policy: Policy) -> list[Problem]:
    kind = policy.lead_types.named(lead.lead_type)
    required = dict.fromkeys((*policy.validation.required, *(kind.required if kind else ())))
    return [
        _problem(policy, "MISSING_FIELD", field, f"required field '{field}' is empty")
        for field in required
        if not lead.get(field).strip()
    ]


def _contact(lead: Lead, policy: Policy) -> list[Problem]:
    problems = []
    if lead.email.strip() and (why := check_email(lead.email)):
        problems.append(_problem(policy, "INVALID_EMAIL", "email", why.replace(lead.email, "")))
    if lead.phone.strip() and not phone_e164(lead.phone, lead.country):
        problems.append(
            # The number itself stays out: problems are stored and reported.
            _problem(
                policy,
                "INVALID_PHONE",
                "phone",
                "not a valid phone number" + (f" for {lead.country}" if lead.country else ""),
            )
        )
    if lead.country.strip() and country_code(lead.country) != lead.country:
        problems.append(
            _problem(
                policy, "UNKNOWN_COUNTRY", "country", f"{lead.country!r} is not a known country"
            )
        )
    return problems


def _form(lead: Lead, policy: Policy) -> list[Problem]:
    problems = []
    known = {s.strip().lower() for s in policy.validation.sources}
    if known and lead.source.strip() and lead.source.strip().lower() not in known:
        problems.append(
            _problem(policy, "UNKNOWN_SOURCE", "source", f"source {lead.source!r} is not known")
        )
    types = policy.lead_types
    kind = types.named(lead.lead_type)
    if types.types and kind is None:
        problems.append(
            _problem(
                policy,
                "UNKNOWN_LEAD_TYPE",
                "lead_type",
                f"no lead type matches {lead.lead_type or '(empty)'!r}",
            )
        )
    domain = email_domain(lead.email)
    if kind is not None and kind.business_only and domain and is_free_mail(domain):
        problems.append(
            _problem(
                policy,
                "FREE_MAIL_ON_BUSINESS_FORM",
                "email",
                f"free-mail domain {domain} on the business-only {kind.name} form",
            )
        )
    return problems


@hookimpl
def leadroute_validate_lead(lead: Lead, policy: Policy) -> list[Problem]:
    """Missing required fields (policy-wide and per type), then contact and form checks."""
    return [*_missing(lead, policy), *_contact(lead, policy), *_form(lead, policy)]
