"""One lead in, one decision (or a rejection) out: the hierarchy every mode shares.

Stages, in order (each is a method; the first to produce an owner wins):

1. normalize, enrich, validate and score (hooks; ``leadroute.intake``); a ``reject``
   problem stops here, a ``fallback`` or ``nurture`` problem sends the lead to that queue;
2. current owner: an owned lead keeps an available owner (``keep_current_owner``);
   then a lead whose type routes to nurture (below MQL) goes to the nurture queue;
3. account owner: a lead from a known account goes to its owner, else the owner's backup;
4. routing rule -> pool -> hard constraints and availability -> strategy;
5. the pool's backup rep;
6. the fallback queue, with its named owner, the reason and an escalation deadline.

The pipeline keeps loads and the rotation ledger in memory so each lead sees the ones
decided before it; the engine (``leadroute.engine``) owns that state for as long as it
lives and commits what each decision changed with it.

Batch mode uses the same stages with a different chooser: ``prepare`` runs everything up
to the pool choice (leaving capacity to the solver) and ``finish`` turns the solver's
choice into a decision. The rebalance reuses ``start``, ``pool_candidates``,
``available``, ``candidate``, ``decided`` and ``fallback``.

Duplicates (when the router gives the pipeline its ``people``) are looked for right after
validation: ``notify_owner`` and ``append`` decide the lead there (the known owner keeps
it), ``reassign`` marks it and lets the hierarchy route the new intent. In batch mode a
duplicate of a lead still waiting for the solve is ``Deferred`` and decided after it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import attrs

from leadroute.context import RoutingContext
from leadroute.deadlines import Reclock
from leadroute.duplicates import Known, People
from leadroute.errors import PolicyError, UserInputError
from leadroute.host import PluginHost
from leadroute.intake import (
    QUALIFIED,
    check_intake_references,
    decision_fields,
    lead_type_of,
    resolve_actions,
    score_lead,
    wants_nurture,
)
from leadroute.logs import get_logger
from leadroute.models import (
    AccountIndex,
    AccountMatch,
    Candidate,
    Decision,
    DecisionStatus,
    DuplicateMatch,
    Exclusion,
    ExclusionGroup,
    InputProblem,
    Lead,
    Problem,
    Rep,
    RouteStep,
    Snapshot,
    SolveSummary,
    decision_id_for,
)
from leadroute.policy import Policy, PoolPolicy, Rule
from leadroute.redaction import mask_lead_text
from leadroute.rotation import LedgerTurn
from leadroute.scoring import LeadScore
from leadroute.strategies import Ledger, rank, share_factors
from leadroute.team import Team, unknown_rep
from leadroute.usage import EARLIEST, Usage, lead_load
from leadroute.worktime import WorktimeError

__all__ = [
    "Decided",
    "Deferred",
    "Pending",
    "Pipeline",
    "Rejected",
    "Trail",
    "check_snapshot_references",
    "check_team",
    "pool_members",
    "with_solve",
]

log = get_logger(__name__)

# Never copied into a decision's rule inputs: they identify a person.
_CONTACT_FIELDS = frozenset({"email", "name", "phone"})

FEATURES = (
    "country",
    "region",
    "segment",
    "language",
    "product",
    "lead_type",
    "source",
    # A lead attribute when the source has it; the learned fit estimates rates by it.
    "industry",
    # When the lead was created: reporting measures time to owner from it.
    "created_at",
)


@attrs.frozen(kw_only=True)
class Decided:
    """A lead that got an owner (or the fallback queue).

    Attributes:
        decision: The decision to record.
        turns: Rotation turns the decision took, to commit (relatively) with it.
        lead: The lead as routing saw it (normalized, enriched, scored): what a
            notification may say about it (never stored).
    """

    decision: Decision
    turns: tuple[LedgerTurn, ...] = ()
    lead: Lead | None = None


@attrs.frozen(kw_only=True)
class Pending:
    """A lead that reached a pool and waits for the batch solver.

    Attributes:
        trail: What the stages learned so far.
        rule: The matching rule.
        pool: Its pool.
        candidates: Eligible members with fit (capacity is left to the solver).
    """

    trail: Trail
    rule: Rule
    pool: PoolPolicy
    candidates: tuple[Candidate, ...]

    @property
    def lead_id(self) -> str:
        """The waiting lead."""
        return self.trail.lead.id


@attrs.frozen(kw_only=True)
class Rejected:
    """A lead that validation sent to the exception report.

    Attributes:
        lead: The enriched lead.
        problems: Every problem found (at least one with action ``reject``).
    """

    lead: Lead
    problems: tuple[Problem, ...]


@attrs.frozen(kw_only=True)
class Deferred:
    """A batch lead that duplicates a lead still waiting for the solve: decided after it.

    Attributes:
        trail: What the stages learned so far (validated, duplicate found).
    """

    trail: Trail

    @property
    def lead_id(self) -> str:
        """The waiting lead."""
        return self.trail.lead.id


@attrs.define
class Trail:
    """What the stages learned about one lead so far."""

    lead: Lead
    at: datetime
    epoch: int
    problems: tuple[Problem, ...] = ()
    path: list[str] = attrs.field(factory=list)
    exclusions: list[Exclusion] = attrs.field(factory=list)
    match: AccountMatch | None = None
    miss: str = "no routing rule matched"
    score: LeadScore | None = None
    groups: list[ExclusionGroup] = attrs.field(factory=list)
    known: Known | None = None
    duplicate: DuplicateMatch | None = None
    # ``defer: earliest_available``: the members starting soonest, and when they start.
    starts: dict[str, datetime] = attrs.field(factory=dict)


def _binding_note(best: Candidate, chosen: Candidate, prices: Mapping[str, float]) -> str:
    """Why the optimum did not give a lead its best-fit rep: that rep's capacity was worth more."""
    cap = f"/{best.capacity}" if best.capacity is not None else ""
    gain = best.fit - chosen.fit
    premium = prices.get(best.rep_id, 0.0) - prices.get(chosen.rep_id, 0.0)
    return (
        f"best-fit {best.rep_id} (fit {best.fit:.2f}, load {best.load}{cap}) is full at the "
        f"optimum: moving this lead there would gain {gain:.2f} in fit, but its capacity is "
        f"priced {premium:.2f} above {chosen.rep_id}'s by the leads that hold it"
    )


