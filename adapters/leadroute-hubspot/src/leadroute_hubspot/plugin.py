"""Registers the ``hubspot`` adapter (entry point ``hubspot`` in group ``leadroute``).

It also matches a lead to the company HubSpot associates it with, before the built-in
domain and name matching: an association an admin made beats a guess.
"""

from __future__ import annotations

from collections.abc import Callable

from leadroute import hookimpl
from leadroute.adapters import AdapterFactory
from leadroute.models import AccountIndex, AccountMatch, Lead
from leadroute.policy import Policy
from leadroute_hubspot.adapter import HubSpotAdapter

COMPANY_ATTRIBUTE = "hubspot_company_id"


@hookimpl
def leadroute_register_adapters(register: Callable[[str, AdapterFactory], None]) -> None:
    """Offer the HubSpot adapter under the name ``hubspot``."""
    register("hubspot", HubSpotAdapter.from_config)


@hookimpl(tryfirst=True)
def leadroute_match_account(
    lead: Lead, accounts: AccountIndex, policy: Policy
) -> AccountMatch | None:
    """The contact's associated HubSpot company (primary first), when it is a known account."""
    company = lead.attributes.get(COMPANY_ATTRIBUTE, "")
    if company and company in accounts.by_id:
        return AccountMatch(account_id=company, method="hubspot_association")
    return None
