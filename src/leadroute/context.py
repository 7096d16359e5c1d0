"""What a per-rep hook needs to know besides the lead and the rep."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import attrs

from leadroute.policy import Policy
from leadroute.usage import Usage

__all__ = ["RoutingContext"]


@attrs.frozen(kw_only=True)
class RoutingContext:
    """The moment a lead is decided, as seen by ``leadroute_exclude_rep`` and ``leadroute_score_fit``.

    Attributes:
        at: Decision time (UTC).
        policy: The policy in force.
        loads: Open leads per rep id at this moment (the rep's ``open_leads`` plus what this
            store has assigned); reps absent from the mapping hold none.
        constraints: Hard constraints in force for this lead (``territory``, ``language``...).
        rule: Name of the routing rule that matched, ``""`` for none (account-owner step).
        usage: Load each rep received per local day, week and lead type (stacked caps);
            ``None`` counts nothing.
        account_id: The account the lead matched, ``""`` for none (named-account territories).
    """

    at: datetime
    policy: Policy
    loads: Mapping[str, int]
    constraints: tuple[str, ...]
    rule: str = ""
    usage: Usage | None = None
    account_id: str = ""

    def load(self, rep_id: str) -> int:
        """Open leads the rep holds now."""
        return self.loads.get(rep_id, 0)
