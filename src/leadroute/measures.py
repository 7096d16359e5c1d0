"""One definition of each headline number, used by a run's summary and by the dashboard.

A run (``route``, ``demo``) and ``leadroute report`` count the same leads the same way,
so "exception rate 1.3%" on the command line and "4.3%" on the dashboard cannot both be
printed for one history:

* **input**: every lead read: decided leads plus rejected leads.
* **rejected**: a lead that got no decision; one per physical row of the exception
  report (file, line and id), however many problems the row has.
* **needs a human**: rejected, in the fallback queue, or flagged for review (routed with
  a problem whose action is ``flag``).
* **exception rate**: leads that need a human over the input.
* **duplicate**: a lead its decision recognised as a known person (duplicate stage) or
  flagged as a duplicate, or a row rejected as one (``DUPLICATE_ID``: the input repeats
  an id).
* **duplicate rate**: duplicates over the input.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import attrs

from leadroute.fallbacks import fallback_code
from leadroute.models import Decision, DecisionStatus, InputProblem

__all__ = [
    "Headline",
    "flagged_codes",
    "headline",
    "in_fallback",
    "is_duplicate",
    "rejected_leads",
]

RowKey = tuple[str, int | None, str]


def rejected_leads(problems: Iterable[InputProblem]) -> dict[RowKey, list[InputProblem]]:
    """Rejected leads, one per (file, line, id), each with its problems in report order."""
    rejected: dict[RowKey, list[InputProblem]] = {}
    for p in problems:
        if p.kind == "lead":
            rejected.setdefault((p.file, p.line, p.record_id), []).append(p)
    return rejected


def in_fallback(decision: Decision) -> bool:
    """The decision parks the lead in the fallback queue."""
    return DecisionStatus(decision.status) == DecisionStatus.FALLBACK


def flagged_codes(decision: Decision) -> tuple[str, ...]:
    """Codes of the problems the lead was routed with for a human to review."""
    return tuple(p.code for p in decision.problems if p.action == "flag")


def is_duplicate(decision: Decision) -> bool:
    """The decision recognised the lead as a known person."""
    return decision.duplicate is not None and decision.duplicate.role == "duplicate"


def _duplicate_code(code: str) -> bool:
    return "DUPLICATE" in code


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@attrs.frozen(kw_only=True)
class Headline:
    """The headline counts of a set of leads (each lead's current decision, and the rejected).

    Attributes:
        input: Decided plus rejected leads.
        routed: Decided leads with an owner (not the fallback queue).
        fallback: Decided leads in the fallback queue.
        rejected: Leads with no decision.
        review: Routed leads flagged for review (not in the fallback queue).
        needs_human: ``rejected + fallback + review``.
        exception_rate: ``needs_human / input``; ``None`` with no input.
        duplicates: Leads recognised as a known person.
        duplicate_rate: ``duplicates / input``; ``None`` with no input.
        reasons: Why each lead needs a human, one reason a lead: a rejected lead's first
            problem code, ``FALLBACK_<cause>``, ``REVIEW_<first flagged code>``.
        rejected_by_code: Rejected leads by their first problem's code.
        fallback_by_code: Fallback leads by cause (``NO_RULE``...).
    """

    input: int
    routed: int
    fallback: int
    rejected: int
    review: int
    needs_human: int
    exception_rate: float | None
    duplicates: int
    duplicate_rate: float | None
    reasons: Mapping[str, int]
    rejected_by_code: Mapping[str, int]
    fallback_by_code: Mapping[str, int]


def _sorted(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted((+counter).items(), key=lambda kv: (-kv[1], kv[0])))


def headline(decisions: Sequence[Decision], problems: Iterable[InputProblem]) -> Headline:
    """The headline of leads given by their current decisions and the run's problems."""
    rejected = rejected_leads(problems)
    rejected_by_code = Counter(found[0].code for found in rejected.values())
    fallback_by_code = Counter(fallback_code(d) or "QUEUE" for d in decisions if in_fallback(d))
    review = Counter(
        codes[0] for d in decisions if not in_fallback(d) and (codes := flagged_codes(d))
    )
    fallback = sum(fallback_by_code.values())
    total = len(decisions) + len(rejected)
    needs_human = len(rejected) + fallback + sum(review.values())
    duplicates = sum(
        1 for d in decisions if is_duplicate(d) or any(map(_duplicate_code, flagged_codes(d)))
    ) + sum(1 for found in rejected.values() if any(_duplicate_code(p.code) for p in found))
    reasons = (
        rejected_by_code
        + Counter({f"FALLBACK_{code}": n for code, n in fallback_by_code.items()})
        + Counter({f"REVIEW_{code}": n for code, n in review.items()})
    )
    return Headline(
        input=total,
        routed=len(decisions) - fallback,
        fallback=fallback,
        rejected=len(rejected),
        review=sum(review.values()),
        needs_human=needs_human,
        exception_rate=_share(needs_human, total),
        duplicates=duplicates,
        duplicate_rate=_share(duplicates, total),
        reasons=_sorted(reasons),
        rejected_by_code=_sorted(rejected_by_code),
        fallback_by_code=_sorted(fallback_by_code),
    )
