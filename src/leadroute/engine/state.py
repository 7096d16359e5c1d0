"""``RoutingState``: what deciding needs to remember, built once from the store.

Loads per rep, the load received per local day and week (``Usage``), the rotation ledger,
the capacity prices, the known people and every lead's latest decision. The pipeline reads
and advances loads, usage and the ledger as it decides (so each lead sees the ones decided
before it); the state takes in the rest when a decision is staged for commit (``settle``),
takes in decisions made elsewhere (``absorb``: a plan's moves, other processes' commits)
and undoes what did not stand (``retract``, ``give_back``).

Nothing here reads the store after ``build``: the cost of a decision does not depend on
how many decisions the store holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from leadroute.duplicates import People, appended, follower_decision
from leadroute.models import Decision, DecisionStatus, Rep, RouteStep
from leadroute.rotation import LedgerTurn
from leadroute.strategies import Ledger
from leadroute.usage import Usage, received_at

__all__ = ["RoutingState", "carries_load", "counts_usage"]


def carries_load(decision: Decision) -> bool:
    """Whether a decision puts a lead on its owner's open count.

    A kept current owner already counts the lead in the source's ``open_leads``; a record
    appended to another is not a lead of its own.
    """
    return decision.step != RouteStep.CURRENT_OWNER and not appended(decision)


def counts_usage(decision: Decision) -> bool:
    """Whether a decision counts toward its owner's daily and weekly caps."""
    return carries_load(decision) and decision.status == DecisionStatus.ROUTED


