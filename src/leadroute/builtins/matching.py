"""Lead-to-account matching: exact domain first, then normalized company name."""

from __future__ import annotations

from leadroute.host import hookimpl
from leadroute.models import AccountIndex, AccountMatch, Lead, normalize_company
from leadroute.policy import Policy


@hookimpl(trylast=True)
def leadroute_match_account(
    lead: Lead, accounts: AccountIndex, policy: Policy
) -> AccountMatch | None:
    """Match by the email's domain, then the website's, then the normalized company name."""
    for field in ("domain", "website_domain"):
        domain = lead.attributes.get(field, "")
        account = accounts.by_domain.get(domain) if domain else None
        if account is not None:
            return AccountMatch(account_id=account.id, method=f"{field}:{domain}")
    name = normalize_company(lead.company)
    account = accounts.by_name.get(name) if name else None
    if account is not None:
        return AccountMatch(account_id=account.id, method=f"company_name:{name}", confidence=0.9)
    return None
