"""Per-lead cost of lead-to-account matching, against naive fuzzy matching, same process.

Both paths see the same synthetic accounts and leads (most leads match no account: the
common case, and the expensive one, since every account name is compared):

* ``leadroute``: the built-in ``leadroute_match_account`` (registrable domain lookups,
  then the ratio of word-sorted names against names sorted once in ``AccountIndex``).
* ``naive``: rapidfuzz's ``token_sort_ratio`` of the lead's normalized company name
  against every account's normalized name, the straightforward way (it re-sorts both
  sides on every comparison), with the same cutoff.

The script checks that both find the same accounts before it reports timings.

Usage: uv run python benchmarks/account_matching.py --accounts 10000 --leads 2000 [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import time

from rapidfuzz import fuzz, process

from leadroute.builtins.matching import leadroute_match_account
from leadroute.models import Account, AccountIndex, Lead, normalize_company
from leadroute.policy import parse_policy

WORDS = ("Blue", "North", "Bright", "Iron", "Cedar", "Summit", "Harbor", "Vector", "Pine", "Atlas")
TRADES = ("Logistics", "Foods", "Health", "Robotics", "Retail", "Energy", "Labs", "Finance")
SUFFIXES = ("", " Inc.", ", Ltd", " GmbH", ", Incorporated")


def company(rng: random.Random) -> str:
    """A made-up name: a random coined word, a common word and a trade."""
    coined = "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(3))
    return f"{coined.title()} {rng.choice(WORDS)} {rng.choice(TRADES)}"


def build(n_accounts: int, n_leads: int, seed: int) -> tuple[list[Account], list[Lead]]:
    rng = random.Random(seed)
    accounts = [
        Account(id=f"A{i}", name=company(rng), domain=f"acc{i}.com", status="customer")
        for i in range(n_accounts)
    ]
    leads = []
    for i in range(n_leads):
        if rng.random() < 0.1:  # a known company, written differently, on a free mailbox
            known = rng.choice(accounts)
            name = known.name.upper() + rng.choice(SUFFIXES)
        else:
            name = company(rng)
        leads.append(Lead(id=f"L{i}", email=f"x{i}@gmail.com", company=name))
    return accounts, leads


def naive(leads: list[Lead], accounts: list[Account], cutoff: float) -> list[str | None]:
    names = [normalize_company(a.name) for a in accounts]
    found: list[str | None] = []
    for lead in leads:
        hit = process.extractOne(
            normalize_company(lead.company),
            names,
            scorer=fuzz.token_sort_ratio,
            score_cutoff=cutoff,
        )
        found.append(accounts[hit[2]].id if hit else None)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--leads", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    policy = parse_policy("version: bench\nfallback: {owner: ops}\n")
    accounts, leads = build(args.accounts, args.leads, args.seed)
    started = time.perf_counter()
    index = AccountIndex.build(accounts)
    index_s = time.perf_counter() - started
    started = time.perf_counter()
    ours = [leadroute_match_account(lead, index, policy) for lead in leads]
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    theirs = naive(leads, accounts, policy.account_matching.name_threshold * 100)
    naive_s = time.perf_counter() - started
    same = [m.account_id if m else None for m in ours] == theirs
    result = {
        "accounts": args.accounts,
        "leads": args.leads,
        "matched": sum(m is not None for m in ours),
        "same_matches": same,
        "index_build_ms": round(index_s * 1000, 1),
        "leadroute_ms_per_lead": round(ours_s / len(leads) * 1000, 3),
        "naive_ms_per_lead": round(naive_s / len(leads) * 1000, 3),
        "ratio": round(ours_s / naive_s, 3),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>24}: {value}")
    if not same:
        raise SystemExit("the two paths disagree on some matches")


if __name__ == "__main__":
    main()
