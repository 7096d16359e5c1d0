"""Lead-to-account matching: exact registrable domain first, then fuzzy company name.

Tie-breakers, in order: an exact domain beats a name; a better name score beats a worse
one; the status listed earlier in ``account_matching.status_order`` (customer before
prospect) wins; then the most recent ``last_activity_at``; then the first account listed.
Free-mail domains (gmail.com, outlook.com...) never match by domain: thousands of
companies share them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from rapidfuzz import fuzz, process

from leadroute.host import hookimpl
from leadroute.models import (
    Account,
    AccountIndex,
    AccountMatch,
    Lead,
    normalize_company,
    sorted_words,
)
from leadroute.normalize import email_domain, is_free_mail, registrable_domain
from leadroute.policy import AccountMatchingPolicy, Policy

__all__ = ["best_account", "leadroute_match_account"]

_NEVER = datetime.min.replace(tzinfo=UTC)


def _rank_key(account: Account, order: Sequence[str], index: int) -> tuple[int, float, int]:
    statuses = [s.lower() for s in order]
    status = account.status.strip().lower()
    status_rank = statuses.index(status) if status in statuses else len(statuses)
    activity = (account.last_activity_at or _NEVER).timestamp()
    return (status_rank, -activity, index)


def best_account(
    accounts: Sequence[Account], settings: AccountMatchingPolicy
) -> tuple[Account, str]:
    """The account the tie-breakers choose among equally good matches, and why (``""``: alone)."""
    ranked = sorted(
        enumerate(accounts), key=lambda pair: _rank_key(pair[1], settings.status_order, pair[0])
    )
    winner = ranked[0][1]
    if len(ranked) == 1:
        return winner, ""
    runner = ranked[1][1]
    first, second = (_rank_key(a, settings.status_order, i) for i, a in ranked[:2])
    if first[0] != second[0]:
        why = f"{winner.status or 'no status'} beats {runner.status or 'no status'}"
    elif first[1] != second[1]:
        why = "most recent activity"
    else:
        why = "first listed"
    return winner, f"{len(ranked)} accounts tie, {why}"


def _domains(lead: Lead, settings: AccountMatchingPolicy) -> list[tuple[str, str]]:
    """(method, registrable domain) pairs to try, free-mail domains left out."""
    found = []
    for method, value in (
        ("email_domain", lead.get("domain") or lead.email),
        ("website_domain", lead.get("website_domain") or lead.website),
    ):
        domain = registrable_domain(value) if value else ""
        host = email_domain(value) if "@" in value else ""
        if domain and not is_free_mail(domain) and not (host and is_free_mail(host)):
            found.append((method, domain))
    return found


def _by_name(
    lead: Lead, accounts: AccountIndex, settings: AccountMatchingPolicy
) -> AccountMatch | None:
    name = normalize_company(lead.company)
    if not name or not accounts.sorted_names:
        return None
    # Ratio of word-sorted names = rapidfuzz's token-sort ratio, with the accounts' side
    # sorted once per run instead of once per lead and account.
    hits = process.extract(
        sorted_words(name),
        accounts.sorted_names,
        scorer=fuzz.ratio,
        score_cutoff=settings.name_threshold * 100,
        limit=None,
    )
    if not hits:
        return None
    top = max(score for _, score, _ in hits)
    tied = [a for key, score, _ in hits if score == top for a in accounts.by_sorted_name[key]]
    account, why = best_account(tied, settings)
    key = normalize_company(account.name)
    method = f"company_name:{key}" + (f" ({why})" if why else "")
    return AccountMatch(account_id=account.id, method=method, confidence=round(top / 100, 4))


@hookimpl(trylast=True)
def leadroute_match_account(
    lead: Lead, accounts: AccountIndex, policy: Policy
) -> AccountMatch | None:
    """Match by the email's registrable domain, then the website's, then the company name."""
    settings = policy.account_matching
    if settings.by_domain:
        for method, domain in _domains(lead, settings):
            candidates = accounts.by_domain.get(domain, ())
            if candidates:
                account, why = best_account(candidates, settings)
                label = f"{method}:{domain}" + (f" ({why})" if why else "")
                return AccountMatch(account_id=account.id, method=label, confidence=1.0)
    if settings.by_name:
        return _by_name(lead, accounts, settings)
    return None