@attrs.define
class RoutingState:
    """The state a routing engine holds.

    Attributes:
        loads: Rep id -> open leads (the source's ``open_leads`` plus this store's).
        open_leads: Rep id -> the source's ``open_leads`` (to rebase loads on a new team).
        usage: Load received per rep per local day, week and lead type.
        ledger: The rotation ledger.
        prices: Capacity prices of the last batch solve.
        people: Known people (None when the policy does not look for duplicates).
        latest: Lead id -> its latest decision.
    """

    loads: dict[str, int]
    open_leads: dict[str, int]
    usage: Usage
    ledger: Ledger
    prices: dict[str, float]
    people: People | None
    latest: dict[str, Decision]

    @classmethod
    def build(
        cls,
        reps: Iterable[Rep],
        decisions: Mapping[str, Decision],
        ledger: Ledger,
        prices: Mapping[str, float],
        people: People | None,
    ) -> RoutingState:
        """The state over a team, from the stored decisions, ledger and prices."""
        by_id = {r.id: r for r in reps}
        open_leads = {r.id: r.open_leads for r in by_id.values()}
        loads = dict(open_leads)
        for d in decisions.values():
            if carries_load(d):
                loads[d.owner_id] = loads.get(d.owner_id, 0) + 1
        usage = Usage.build(by_id, (d for d in decisions.values() if counts_usage(d)))
        return cls(
            loads=loads,
            open_leads=open_leads,
            usage=usage,
            ledger=ledger,
            prices=dict(prices),
            people=people,
            latest=dict(decisions),
        )

    def fork(self) -> RoutingState:
        """A copy to plan on (a rebalance, a dry run): deciding on it changes nothing here.

        The copy knows no people: plans decide leads one by one, and the moves keep each
        person whole when they are committed (their other records follow).
        """
        return RoutingState(
            loads=dict(self.loads),
            open_leads=dict(self.open_leads),
            usage=self.usage.copy(),
            ledger=self.ledger.copy(),
            prices=self.prices,
            people=None,
            latest=dict(self.latest),
        )

    def rebase(self, reps: Iterable[Rep]) -> None:
        """Take a new team: loads follow each rep's new ``open_leads``; new zones count days."""
        by_id = {r.id: r for r in reps}
        for rep in by_id.values():
            delta = rep.open_leads - self.open_leads.get(rep.id, 0)
            self.loads[rep.id] = self.loads.get(rep.id, 0) + delta
            self.open_leads[rep.id] = rep.open_leads
        zones = Usage.build(by_id).zones
        if any(r in self.usage.zones and self.usage.zones[r] != z for r, z in zones.items()):
            # A rep's day boundaries moved (a new time zone): count their days again.
            self.usage = Usage.build(by_id, (d for d in self.latest.values() if counts_usage(d)))
        else:
            self.usage.zones.update(zones)

    # ----------------------------------------------------------------- decisions

    def followers_of(self, decision: Decision, *, moved: bool) -> list[tuple[Decision, Decision]]:
        """The other records of a person whose lead was reassigned (a ``reassign``
        duplicate, or ``moved``), each moved to its owner, with the decision it replaces."""
        dup, people = decision.duplicate, self.people
        reassigned = moved or (
            dup is not None and dup.role == "duplicate" and dup.action == "reassign"
        )
        if not reassigned or people is None:
            return []
        following = []
        for lead_id in people.leads(people.person(decision.lead_id)):
            earlier = self.latest.get(lead_id)
            if lead_id == decision.lead_id or earlier is None:
                continue
            if earlier.owner_id == decision.owner_id:
                continue
            following.append((follower_decision(earlier, decision), earlier))
        return following

    def settle(self, decision: Decision, previous: Decision | None) -> None:
        """Take in a decision the pipeline made on this state (it counted the new load and
        turn already): the lead leaves its previous owner and has a new latest decision."""
        self._unload(previous)
        self.latest[decision.lead_id] = decision
        if self.people is not None:
            self.people.note(decision)

    def absorb(self, decision: Decision, turns: Iterable[LedgerTurn] = ()) -> bool:
        """Take in a decision made elsewhere (a plan, another process) with its turns.

        A decision no newer than the lead's latest is ignored (already taken in, or stale);
        returns whether it was taken in.
        """
        previous = self.latest.get(decision.lead_id)
        if previous is not None and previous.epoch >= decision.epoch:
            return False
        self._load(decision)
        for turn in turns:
            self.ledger.apply(turn)
        self.settle(decision, previous)
        return True

    def retract(
        self, decision: Decision, previous: Decision | None, turns: Iterable[LedgerTurn]
    ) -> None:
        """Undo a staged decision that did not stand: its load, usage and turns, and the
        lead's latest decision back to ``previous``."""
        self.discard(decision, turns)
        if previous is not None and carries_load(previous):
            self.loads[previous.owner_id] = self.loads.get(previous.owner_id, 0) + 1
        if previous is None:
            self.latest.pop(decision.lead_id, None)
        else:
            self.latest[decision.lead_id] = previous
        if self.people is not None and previous is not None:
            self.people.note(previous)

    def discard(self, decision: Decision, turns: Iterable[LedgerTurn]) -> None:
        """Undo what deciding counted for a decision that will not be staged: its owner's
        load and usage, and its rotation turns (given back)."""
        if carries_load(decision):
            self.loads[decision.owner_id] = self.loads.get(decision.owner_id, 0) - 1
        if counts_usage(decision):
            self.usage.remove(
                decision.owner_id,
                received_at(decision),
                decision.features.get("lead_type", ""),
                decision.load,
            )
        for turn in turns:
            self.ledger.apply(turn.given_back(turn.at))

    def _load(self, decision: Decision) -> None:
        if carries_load(decision):
            self.loads[decision.owner_id] = self.loads.get(decision.owner_id, 0) + 1
        if counts_usage(decision):
            self.usage.add(
                decision.owner_id,
                received_at(decision),
                decision.features.get("lead_type", ""),
                decision.load,
            )

    def _unload(self, previous: Decision | None) -> None:
        if previous is not None and carries_load(previous):
            self.loads[previous.owner_id] = max(0, self.loads.get(previous.owner_id, 0) - 1)