def pool_members(policy: Policy, reps: Mapping[str, Rep]) -> dict[str, tuple[str, ...]]:
    """Pool name to member rep ids: the policy's list plus reps that name the pool."""
    members: dict[str, set[str]] = {p.name: set(p.members) for p in policy.pools}
    for rep in reps.values():
        for pool in rep.pools:
            if pool in members:
                members[pool].add(rep.id)
            else:
                log.warning("rep.unknown_pool", rep_id=rep.id, pool=pool)
    return {name: tuple(sorted(ids)) for name, ids in members.items()}


def check_rep_references(
    policy: Policy, reps: Mapping[str, Rep], problems: Iterable[InputProblem] = ()
) -> None:
    """Policy references to reps must name known reps; the fallback owner must be active.

    ``problems`` are the read's input problems: a referenced rep the source left out for
    bad cells is named as unusable, with why, rather than as unknown.
    """
    problems = tuple(problems)
    owner = reps.get(policy.fallback.owner)
    if owner is None:
        raise unknown_rep(policy.fallback.owner, "fallback.owner", problems)
    if not owner.active:
        raise PolicyError(
            f"rep {owner.id!r} is inactive; the fallback queue needs an active owner",
            path="fallback.owner",
        )
    for i, pool in enumerate(policy.pools):
        for rep_id in pool.members:
            if rep_id not in reps:
                raise unknown_rep(rep_id, f"pools[{i}].members", problems)
        if pool.backup and pool.backup not in reps:
            raise unknown_rep(pool.backup, f"pools[{i}].backup", problems)


def check_snapshot_references(policy: Policy, snapshot: Snapshot) -> None:
    """The policy's rep references (fallback and nurture owners, pool members and backups)
    against what a source read, saying why a referenced rep it left out is unusable."""
    by_id = {r.id: r for r in snapshot.reps}
    check_rep_references(policy, by_id, snapshot.problems)
    check_intake_references(policy, by_id, snapshot.problems)


def check_rep_calendars(reps: Mapping[str, Rep]) -> None:
    """Every rep's time zone, hours and holiday region must be readable, before any lead.

    Adapters report bad cells per row; this catches a model built in code or by an adapter
    that does not, with one line naming the rep instead of a failure mid-run.
    """
    for rep in reps.values():
        try:
            rep.availability.working_hours()
        except WorktimeError as exc:
            where = f" ({rep.origin})" if rep.origin else ""
            raise UserInputError(f"rep {rep.id!r}{where}: {exc}") from None


def check_team(policy: Policy, reps: Mapping[str, Rep]) -> None:
    """Everything the policy asks of a team, before any lead: the reps it names exist (the
    fallback owner active) and every rep's calendar is readable."""
    check_rep_references(policy, reps)
    check_intake_references(policy, reps)
    check_rep_calendars(reps)


