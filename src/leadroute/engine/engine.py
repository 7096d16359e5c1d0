"""``Engine``: the long-lived routing core. Built once from the store, updated as it decides.

An engine holds the routing state (``RoutingState``: loads, usage, the rotation ledger,
prices, known people, every lead's latest decision) and the pipeline over it. It decides
a lead (``decide``: replay, or decide and commit one decision), stages decisions for
grouped commits (``group``), takes a new team (``update_team``) and catches up with what
other processes committed (``catch_up``). The use cases (``leadroute.usecases``) are
short modules over it; the server keeps one for as long as it runs.

A decision's cost does not depend on the size of the history: the store is read once
when the engine opens, then only for commits numbered after the last one seen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import attrs

from leadroute.clock import Clock, utcnow
from leadroute.duplicates import People, identity_key
from leadroute.engine.group import CommitGroup, Committed, OnCommit, Staged
from leadroute.engine.state import RoutingState
from leadroute.engine.writes import commit_unit
from leadroute.host import PluginHost, make_host
from leadroute.logs import get_logger
from leadroute.models import Account, AccountIndex, Decision, Lead, Rep
from leadroute.pipeline import Decided, Pipeline, Rejected, check_team
from leadroute.policy import Policy
from leadroute.store import CommitUnit, Store
from leadroute.store.changes import changes_since, load_state
from leadroute.strategies import Ledger

__all__ = ["Engine", "Verdict"]

log = get_logger(__name__)


@attrs.frozen(kw_only=True)
class Verdict:
    """What the engine did with one lead.

    Attributes:
        decision: The lead's decision: made now (``new``), replayed, or the one another
            process committed first; None when validation rejected the lead.
        new: The decision was made and committed by this call.
        followers: The person's other records that moved with it.
        rejected: The rejection (the lead as routing saw it and every problem), else None.
    """

    decision: Decision | None = None
    new: bool = False
    followers: tuple[Decision, ...] = ()
    rejected: Rejected | None = None


@attrs.define
class Engine:
    """Routing state and the pipeline over it, for one store, policy and plugin host.

    Open with ``Engine.open``. ``state`` and ``pipeline`` are the engine's own: the
    pipeline decides on the state, so each lead sees every decision before it.
    """

    policy: Policy
    store: Store
    host: PluginHost
    clock: Clock
    state: RoutingState
    reps: Mapping[str, Rep]
    accounts: AccountIndex
    commit_seq: int
    pipeline: Pipeline = attrs.field(init=False)
    _own: set[int] = attrs.field(factory=set, init=False)
    _team: tuple[tuple[Rep, ...], tuple[Account, ...]] = attrs.field(default=((), ()), init=False)

    def __attrs_post_init__(self) -> None:
        self.pipeline = self._pipeline(self.policy, self.host, list(self.reps.values()))

    @classmethod
    def open(
        cls,
        policy: Policy,
        store: Store,
        *,
        reps: Sequence[Rep],
        accounts: Sequence[Account] = (),
        host: PluginHost | None = None,
        clock: Clock = utcnow,
    ) -> Engine:
        """Build the engine from the store, for a team (``PolicyError`` when the policy
        names reps the team lacks, or a plugin's settings break its schema)."""
        host = host or make_host()
        policy = host.configure(policy)
        check_team(policy, {r.id: r for r in reps})
        stored = load_state(store)
        people = None
        if policy.duplicates.enabled:
            people = People.of(identity_key(store), stored.identities, stored.decisions.values())
        state = RoutingState.build(
            reps,
            stored.decisions,
            Ledger(stored.ledger, stored.sequence),
            stored.prices,
            people,
        )
        engine = cls(
            policy=policy,
            store=store,
            host=host,
            clock=clock,
            state=state,
            reps={r.id: r for r in reps},
            accounts=AccountIndex.build(list(accounts)),
            commit_seq=stored.commit_seq,
        )
        engine._team = (tuple(reps), tuple(accounts))
        return engine

    # ----------------------------------------------------------------- the live path

    def decide(self, lead: Lead, at: datetime | None = None) -> Verdict:
        """Replay the lead's decision, or decide it and commit the decision alone.

        Rejected leads are returned with their problems and commit nothing. A lead is
        never decided before it was created: ``at`` earlier than its ``created_at`` (a
        sender's clock ahead of ours) decides it as of its creation.
        """
        stored = self.replay(lead)
        if stored is not None:
            return Verdict(decision=stored)
        when = at or self.clock()
        if lead.created_at is not None and when < lead.created_at:
            when = lead.created_at
        outcome = self.pipeline.decide(lead, when)
        if isinstance(outcome, Rejected):
            return Verdict(rejected=outcome)
        committed = self.commit(outcome)
        return Verdict(
            decision=committed.decision, new=committed.new, followers=committed.followers
        )

    def commit(self, decided: Decided, *, moved: bool = False, planned: bool = False) -> Committed:
        """Commit one decision alone (see ``CommitGroup.add`` for ``moved`` and ``planned``).

        A decision made outside the engine (a breach move to the backup or the queue) is
        committed with ``planned=True``: its load moves from the previous owner to the new
        one here, and it gets its effects and timers from ``commit_unit`` like any other.
        """
        done: list[Committed] = []
        with self.group(size=1, on_commit=done.append) as group:
            group.add(decided, moved=moved, planned=planned)
        return done[0]

    def person_records(self, lead_id: str) -> tuple[str, ...]:
        """Every lead of the person ``lead_id`` belongs to, oldest first (just ``lead_id``
        when the engine knows no people, or not this one): the records that follow it
        when it moves."""
        people = self.state.people
        if people is None or not (person := people.person(lead_id)):
            return (lead_id,)
        return people.leads(person)

    def latest(self, lead_id: str) -> Decision | None:
        """The lead's latest decision, as far as this engine knows."""
        return self.state.latest.get(lead_id)

    def replay(self, lead: Lead) -> Decision | None:
        """The lead's stored decision, if it has one; the lead becomes a known person if it
        is not one yet (routed before the store kept identities, or while duplicates were
        off), so later leads match it."""
        stored = self.state.latest.get(lead.id)
        people = self.state.people
        if stored is None or people is None or people.person(lead.id):
            return stored
        people.observe(lead, self.policy.duplicates.match_on)
        rows, merges = people.settle(stored)
        if rows or merges:
            self._own.add(self.store.save_identities(rows, merges))
        return stored

    # ----------------------------------------------------------------- the team and others

    def update_team(self, reps: Sequence[Rep], accounts: Sequence[Account] = ()) -> None:
        """Decide for a new team from now on (``PolicyError`` when the policy names reps it
        lacks); loads follow each rep's ``open_leads``, the ledger and history stay."""
        team = (tuple(reps), tuple(accounts))
        if team == self._team:
            return  # the same team: keep the pipeline and its per-team indexes
        check_team(self.policy, {r.id: r for r in reps})
        self.state.rebase(reps)
        self.reps = {r.id: r for r in reps}
        self.accounts = AccountIndex.build(list(accounts))
        self.pipeline = self._pipeline(self.policy, self.host, reps)
        self._team = team

    def catch_up(self) -> int:
        """Take in what other processes committed since the last commit seen: their
        decisions (loads, owners), rotation turns, identity rows and prices.

        Returns how many decisions were taken in.
        """
        changes = changes_since(self.store, self.commit_seq, self._own)
        people = self.state.people
        if people is not None:
            for row in changes.identities:
                people.learn(row)
        for turn in changes.turns:
            self.state.ledger.apply(turn)
        for decision in changes.decisions:
            self.state.absorb(decision)
        if changes.prices is not None:
            self.state.prices.clear()
            self.state.prices.update(changes.prices)
        self.commit_seq = changes.commit_seq
        self._own = {s for s in self._own if s > self.commit_seq}
        if changes.decisions:
            log.info("engine.caught_up", decisions=len(changes.decisions), seq=self.commit_seq)
        return len(changes.decisions)

    def publish_prices(self, prices: Mapping[str, float], at: datetime) -> None:
        """Publish capacity prices (a batch solve's) to the store and use them from now on."""
        self._own.add(self.store.save_prices(prices, at))
        self.state.prices.clear()
        self.state.prices.update(prices)

    # ----------------------------------------------------------------- pipelines

    def planner(
        self,
        *,
        policy: Policy | None = None,
        host: PluginHost | None = None,
        reps: Sequence[Rep] | None = None,
    ) -> Pipeline:
        """A pipeline on a copy of the state, to plan on (nothing it decides changes the
        engine until it is staged with ``planned=True``)."""
        fork = self.state.fork()
        team = list(self.reps.values()) if reps is None else reps
        pipeline = Pipeline.sharing(
            host or self.host,
            policy or self.policy,
            team,
            self.accounts,
            loads=fork.loads,
            usage=fork.usage,
            ledger=fork.ledger,
            prices=fork.prices,
        )
        return pipeline

    def variant(self, *, reps: Sequence[Rep]) -> Pipeline:
        """A pipeline on the engine's own state for another team (the same reps, some made
        unavailable): what it decides counts here. It knows no people: a lead it decides
        again is moved, and its person's other records follow it when staged."""
        return Pipeline.sharing(
            self.host,
            self.policy,
            reps,
            self.accounts,
            loads=self.state.loads,
            usage=self.state.usage,
            ledger=self.state.ledger,
            prices=self.state.prices,
        )

    def _pipeline(self, policy: Policy, host: PluginHost, reps: Sequence[Rep]) -> Pipeline:
        return Pipeline.sharing(
            host,
            policy,
            reps,
            self.accounts,
            loads=self.state.loads,
            usage=self.state.usage,
            ledger=self.state.ledger,
            prices=self.state.prices,
            people=self.state.people,
        )

    # ----------------------------------------------------------------- commits

    def group(self, *, size: int = 500, on_commit: OnCommit | None = None) -> CommitGroup:
        """A commit group over this engine (see ``CommitGroup``)."""
        return CommitGroup(self, size=size, on_commit=on_commit)

    def stage(self, decided: Decided, *, moved: bool = False, planned: bool = False) -> Staged:
        """Take a decision into the state and build what it writes (``CommitGroup.add``)."""
        decision = decided.decision
        state, people = self.state, self.state.people
        previous = state.latest.get(decision.lead_id)
        rows, merges = people.settle(decision) if people is not None else ([], {})
        applied = True
        if planned:
            applied = state.absorb(decision, decided.turns)
        else:
            state.settle(decision, previous)
        # A stale planned decision (the lead moved on since) takes nobody with it. A
        # follower's deadline is counted again in its new owner's calendar.
        followers = (
            tuple(
                (self.pipeline.clocks.decision(follower), earlier)
                for follower, earlier in state.followers_of(decision, moved=moved)
            )
            if applied
            else ()
        )
        for follower, _ in followers:
            state.absorb(follower)
        unit = commit_unit(
            decision,
            self.reps,
            self.policy,
            turns=decided.turns,
            identities=rows,
            merges=merges,
            followers=[f for f, _ in followers],
            lead=decided.lead,
        )
        return Staged(unit=unit, previous=previous, followers=followers, applied=applied)

    def write(self, units: Sequence[CommitUnit]) -> tuple[bool, ...]:
        """Commit units in one group; True for each written."""
        result = self.store.commit(units)
        self._own.update(result.commit_seqs)
        return result.written

    def unstage(self, staged: Sequence[Staged]) -> None:
        """Undo staged decisions in the state (latest first), giving their turns back."""
        for item in reversed(staged):
            for follower, earlier in reversed(item.followers):
                self.state.retract(follower, earlier, ())
            if item.applied:
                self.state.retract(item.unit.decision, item.previous, item.unit.turns)

    def committed(self, staged: Staged, *, written: bool) -> Committed:
        """The outcome of a staged decision once its group was written (broadcast if new)."""
        decision = staged.unit.decision
        if not written:
            # Another process decided this lead first: its decision stands.
            winner = self.state.latest.get(decision.lead_id)
            if winner is None or winner.epoch < decision.epoch:
                winner = self.store.current_decision(decision.lead_id) or decision
            log.info("lead.lost_race", lead_id=decision.lead_id, epoch=decision.epoch)
            return Committed(decision=winner, new=False, replaced=staged.previous)
        followers = tuple(f for f, _ in staged.followers)
        self.host.decision_made(decision)
        for follower in followers:
            log.info(
                "lead.followed_duplicate",
                lead_id=follower.lead_id,
                rep_id=follower.owner_id,
                duplicate_of=decision.lead_id,
            )
            self.host.decision_made(follower)
        log.debug(
            "lead.routed",
            lead_id=decision.lead_id,
            rep_id=decision.owner_id,
            step=str(decision.step),
            policy_version=decision.policy_version,
        )
        return Committed(decision=decision, new=True, followers=followers, replaced=staged.previous)