@attrs.define
class Pipeline:
    """The per-lead stages over one run's reps, accounts, loads and ledger."""

    host: PluginHost
    policy: Policy
    reps: Mapping[str, Rep]
    accounts: AccountIndex
    loads: dict[str, int]
    ledger: Ledger
    members: Mapping[str, tuple[str, ...]]
    prices: Mapping[str, float] = attrs.field(factory=dict)
    usage: Usage = attrs.field(factory=Usage)
    # Each owner's SLA calendar, built once per pipeline (``leadroute.deadlines``).
    clocks: Reclock = attrs.field(
        init=False,
        default=attrs.Factory(lambda self: Reclock(self.policy, self.reps), takes_self=True),
    )
    team: Team = attrs.field(default=attrs.Factory(lambda self: Team(self.reps), takes_self=True))
    # (id of the rep ids, ids of the exclusion groups) -> (both kept alive, reps standing):
    # index-backed hooks return the same group objects for leads alike, so the survivors
    # of a pool are worked out once per kind of lead, not once per lead.
    _standing: dict[tuple[int, tuple[int, ...]], tuple[object, object, tuple[str, ...]]] = (
        attrs.field(factory=dict, init=False, repr=False)
    )
    people: People | None = None
    # Pool name -> share factors over its members (``strategies.share_factors``): reps and
    # pools do not change within a run, so the O(pool) work is done once per pool, not per lead.
    _factors: dict[str, dict[str, float]] = attrs.field(factory=dict, init=False, repr=False)

    @classmethod
    def build(
        cls,
        host: PluginHost,
        policy: Policy,
        reps: Sequence[Rep],
        accounts: AccountIndex,
        *,
        assigned: Mapping[str, int],
        ledger: Ledger,
        prices: Mapping[str, float] | None = None,
        history: Iterable[Decision] = (),
    ) -> Pipeline:
        """Check the policy against the reps and set up loads (``open_leads`` + ``assigned``).

        ``history`` are the store's decisions, for the per-day and per-week caps. Each
        plugin's ``plugins.<name>`` settings are checked here (``PluginHost.configure``).
        """
        policy = host.configure(policy)
        by_id = {r.id: r for r in reps}
        check_team(policy, by_id)
        return cls.sharing(
            host,
            policy,
            reps,
            accounts,
            loads={r.id: r.open_leads + assigned.get(r.id, 0) for r in reps},
            usage=Usage.build(by_id, history),
            ledger=ledger,
            prices=dict(prices or {}),
        )

    @classmethod
    def sharing(
        cls,
        host: PluginHost,
        policy: Policy,
        reps: Sequence[Rep],
        accounts: AccountIndex,
        *,
        loads: dict[str, int],
        usage: Usage,
        ledger: Ledger,
        prices: Mapping[str, float],
        people: People | None = None,
    ) -> Pipeline:
        """Check the policy against the reps; the pipeline decides on the state given (the
        same objects, not copies: an engine's loads, usage, ledger, prices and people).

        The policy is taken as given: ``build`` (or the engine, once) has its plugin
        settings checked by ``PluginHost.configure``."""
        by_id = {r.id: r for r in reps}
        check_team(policy, by_id)
        return cls(
            host,
            policy,
            by_id,
            accounts,
            loads,
            ledger,
            pool_members(policy, by_id),
            prices,
            usage,
            people=people,
        )

    def room(self, at: datetime | None = None) -> dict[str, int | None]:
        """Leads each rep can still take (None: no cap): the tightest of the stacked caps.

        Open leads always count; with ``at``, so do the rep's local day and week. Under a
        load field (``capacity.load``) a day or week cap counts whole leads only once its
        load is used up: the solver's choices are checked against it in ``finish``.
        """
        return {rep.id: self._room(rep, at) for rep in self.reps.values()}

    def _room(self, rep: Rep, at: datetime | None) -> int | None:
        cap = rep.capacity
        rooms: list[int | None] = []
        if cap.max_open is not None:
            rooms.append(cap.max_open - self.loads.get(rep.id, 0))
        if at is not None:
            counting = self.policy.capacity.load == "count"
            for limit, used in (
                (cap.per_day, self.usage.day(rep.id, at)),
                (cap.per_week, self.usage.week(rep.id, at)),
            ):
                if limit is not None:
                    left = limit - used
                    rooms.append(int(left + 1e-9) if counting or left <= 0 else None)
        found = [r for r in rooms if r is not None]
        return max(0, min(found)) if found else None

    # ----------------------------------------------------------------- entry point

    def decide(self, lead: Lead, at: datetime, *, epoch: int = 1) -> Decided | Rejected:
        """Run every stage for one lead, choosing inside the pool with its strategy."""
        started = self.start(lead, at, epoch)
        if not isinstance(started, Trail):
            return started
        self.observe(started)
        return self.resume(started)

    def resume(self, trail: Trail) -> Decided:
        """The stages after validation, online: duplicate, owners, nurture, pool, fallback."""
        stages = (
            self._duplicate,
            self._current_owner,
            self._known_over_nurture,
            self._nurture,
            self._account_owner,
            self._pool,
        )
        for stage in stages:
            decided = stage(trail)
            if decided is not None:
                return decided
        return self._keep_known(trail) or self.fallback(trail, trail.miss)

    def start(self, lead: Lead, at: datetime, epoch: int) -> Decided | Rejected | Trail:
        """Normalize, enrich, validate and score: a rejection, a validation fallback or
        nurture, or the trail to continue (with the score routing will see)."""
        given_segment = bool(lead.attributes.get("segment"))
        # Whatever routing derives from free text is stored and reported: an email, a
        # phone number or a token a form put in a free-text field is masked first.
        lead = mask_lead_text(lead)
        lead = self.host.normalize_lead(lead, self.policy)
        lead = self.host.enrich_lead(lead, self.policy)
        problems = resolve_actions(self.host.validate_lead(lead, self.policy), self.policy)
        if any(p.action == "reject" for p in problems):
            return Rejected(lead=lead, problems=problems)
        lead, score = score_lead(self.host, lead, self.policy, at)
        lead = self._segment_after_scoring(lead, score, given=given_segment)
        trail = Trail(lead=lead, at=at, epoch=epoch, problems=problems, score=score)
        to_fallback = [p for p in problems if p.action == "fallback"]
        if to_fallback:
            trail.path.append("validation:fallback")
            return self.fallback(trail, "; ".join(p.message for p in to_fallback))
        to_nurture = [p for p in problems if p.action == "nurture"]
        if to_nurture:
            trail.path.append("validation:nurture")
            return self.nurture(trail, "; ".join(p.message for p in to_nurture))
        return trail

    def intake(self, lead: Lead, at: datetime) -> tuple[Lead, LeadScore | None]:
        """The lead as routing sees it (normalized, enriched, scored), without validation:
        for re-deciding leads already routed (rebalance)."""
        given_segment = bool(lead.attributes.get("segment"))
        lead = mask_lead_text(lead)  # as in start: what routing derives is stored
        lead = self.host.enrich_lead(self.host.normalize_lead(lead, self.policy), self.policy)
        lead, score = score_lead(self.host, lead, self.policy, at)
        return self._segment_after_scoring(lead, score, given=given_segment), score

    def _segment_after_scoring(self, lead: Lead, score: LeadScore | None, *, given: bool) -> Lead:
        """Derive the segment again once the lead is scored: enrichment ran before scoring, so
        a segment banded by score would otherwise see no score (or a stale input one). A
        segment given in the input stays, as enrichment never overwrites input."""
        if given or score is None:
            return lead
        segment = self.policy.segment_for(lead)
        if segment == lead.attributes.get("segment", ""):
            return lead
        return attrs.evolve(lead, attributes={**lead.attributes, "segment": segment})

    def stays_in_nurture(self, lead: Lead, score: LeadScore | None) -> bool:
        """Whether a lead in the nurture queue belongs there still (not yet an MQL or SQL)."""
        return score is None or score.stage not in QUALIFIED

    # ----------------------------------------------------------------- duplicates

    def observe(self, trail: Trail) -> None:
        """Register a validated lead with the known people and note whom it duplicates."""
        settings = self.policy.duplicates
        if self.people is not None and settings.enabled:
            trail.known = self.people.observe(trail.lead, settings.match_on)

    def _duplicate(self, trail: Trail) -> Decided | None:
        """Keep a known person's owner (``notify_owner``, ``append``) or mark a ``reassign``."""
        known, people = trail.known, self.people
        if known is None or people is None:
            return None
        action = self.policy.duplicates.action_for(trail.lead.lead_type)
        record = people.record_of(known)
        owner = people.owners.get(record, "")
        owners = {people.owners.get(lead_id, "") for lead_id in known.lead_ids}
        trail.duplicate = DuplicateMatch(
            lead_id=record, matched_on=known.matched_on, action=action, previous_owner=owner
        )
        on = ", ".join(known.matched_on)
        trail.path.append(f"duplicate:{record}")
        if action == "reassign":
            trail.path.append("duplicate:reassign")
            return None
        if len(owners) > 1:
            # Records of one person already have different owners (a lead bridged two
            # persons): keeping "the" owner is impossible, so the new intent decides for all.
            self._reassign_instead(trail, "duplicate:owners-differ")
            return None
        if action == "append":
            trail.path.append("duplicate:append")
            return self.decided(
                trail,
                RouteStep.DUPLICATE,
                owner,
                f"same person as lead {record} (matched on {on}): appended to that record, "
                f"owned by {owner}",
                count_load=False,
            )
        if owner == self.policy.fallback.owner:
            # The known record waits in the fallback queue: the new intent may find an owner.
            self._reassign_instead(trail, "duplicate:known-in-fallback")
            return None
        if self.available(trail, owner, self.context(trail.at, ())) is None:
            self._reassign_instead(trail, "duplicate:owner-unavailable")
            return None
        trail.path.append("duplicate:notify_owner")
        return self.decided(
            trail,
            RouteStep.DUPLICATE,
            owner,
            f"same person as lead {record} (matched on {on}): kept with its owner {owner}, "
            "who is notified",
        )

    def _known_over_nurture(self, trail: Trail) -> Decided | None:
        """A known person's new intent that would go to nurture stays with their owner."""
        dup = trail.duplicate
        if dup is None or wants_nurture(trail.lead, self.policy, trail.score) is None:
            return None
        return self._keep_known(trail)

    def _reassign_instead(self, trail: Trail, why: str) -> None:
        trail.path.append(why)
        if trail.duplicate is not None:
            trail.duplicate = attrs.evolve(trail.duplicate, action="reassign")

    def _keep_known(self, trail: Trail) -> Decided | None:
        """A reassigned duplicate that only the fallback queue would take stays with its owner."""
        dup, people = trail.duplicate, self.people
        if dup is None or people is None or trail.known is None or dup.action != "reassign":
            return None
        owners = {people.owners.get(lead_id, "") for lead_id in trail.known.lead_ids}
        owner = dup.previous_owner
        if len(owners) != 1 or not owner or owner == self.policy.fallback.owner:
            return None
        if self.available(trail, owner, self.context(trail.at, ())) is None:
            return None
        trail.path.append("duplicate:kept-known-owner")
        return self.decided(
            trail,
            RouteStep.DUPLICATE,
            owner,
            f"same person as lead {dup.lead_id}: the new intent found no owner "
            f"({trail.miss}), so it stays with the known owner {owner}",
        )

    # ----------------------------------------------------------------- stages

    def context(
        self, at: datetime, constraints: tuple[str, ...], rule: str = "", account_id: str = ""
    ) -> RoutingContext:
        """The context per-rep hooks see, over this run's live loads."""
        return RoutingContext(
            at=at,
            policy=self.policy,
            loads=self.loads,
            constraints=constraints,
            rule=rule,
            usage=self.usage,
            account_id=account_id,
        )

    def available(self, trail: Trail, rep_id: str, ctx: RoutingContext) -> Rep | None:
        """The rep when no plugin excludes them; otherwise record why and return None."""
        rep = self.reps.get(rep_id)
        if rep is None:
            trail.exclusions.append(
                Exclusion(rep_id=rep_id, code="UNKNOWN_REP", detail="not among the loaded reps")
            )
            return None
        groups = self.host.exclude_reps(trail.lead, self.team, (rep_id,), ctx)
        if groups:
            trail.groups.extend(groups)
            return None
        return self._passes_rep_hooks(trail, rep, ctx)

    def eligible(self, trail: Trail, rep_ids: Sequence[str], ctx: RoutingContext) -> list[Rep]:
        """The reps no plugin excludes, in order; record why the others cannot take the lead.

        ``leadroute_exclude_reps`` answers for all of them at once (the hard constraints,
        from an index); ``leadroute_exclude_rep`` then sees only the reps still standing.
        """
        groups = self.host.exclude_reps(trail.lead, self.team, rep_ids, ctx)
        trail.groups.extend(groups)
        standing = []
        for rep_id in self._standing_ids(rep_ids, groups):
            rep = self.reps.get(rep_id)
            if rep is None:
                trail.exclusions.append(
                    Exclusion(rep_id=rep_id, code="UNKNOWN_REP", detail="not among the loaded reps")
                )
            elif self._passes_rep_hooks(trail, rep, ctx) is not None:
                standing.append(rep)
        return standing

    def _standing_ids(
        self, rep_ids: Sequence[str], groups: Sequence[ExclusionGroup]
    ) -> tuple[str, ...]:
        key = (id(rep_ids), tuple(map(id, groups)))
        hit = self._standing.get(key)
        if hit is not None:
            return hit[2]
        out = set().union(*(g.rep_ids for g in groups))
        standing = tuple(r for r in rep_ids if r not in out)
        if len(self._standing) >= 4096:
            self._standing.clear()
        self._standing[key] = (rep_ids, tuple(groups), standing)
        return standing

    def _passes_rep_hooks(self, trail: Trail, rep: Rep, ctx: RoutingContext) -> Rep | None:
        excluded = self.host.exclude_rep(trail.lead, rep, ctx)
        if excluded:
            trail.exclusions.extend(excluded)
            return None
        return rep

    def _current_owner(self, trail: Trail) -> Decided | None:
        owner_id = trail.lead.owner_id
        if not owner_id or not self.policy.keep_current_owner:
            return None
        if self.available(trail, owner_id, self.context(trail.at, ())) is None:
            trail.path.append("current_owner:unavailable")
            return None
        trail.path.append("current_owner:kept")
        # The lead is already in the owner's open count, so the load does not change.
        return self.decided(
            trail,
            RouteStep.CURRENT_OWNER,
            owner_id,
            f"keeps its current owner {owner_id}",
            count_load=False,
        )

    def _nurture(self, trail: Trail) -> Decided | None:
        kind = wants_nurture(trail.lead, self.policy, trail.score)
        if kind is None:
            return None
        trail.path.append(f"type:{kind.name}:nurture")
        stage = f" at stage {trail.score.stage}" if trail.score and trail.score.stage else ""
        return self.nurture(trail, f"lead type {kind.name} routes to nurture{stage}")

    def _account_owner(self, trail: Trail) -> Decided | None:
        settings = self.policy.account_owner
        if not settings.enabled:
            return None
        match = self.host.match_account(trail.lead, self.accounts, self.policy)
        account = self.accounts.by_id.get(match.account_id) if match else None
        if match is None or account is None:
            trail.path.append("account:none")
            return None
        trail.match = match
        trail.path.append(f"account:{account.id}")
        statuses = {s.lower() for s in settings.statuses}
        if statuses and account.status.lower() not in statuses:
            trail.path.append(f"account:status-{account.status or 'none'}-not-owned")
            return None
        if not account.owner_id:
            trail.path.append("account:no-owner")
            return None
        ctx = self.context(trail.at, ())
        if self.available(trail, account.owner_id, ctx):
            trail.path.append("account_owner")
            return self.decided(
                trail,
                RouteStep.ACCOUNT_OWNER,
                account.owner_id,
                f"account {account.name or account.id} is owned by {account.owner_id}",
            )
        owner = self.reps.get(account.owner_id)
        backup = owner.backup_id if owner and settings.use_backup else ""
        # Ownership is sticky for the owner only: a backup stands in within their capacity.
        if backup and self.available(trail, backup, self.context(trail.at, ("capacity",))):
            trail.path.append("account_owner:backup")
            return self.decided(
                trail,
                RouteStep.BACKUP,
                backup,
                f"account owner {account.owner_id} is unavailable "
                f"({self._codes_for(trail, account.owner_id)}); "
                f"backup {backup} takes it",
            )
        trail.path.append("account_owner:unavailable")
        return None

    def in_pool(self, trail: Trail) -> Decided:
        """Only the routing-rule stages, for a lead routed before: rule, pool, strategy,
        the pool's backup, else the fallback queue (a move into a pool)."""
        return self._pool(trail) or self.fallback(trail, trail.miss)

    def _pool(self, trail: Trail) -> Decided | None:
        found = self.pool_candidates(trail, with_capacity=True)
        if found is None:
            return None
        rule, pool, candidates = found
        if not candidates:
            return self.pool_backup(trail, rule, pool)
        view = self.ledger.view(
            pool.name,
            [c.rep_id for c in candidates],
            self.reps,
            trail.at,
            pool.half_life,
            self.members.get(pool.name, ()),
            self.member_factors(pool.name),
            pool.share,
        )
        ranked = rank(
            pool.strategy,
            pool.name,
            trail.lead.id,
            candidates,
            self.ledger,
            self.reps,
            self.prices,
            view,
        )
        winner = ranked[0]
        turn = self.ledger.take_turn(
            pool.name,
            winner.rep_id,
            at=trail.at,
            level=view.after_turn(winner.rep_id),
            half_life=pool.half_life,
            chosen_at=view.levels[winner.rep_id],
        )
        trail.path.append(f"strategy:{pool.strategy}")
        reason = f"{pool.strategy} in pool {pool.name}: {winner.reason}"
        start = trail.starts.get(winner.rep_id)
        if start is not None:
            zone = self.reps[winner.rep_id].availability.timezone
            local = start.astimezone(ZoneInfo(zone))
            reason = (
                f"nobody on shift with room; earliest available in pool {pool.name}: "
                f"{winner.rep_id} starts {local:%a %Y-%m-%d %H:%M} {zone}"
                + (
                    f" ({pool.strategy} among {len(ranked)}: {winner.reason})"
                    if len(ranked) > 1
                    else ""
                )
            )
        return self.decided(
            trail,
            RouteStep.POOL,
            winner.rep_id,
            reason,
            rule=rule.name,
            pool=pool,
            candidates=tuple(ranked),
            turns=(turn,),
        )

    def pool_candidates(
        self, trail: Trail, *, with_capacity: bool
    ) -> tuple[Rule, PoolPolicy, list[Candidate]] | None:
        """The matching rule, its pool and the eligible members (None when no rule matches)."""
        rule = self.policy.rule_for(trail.lead)
        if rule is None:
            trail.path.append("rule:none")
            trail.miss = "no routing rule matched"
            return None
        pool = self.policy.pool(rule.pool)
        trail.path.extend((f"rule:{rule.name}", f"pool:{pool.name}"))
        constraints = tuple(self.policy.constraints_for(rule))
        # The batch leaves capacity to the solver, which sees every lead at once.
        ctx = self.context(
            trail.at,
            (*constraints, "capacity") if with_capacity else constraints,
            rule.name,
            trail.match.account_id if trail.match else "",
        )
        home = pool
        candidates = self._members(trail, pool, ctx)
        chain = {pool.name}
        # Follow the sun: while nobody here is on shift with room, the partner pool.
        while (
            not candidates
            and pool.out_of_hours == "follow_the_sun"
            and pool.on_shift_pool not in chain
            and self._away_or_full(trail, self.members.get(pool.name, ()))
        ):
            pool = self.policy.pool(pool.on_shift_pool)
            chain.add(pool.name)
            trail.path.append(f"follow_the_sun:{pool.name}")
            candidates = self._members(trail, pool, ctx)
        if not candidates and home.defer == "earliest_available":
            candidates = self._earliest(trail, home, ctx, with_capacity=with_capacity)
            if candidates:
                pool = home
                trail.path.append(f"{EARLIEST}{home.name}")
        return rule, pool, candidates

    def _members(self, trail: Trail, pool: PoolPolicy, ctx: RoutingContext) -> list[Candidate]:
        """The pool's eligible members; working hours count unless the pool defers to its
        strategy (``earliest_available`` takes the members on shift first)."""
        if pool.out_of_hours != "defer" or pool.defer == "earliest_available":
            ctx = attrs.evolve(ctx, constraints=(*ctx.constraints, "hours"))
        members = self.members.get(pool.name, ())
        return [self.candidate(trail.lead, rep, ctx) for rep in self.eligible(trail, members, ctx)]

    def _earliest(
        self, trail: Trail, pool: PoolPolicy, ctx: RoutingContext, *, with_capacity: bool
    ) -> list[Candidate]:
        """The members who start work soonest with room on that day (``defer:
        earliest_available``), their starts kept on the trail.

        Everything but working hours and capacity is checked now; each remaining member's
        next working instant (after holidays, leave and pauses) is their start, and their
        caps are checked as of then. What this pass excludes is not recorded again: the
        first pass said why nobody could take the lead now.
        """
        kept = len(trail.exclusions), len(trail.groups)
        constraints = tuple(c for c in ctx.constraints if c not in ("hours", "capacity"))
        members = self.members.get(pool.name, ())
        starts: dict[str, datetime] = {}
        for rep in self.eligible(trail, members, attrs.evolve(ctx, constraints=constraints)):
            try:
                start = rep.availability.calendar().next_open(trail.at)
            except WorktimeError:
                continue  # no working time within a year: nobody to wait for
            room = self.context(start, ("capacity",), ctx.rule, ctx.account_id)
            if with_capacity and self._passes_rep_hooks(trail, rep, room) is None:
                continue
            starts[rep.id] = start
        del trail.exclusions[kept[0] :]
        del trail.groups[kept[1] :]
        if not starts:
            return []
        first = min(starts.values())
        trail.starts = {r: at for r, at in starts.items() if at == first}
        plain = attrs.evolve(ctx, constraints=constraints)
        return [self.candidate(trail.lead, self.reps[r], plain) for r in sorted(trail.starts)]

    # Exclusion codes that mean "not at work now" and "no room now": follow the sun on.
    AWAY = frozenset({"OUT_OF_HOURS", "HOLIDAY"})
    FULL = frozenset({"OPEN_CAP", "DAILY_CAP", "WEEKLY_CAP", "TYPE_CAP", "CAPACITY_REACHED"})

    @classmethod
    def _away_or_full(cls, trail: Trail, members: Sequence[str]) -> bool:
        """Whether some member of a pool was left out for being off shift or full."""
        wanted = set(members)
        codes = cls.AWAY | cls.FULL
        return any(e.rep_id in wanted and e.code in codes for e in cls._trail_exclusions(trail))

    def pool_backup(
        self, trail: Trail, rule: Rule, pool: PoolPolicy, why: str = ""
    ) -> Decided | None:
        """The pool's backup rep when no member can take the lead; None sends it to fallback."""
        summary = why or self._exclusion_summary(trail, self.members.get(pool.name, ()))
        backup_ctx = self.context(trail.at, ("capacity",), rule.name)
        if pool.backup and self.available(trail, pool.backup, backup_ctx):
            trail.path.append("pool:backup")
            return self.decided(
                trail,
                RouteStep.BACKUP,
                pool.backup,
                f"no eligible rep in pool {pool.name} ({summary}); "
                f"pool backup {pool.backup} takes it",
                rule=rule.name,
                pool=pool,
            )
        trail.miss = f"no eligible rep in pool {pool.name} ({summary})"
        return None

    # ----------------------------------------------------------------- batch

    def prepare(
        self, lead: Lead, at: datetime, *, epoch: int = 1
    ) -> Decided | Rejected | Pending | Deferred:
        """Every stage but the pool choice; leads that reach a pool wait for the batch solve."""
        trail = self.start(lead, at, epoch)
        if not isinstance(trail, Trail):
            return trail
        self.observe(trail)
        if trail.known is not None and self.people and not self.people.settled(trail.known):
            return Deferred(trail=trail)
        for stage in (
            self._duplicate,
            self._current_owner,
            self._known_over_nurture,
            self._nurture,
            self._account_owner,
        ):
            decided = stage(trail)
            if decided is not None:
                return decided
        found = self.pool_candidates(trail, with_capacity=False)
        if found is None:
            return self._keep_known(trail) or self.fallback(trail, trail.miss)
        rule, pool, candidates = found
        if not candidates:
            return (
                self.pool_backup(trail, rule, pool)
                or self._keep_known(trail)
                or self.fallback(trail, trail.miss)
            )
        return Pending(trail=trail, rule=rule, pool=pool, candidates=tuple(candidates))

    def finish(
        self,
        pending: Pending,
        rep_id: str | None,
        prices: Mapping[str, float] | None = None,
        *,
        unplaced: str = "",
    ) -> Decided:
        """Turn the solver's choice for a pending lead into a decision (or backup/fallback).

        With the solve's capacity prices, a lead placed away from its best-fit rep says what
        moving it there would gain and what that capacity is worth to the leads holding it.
        ``unplaced`` is the solver's reason for leaving the lead out; a lead its pool's cap
        kept out goes to the fallback queue (the pool's backup would be the pool taking it).
        """
        trail, rule, pool = pending.trail, pending.rule, pending.pool
        ranked = sorted(pending.candidates, key=lambda c: (c.rep_id != rep_id, -c.fit, c.rep_id))
        best = max(pending.candidates, key=lambda c: (c.fit, c.rep_id))
        if rep_id is not None and not self.available(
            trail, rep_id, self.context(trail.at, ("capacity",), rule.name)
        ):
            # A cap the solver's lead counts cannot see (a per-type or a load-field cap).
            why = (
                f"the optimizer's choice {rep_id} is over a cap ({self._codes_for(trail, rep_id)})"
            )
            return self.pool_backup(trail, rule, pool, why) or self.fallback(trail, trail.miss)
        if rep_id is None and unplaced.startswith(f"pool {pool.name} cap reached"):
            trail.path.append("pool:cap-reached")
            return self.fallback(trail, unplaced)
        if rep_id is None:
            why = unplaced or f"no room left among {len(ranked)} eligible reps in the joint optimum"
            return (
                self.pool_backup(trail, rule, pool, why)
                or self._keep_known(trail)
                or self.fallback(trail, trail.miss)
            )
        trail.path.append("strategy:optimize")
        note = (
            "its best fit"
            if best.rep_id == rep_id
            else _binding_note(best, ranked[0], prices or {})
        )
        ranked = [
            attrs.evolve(
                c, rank=i, reason=("chosen by the batch optimizer" if i == 1 else "not chosen")
            )
            for i, c in enumerate(ranked, start=1)
        ]
        view = self.ledger.view(
            pool.name,
            [rep_id],
            self.reps,
            trail.at,
            pool.half_life,
            self.members.get(pool.name, ()),
            self.member_factors(pool.name),
            pool.share,
        )
        turn = self.ledger.take_turn(
            pool.name,
            rep_id,
            at=trail.at,
            level=view.after_turn(rep_id),
            half_life=pool.half_life,
            chosen_at=view.levels[rep_id],
        )
        return self.decided(
            trail,
            RouteStep.POOL,
            rep_id,
            f"batch optimizer in pool {pool.name}: {note}",
            rule=rule.name,
            pool=pool,
            candidates=tuple(ranked),
            turns=(turn,),
            strategy="optimize",
        )

    def fallback(self, trail: Trail, reason: str) -> Decided:
        fallback = self.policy.fallback
        trail.path.append(f"fallback:{fallback.queue}")
        # The queue owner's escalation clock counts in their calendar, as the timer does.
        return self.decided(
            trail,
            RouteStep.FALLBACK,
            fallback.owner,
            reason,
            status=DecisionStatus.FALLBACK,
            queue=fallback.queue,
        )

    def nurture(self, trail: Trail, reason: str) -> Decided:
        """The nurture queue and its owner (the fallback queue when the policy has none)."""
        settings = self.policy.nurture
        if settings is None:
            return self.fallback(trail, f"{reason}; the policy has no nurture queue")
        trail.path.append(f"nurture:{settings.queue}")
        return self.decided(trail, RouteStep.NURTURE, settings.owner, reason, queue=settings.queue)

    # ----------------------------------------------------------------- helpers

    def candidate(self, lead: Lead, rep: Rep, ctx: RoutingContext) -> Candidate:
        contributions = tuple(self.host.score_fit(lead, rep, ctx))
        weights = self.policy.fit.weights
        fit = sum(c.value * weights.get(c.name, 1.0) for c in contributions)
        return Candidate(
            rep_id=rep.id,
            fit=round(fit, 4),
            load=ctx.load(rep.id),
            capacity=rep.capacity.max_open,
            contributions=contributions,
        )

    def member_factors(self, pool: str) -> dict[str, float]:
        """The share factors of a pool's members, computed once per pipeline (one run)."""
        factors = self._factors.get(pool)
        if factors is None:
            members = self.members.get(pool, ())
            by = next((p.share for p in self.policy.pools if p.name == pool), "weight")
            factors = share_factors((self.reps[r] for r in members if r in self.reps), by)
            self._factors[pool] = factors
        return factors

    @staticmethod
    def _trail_exclusions(trail: Trail) -> list[Exclusion]:
        return [e for g in trail.groups for e in g.expand()] + trail.exclusions

    @classmethod
    def _codes_for(cls, trail: Trail, rep_id: str) -> str:
        codes = [e.code for e in cls._trail_exclusions(trail) if e.rep_id == rep_id]
        return ",".join(codes) or "unavailable"

    @classmethod
    def _exclusion_summary(cls, trail: Trail, members: Sequence[str]) -> str:
        if not members:
            return "the pool has no members"
        member_set = set(members)
        first_code: dict[str, str] = {}
        for e in cls._trail_exclusions(trail):
            if e.rep_id in member_set:
                first_code.setdefault(e.rep_id, e.code)
        counts = Counter(first_code.values())
        return ", ".join(f"{n} {code}" for code, n in counts.most_common())

    def decided(
        self,
        trail: Trail,
        step: RouteStep,
        owner_id: str,
        reason: str,
        *,
        status: DecisionStatus = DecisionStatus.ROUTED,
        rule: str = "",
        pool: PoolPolicy | None = None,
        candidates: tuple[Candidate, ...] = (),
        turns: tuple[LedgerTurn, ...] = (),
        count_load: bool = True,
        strategy: str = "",
        queue: str = "",
    ) -> Decided:
        lead = trail.lead
        load = lead_load(lead, self.policy)
        # The deadline counts in the owner's calendar (the queue owner's for a queued
        # lead); an owner off shift starts the clock at their next working instant.
        clock = self.clocks.fields(
            owner_id,
            lead_type_of(lead, self.policy),
            trail.at,
            queued=status == DecisionStatus.FALLBACK and queue == self.policy.fallback.queue,
        )
        if count_load:
            self.loads[owner_id] = self.loads.get(owner_id, 0) + 1
            if status == DecisionStatus.ROUTED:
                # Whoever starts first was checked against the caps of the day they
                # start, and the lead counts there (``usage.received_at``).
                first = owner_id in trail.starts and clock.sla_starts_at is not None
                received = clock.sla_starts_at if first else trail.at
                self.usage.add(owner_id, received or trail.at, lead.lead_type, load)
        features = {f: lead.get(f) for f in FEATURES if lead.get(f)}
        decision = Decision(
            id=decision_id_for(lead.id, trail.epoch),
            lead_id=lead.id,
            epoch=trail.epoch,
            status=status,
            owner_id=owner_id,
            queue=queue,
            step=step,
            route_path=tuple(trail.path),
            rule=rule,
            pool=pool.name if pool else "",
            strategy=strategy or (str(pool.strategy) if pool and candidates else ""),
            account_id=trail.match.account_id if trail.match else "",
            account_method=trail.match.method if trail.match else "",
            candidates=candidates,
            exclusions=tuple(trail.exclusions),
            problems=trail.problems,
            reason=reason,
            policy_version=self.policy.version_tag,
            decided_at=trail.at,
            features=features,
            **decision_fields(lead, self.policy, trail.score),
            **clock.fields(),
            load=load,
            excluded_groups=tuple(trail.groups),
            account_confidence=trail.match.confidence if trail.match else 0.0,
            duplicate=trail.duplicate,
            rule_inputs=self._rule_inputs(rule, lead),
        )
        return Decided(decision=decision, turns=turns, lead=lead)

    def _rule_inputs(self, rule: str, lead: Lead) -> dict[str, str]:
        """What the matched rule's conditions read on this lead (contact fields left out)."""
        if not rule:
            return {}
        matched = next((r for r in self.policy.routing if r.name == rule), None)
        if matched is None:
            return {}
        return {
            field: value
            for field in matched.when
            if field not in _CONTACT_FIELDS and (value := lead.get(field))
        }


def with_solve(decided: Decided, summary: SolveSummary) -> Decided:
    """The same decision, carrying the joint solve that made it (kept in the audit trail)."""
    return attrs.evolve(decided, decision=attrs.evolve(decided.decision, solve=summary))
