"""Normalized, frozen value objects shared by the core, adapters and plugins.

Every timestamp is timezone-aware UTC; local time exists only for working hours and
display. Models change with ``attrs.evolve``; nothing here does I/O.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from leadroute.normalize import registrable_domain
from leadroute.redaction import redact_text
from leadroute.worktime import WorkingHours, calendar_for, hours_for

__all__ = [
    "Account",
    "AccountIndex",
    "AccountMatch",
    "Availability",
    "Candidate",
    "Capacity",
    "Decision",
    "DecisionStatus",
    "DuplicateMatch",
    "Effect",
    "EffectResult",
    "Exclusion",
    "ExclusionCode",
    "ExclusionGroup",
    "FitContribution",
    "InputProblem",
    "Lead",
    "LeadEvent",
    "LeaveWindow",
    "Outcome",
    "OutcomeKind",
    "Pool",
    "Problem",
    "Rep",
    "RouteStep",
    "ScoreContribution",
    "Snapshot",
    "SolveSummary",
    "Timer",
    "TimerKind",
    "decision_id_for",
    "normalize_company",
    "sorted_words",
]

# A fixed namespace so decision ids and idempotency keys are the same on every machine
# and across restarts: a relay that re-sends an effect re-sends the same key.
LEADROUTE_NAMESPACE = uuid.UUID("5b0c4a52-61a4-4c1e-9d59-2f3c1f0b7e11")


def _tuple(value: Any) -> tuple[str, ...]:
    return tuple(value) if value else ()


def _frozen_map(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return dict(value or {})


def _sorted_tuple(value: Any) -> tuple[str, ...]:
    return tuple(sorted(value)) if value else ()


def _frozen_levels(value: Mapping[str, int] | None) -> Mapping[str, int]:
    return {str(k).strip().lower(): int(v) for k, v in (value or {}).items()}


@attrs.frozen(kw_only=True)
class LeadEvent:
    """One behaviour event of a lead (a page visit, a download, a pricing-page view).

    Attributes:
        kind: What happened, as the policy's scoring rules name it (``pricing_page``).
        at: When it happened (UTC); scoring decays points by age.
        count: How many times (a day's page visits may arrive as one row).
        origin: Where the record came from, for error messages (``events.csv:4``).
    """

    kind: str
    at: datetime
    count: int = 1
    origin: str = ""


def _event_tuple(value: Iterable[LeadEvent]) -> tuple[LeadEvent, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class Lead:
    """One inbound lead, normalized from whatever system it came from.

    Attributes:
        id: The source system's stable id (CRM record id or CSV ``id``).
        email: Contact email as given (normalization is a validation concern).
        name: Person's full name, for display only; never written to the audit trail.
        company: Company name as given.
        website: Company website, if the form had one.
        country: ISO 3166-1 alpha-2 code, upper case, or ``""`` when unknown.
        state: State or province code, when known.
        employees: Company size, or ``None`` when unknown.
        language: ISO 639-1 code, lower case, or ``""``.
        product: Product line of interest.
        lead_type: Form or lead type (``demo``, ``contact``...), as given.
        source: Acquisition source (``web``, ``event``, ``partner``...).
        created_at: When the lead was created in the source system (UTC).
        owner_id: The owner currently recorded in the source system, ``""`` for none.
        last_activity_at: The owner's last activity on the lead (call, email, meeting), if any.
        attributes: Extra columns and derived fields (``domain``, ``region``, ``segment``).
        origin: Where the record came from, for error messages (``leads.csv:17``).
        phone: Contact phone; E.164 (``+442079460958``) once normalized, as given before.
        events: Behaviour events (page visits, downloads...) that scoring counts.
    """

    id: str
    email: str = ""
    name: str = ""
    company: str = ""
    website: str = ""
    country: str = ""
    state: str = ""
    employees: int | None = None
    language: str = ""
    product: str = ""
    lead_type: str = ""
    source: str = ""
    created_at: datetime | None = None
    owner_id: str = ""
    last_activity_at: datetime | None = None
    attributes: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    origin: str = ""
    phone: str = ""
    events: tuple[LeadEvent, ...] = attrs.field(default=(), converter=_event_tuple)

    def get(self, field: str) -> str:
        """Return a field or attribute as text (``""`` when absent), for policy conditions."""
        if field in _LEAD_FIELDS:
            value = getattr(self, field)
            return "" if value is None else str(value)
        return self.attributes.get(field, "")


_LEAD_FIELDS = frozenset(a.name for a in attrs.fields(Lead)) - {"attributes", "events"}


@attrs.frozen(kw_only=True)
class LeaveWindow:
    """A period a rep is away, inclusive start, exclusive end (UTC).

    Attributes:
        start: First instant of the leave.
        end: First instant the rep is back.
    """

    start: datetime
    end: datetime

    def covers(self, at: datetime) -> bool:
        """Whether ``at`` falls inside the window."""
        return self.start <= at < self.end


@attrs.frozen(kw_only=True)
class Availability:
    """When a rep can take leads.

    Attributes:
        timezone: IANA zone name of the rep, for working hours and daily caps.
        leave: Leave windows; a rep on leave is excluded with ``ON_LEAVE``.
        paused_until: A manual pause; ``datetime.max``-like far dates mean indefinite.
        hours: Weekly working hours in ``timezone`` (``{"mon-fri": "09:00-17:30"}``, see
            ``leadroute.worktime``); empty means around the clock.
        holidays: Country (``GB``) or country-subdivision (``DE-BY``) whose public holidays
            the rep does not work; ``""`` for none.
        paused: A manual pause with no end (``paused_until`` gives one with an end).
        pauses: Dated pause windows (a pause from Wednesday noon to Thursday): the rep is
            excluded with ``PAUSED`` inside one, and takes leads outside them.
        starts_at: A new hire's first day (local midnight, as UTC): before it the rep is
            excluded with ``NOT_STARTED``; ``None`` when the rep has started.
    """

    timezone: str = "UTC"
    leave: tuple[LeaveWindow, ...] = ()
    paused_until: datetime | None = None
    hours: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    holidays: str = ""
    paused: bool = False
    pauses: tuple[LeaveWindow, ...] = ()
    starts_at: datetime | None = None

    def leave_at(self, at: datetime) -> LeaveWindow | None:
        """The leave window covering ``at``, if any."""
        if not self.leave:  # most reps, asked for every lead: no generator for nothing
            return None
        return next((w for w in self.leave if w.covers(at)), None)

    def pause_at(self, at: datetime) -> LeaveWindow | None:
        """The dated pause window covering ``at``, if any."""
        if not self.pauses:
            return None
        return next((w for w in self.pauses if w.covers(at)), None)

    @property
    def has_calendar(self) -> bool:
        """Whether working hours or holidays restrict when the rep works."""
        return bool(self.hours or self.holidays)

    @property
    def has_time_away(self) -> bool:
        """Whether leave, dated pauses, a pause with an end or a start date close some time."""
        return bool(self.leave or self.pauses or self.paused_until or self.starts_at)

    def working_hours(self) -> WorkingHours:
        """The rep's calendar (cached: every check of every lead asks for it)."""
        return hours_for(
            self.timezone, tuple(sorted(self.hours.items())) if self.hours else None, self.holidays
        )

    def calendar(self, days: Mapping[str, str] | None = None) -> WorkingHours:
        """The rep's working time: their hours (else ``days``, else around the clock) in
        their zone, closed on their holidays, during leave and dated pauses, before a
        pause with an end is over and before their start date (cached).

        :param days: The week to use when the rep has no hours of their own.
        """
        week = self.hours or days
        starts = max(filter(None, (self.starts_at, self.paused_until)), default=None)
        return calendar_for(
            self.timezone,
            tuple(sorted(week.items())) if week else None,
            self.holidays,
            tuple((w.start, w.end) for w in (*self.leave, *self.pauses)),
            starts,
        )


@attrs.frozen(kw_only=True)
class Capacity:
    """How much a rep can hold; every cap that is set applies (they stack).

    Attributes:
        max_open: Most open leads at once; ``None`` means no cap.
        per_day: Most load received per local calendar day (the rep's time zone).
        per_week: Most load received per local week, starting on the rep's Monday.
        per_type: Lead type (lower case) to the most leads of that type per local day.

    Load is a count of leads unless the policy's ``capacity.load`` names a lead field
    (``deal_size``), in which case ``per_day`` and ``per_week`` are sums of that field;
    ``max_open`` and ``per_type`` always count leads.
    """

    max_open: int | None = None
    per_day: float | None = None
    per_week: float | None = None
    per_type: Mapping[str, int] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class Rep:
    """A person who can own leads.

    Attributes:
        id: The source system's user/owner id.
        name: Display name.
        email: Work email (for notifications; never logged).
        active: Inactive reps never receive leads.
        territories: Regions, countries or ``country-state`` codes the rep covers; empty = any.
        languages: ISO 639-1 codes the rep works in; empty = any.
        segments: Segment names the rep serves; empty = any.
        products: Product lines the rep sells; empty = any.
        pools: Pools the rep belongs to (in addition to pools that list the rep).
        capacity: Caps on load.
        weight: Relative share in weighted rotation (1.0 = normal).
        backup_id: Who takes this rep's account leads when the rep cannot.
        open_leads: Open leads the rep already holds in the source system.
        availability: Time zone, leave and pause.
        origin: Where the record came from, for error messages.
        skills: Skill name to level (``{"fintech": 2}``); a rule may require a minimum level.
        accounts: Named accounts the rep owns for territory purposes: account ids or
            registrable domains (``acme.com``), in addition to the named territories' lists.
        slack_id: The rep's Slack member id (``U024BE7LH``), for notifications.
        booking_url: The rep's meeting-booking link, sent when a lead asked for a meeting.
        manager_id: The rep's manager (a rep id), told when an SLA is breached.
        phone: Work phone, for notifications and display (never logged).
    """

    id: str
    name: str = ""
    email: str = ""
    active: bool = True
    territories: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    languages: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    segments: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    products: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    pools: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    capacity: Capacity = attrs.field(factory=Capacity)
    weight: float = 1.0
    backup_id: str = ""
    open_leads: int = 0
    availability: Availability = attrs.field(factory=Availability)
    origin: str = ""
    skills: Mapping[str, int] = attrs.field(factory=dict, converter=_frozen_levels)
    accounts: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    slack_id: str = ""
    booking_url: str = ""
    manager_id: str = ""
    phone: str = ""


@attrs.frozen(kw_only=True)
class Account:
    """A company the business already knows, with an owner.

    Attributes:
        id: Source system id.
        name: Company name.
        domain: Registrable domain (``acme.com``), lower case.
        owner_id: The account owner's rep id.
        status: ``customer``, ``prospect`` or the source's own label.
        origin: Where the record came from, for error messages.
        last_activity_at: The account's most recent activity (UTC), if known; the last
            tie-breaker when several accounts match a lead equally well.
    """

    id: str
    name: str = ""
    domain: str = ""
    owner_id: str = ""
    status: str = ""
    origin: str = ""
    last_activity_at: datetime | None = None


@attrs.frozen(kw_only=True)
class AccountMatch:
    """The account a lead belongs to, and how we know.

    Attributes:
        account_id: The matched account.
        method: ``domain``, ``name`` or a plugin's own label.
        confidence: 0..1; exact matches are 1.0.
    """

    account_id: str
    method: str
    confidence: float = 1.0


_COMPANY_SUFFIXES = frozenset(
    {
        "inc",
        "incorporated",
        "llc",
        "ltd",
        "limited",
        "gmbh",
        "ag",
        "sa",
        "sas",
        "bv",
        "plc",
        "corp",
        "corporation",
        "co",
        "company",
        "srl",
        "oy",
        "ab",
        "as",
        "pty",
        "nv",
    }
)


def normalize_company(name: str) -> str:
    """Lower-case a company name and drop punctuation and legal suffixes (``Acme, Inc.`` -> ``acme``)."""
    words = "".join(ch if ch.isalnum() else " " for ch in name.lower()).split()
    while words and words[-1] in _COMPANY_SUFFIXES:
        words.pop()
    return " ".join(words)


def sorted_words(text: str) -> str:
    """The words of a text in sorted order (``"labs acme"`` -> ``"acme labs"``)."""
    return " ".join(sorted(text.split()))


@attrs.frozen
class AccountIndex:
    """Accounts indexed once per run so matching a lead is a dictionary lookup.

    Every account sharing a key is kept, in input order, so the matcher's tie-breakers
    (customer before prospect, most recent activity) choose between them.

    Attributes:
        by_id: Accounts by id.
        by_domain: Accounts by registrable domain (``eu.acme.co.uk`` is kept under
            ``acme.co.uk``), lower case.
        by_name: Accounts by normalized company name.
        by_sorted_name: Accounts by their normalized name's words in sorted order, for
            fuzzy matching (word order ignored, sorted once here rather than per lead).
        sorted_names: The keys of ``by_sorted_name``, as a sequence for rapidfuzz.
    """

    by_id: Mapping[str, Account]
    by_domain: Mapping[str, tuple[Account, ...]]
    by_name: Mapping[str, tuple[Account, ...]]
    by_sorted_name: Mapping[str, tuple[Account, ...]] = attrs.field(factory=dict)
    sorted_names: tuple[str, ...] = ()

    @classmethod
    def build(cls, accounts: tuple[Account, ...] | list[Account]) -> AccountIndex:
        """Index accounts by id, registrable domain and normalized name (all kept per key)."""
        by_domain: dict[str, list[Account]] = {}
        by_name: dict[str, list[Account]] = {}
        for account in accounts:
            domain = registrable_domain(account.domain) or account.domain.strip().lower()
            if domain:
                by_domain.setdefault(domain, []).append(account)
            key = normalize_company(account.name)
            if key:
                by_name.setdefault(key, []).append(account)
        by_sorted: dict[str, list[Account]] = {}
        for key, named in by_name.items():
            by_sorted.setdefault(sorted_words(key), []).extend(named)
        return cls(
            {a.id: a for a in accounts},
            {k: tuple(v) for k, v in by_domain.items()},
            {k: tuple(v) for k, v in by_name.items()},
            {k: tuple(v) for k, v in by_sorted.items()},
            tuple(by_sorted),
        )


@attrs.frozen(kw_only=True)
class Pool:
    """A team of reps sharing leads under one strategy.

    Attributes:
        name: Pool name as referenced by routing rules.
        members: Rep ids (the policy's list plus reps naming this pool).
        strategy: ``round_robin``, ``weighted`` or ``least_loaded``.
        backup_id: Rep who takes the lead when no member is eligible.
    """

    name: str
    members: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    strategy: str = "round_robin"
    backup_id: str = ""


class ExclusionCode(enum.StrEnum):
    """Stable codes for why a rep could not take a lead; plugins may add their own strings."""

    REP_INACTIVE = "REP_INACTIVE"
    ON_LEAVE = "ON_LEAVE"
    PAUSED = "PAUSED"
    # Recorded for full reps before caps stacked; new decisions say OPEN_CAP.
    CAPACITY_REACHED = "CAPACITY_REACHED"
    TERRITORY_MISMATCH = "TERRITORY_MISMATCH"
    LANGUAGE_MISMATCH = "LANGUAGE_MISMATCH"
    SEGMENT_MISMATCH = "SEGMENT_MISMATCH"
    PRODUCT_MISMATCH = "PRODUCT_MISMATCH"
    NOT_IN_POOL = "NOT_IN_POOL"
    OUT_OF_HOURS = "OUT_OF_HOURS"
    HOLIDAY = "HOLIDAY"
    OPEN_CAP = "OPEN_CAP"
    DAILY_CAP = "DAILY_CAP"
    WEEKLY_CAP = "WEEKLY_CAP"
    TYPE_CAP = "TYPE_CAP"
    REASSIGNED_AWAY = "REASSIGNED_AWAY"
    SKILL_MISSING = "SKILL_MISSING"
    NOT_STARTED = "NOT_STARTED"


@attrs.frozen(kw_only=True)
class Exclusion:
    """A rep that could not take a lead, and why.

    Attributes:
        rep_id: The excluded rep.
        code: A stable code (``ExclusionCode`` or a plugin's own upper-case string).
        detail: Human detail (``DE not in NA``, ``12/12 open``).
    """

    rep_id: str
    code: str
    detail: str = ""


@attrs.frozen(kw_only=True)
class ExclusionGroup:
    """Several reps excluded from a lead for the same reason, recorded once.

    A team of a thousand reps would otherwise cost a thousand ``Exclusion`` objects per
    lead; reps that share the attribute behind an exclusion share its detail too.

    Attributes:
        code: A stable code, as for ``Exclusion``.
        detail: Human detail that holds for every rep in the group (``DE not in NA-West``).
        rep_ids: The excluded reps, sorted.
    """

    code: str
    detail: str = ""
    rep_ids: tuple[str, ...] = attrs.field(default=(), converter=_sorted_tuple)

    def expand(self) -> tuple[Exclusion, ...]:
        """One ``Exclusion`` per rep, in rep id order."""
        return tuple(Exclusion(rep_id=r, code=self.code, detail=self.detail) for r in self.rep_ids)


@attrs.frozen(kw_only=True)
class FitContribution:
    """One named part of a rep's fit for a lead, before policy weights.

    Attributes:
        name: Contribution name; the policy's ``fit.weights`` key.
        value: Raw value, conventionally 0..1.
        detail: Why, for ``explain``.
    """

    name: str
    value: float
    detail: str = ""


@attrs.frozen(kw_only=True)
class Candidate:
    """An eligible rep for a lead, with what the chooser knew.

    Attributes:
        rep_id: The rep.
        fit: Weighted fit (sum of contributions times policy weights).
        load: Open leads the rep held when the lead was decided.
        capacity: The rep's open-lead cap then, ``None`` for none.
        contributions: The fit's parts.
        rank: 1 for the winner, 2 for the runner-up, ...
        reason: What put the rep at this rank (``next in rotation``, ``lowest load 3/20``).
    """

    rep_id: str
    fit: float = 0.0
    load: int = 0
    capacity: int | None = None
    contributions: tuple[FitContribution, ...] = ()
    rank: int = 0
    reason: str = ""


@attrs.frozen(kw_only=True)
class Problem:
    """A validation finding on a lead.

    Attributes:
        code: Stable upper-case code (``MISSING_FIELD``).
        field: The lead field concerned.
        message: One human sentence; emails, phone numbers and tokens in it are masked
            (``leadroute.redaction``): problems are stored and shown.
        action: ``reject`` (exception queue), ``fallback``, ``nurture`` (the policy's
            nurture queue) or ``flag`` (route and mark).
    """

    code: str
    field: str
    message: str = attrs.field(converter=redact_text)
    action: str = "reject"


@attrs.frozen(kw_only=True)
class InputProblem:
    """A record that could not be used, with where it came from: the exception report's row.

    Attributes:
        file: Input name (``leads.csv``, ``hubspot:contacts``).
        line: 1-based line of the record's first physical line, when the input has lines.
        record_id: The record's id, when it had one.
        kind: ``lead``, ``rep`` or ``account``.
        field: The offending field, when one is to blame.
        code: Stable code (``MISSING_ID``, ``BAD_NUMBER``, ``UNKNOWN_OWNER``...).
        message: One human sentence, with emails, phone numbers and tokens masked.
    """

    file: str
    line: int | None
    record_id: str
    kind: str
    field: str
    code: str
    message: str = attrs.field(converter=redact_text)


class DecisionStatus(enum.StrEnum):
    """How a lead left the pipeline."""

    ROUTED = "routed"
    FALLBACK = "fallback"


class RouteStep(enum.StrEnum):
    """The hierarchy step that produced the owner."""

    CURRENT_OWNER = "current_owner"
    ACCOUNT_OWNER = "account_owner"
    POOL = "pool"
    BACKUP = "backup"
    FALLBACK = "fallback"
    REBALANCE = "rebalance"
    NURTURE = "nurture"
    DUPLICATE = "duplicate"


@attrs.frozen(kw_only=True)
class ScoreContribution:
    """One named part of a lead's score.

    Attributes:
        name: The scoring rule (or plugin contribution) that gave the points.
        points: Points after time decay; negative points lower the score. A group's cap
            shows as its own negative contribution named ``cap:<group>``.
        group: The group whose cap the points count against (``behaviour``, ``fit``).
        detail: Why, for ``explain`` (``3 x pricing_page, decayed``).
    """

    name: str
    points: float
    group: str = "default"
    detail: str = ""


@attrs.frozen(kw_only=True)
class SolveSummary:
    """How good a joint solve provably was, kept with every decision it made.

    Attributes:
        status: ``OPTIMAL``, ``FEASIBLE`` (CP-SAT within its time limit) or a failure.
        objective: Total fit of the assignment.
        bound: Upper bound on the best total fit (None when the solve proved nothing).
        gap: ``(bound - (objective - penalty)) / bound``; 0 when proven optimal.
        penalty: Fairness cost paid (fit units).
        leads: Leads in the solve.
        pairs: Eligible (lead, rep) pairs.
        unassigned: Leads the solve left out.
        build_seconds: Time to build the model.
        solve_seconds: Time in the solver.
        extract_seconds: Time to read the assignment back.
        run_id: The run that recorded the decisions (the store's ``runs`` table).
    """

    status: str
    objective: float
    bound: float | None
    gap: float
    penalty: float = 0.0
    leads: int
    pairs: int
    unassigned: int
    build_seconds: float
    solve_seconds: float
    extract_seconds: float
    run_id: str = ""


@attrs.frozen(kw_only=True)
class DuplicateMatch:
    """A lead recognised as a person already known, and what the policy did about it.

    Attributes:
        lead_id: For the new lead (``role`` ``duplicate``): the known record it matched.
            For an earlier record that moved (``role`` ``follower``): the new lead it followed.
        matched_on: The identity keys that matched (``email``, ``phone``, ``name_domain``).
        action: ``reassign``, ``notify_owner`` or ``append``. For a follower: ``append``
            when the record was itself appended to another (it has no owner of its own to
            write), else ``reassign``.
        role: ``duplicate`` (this lead is the new intent) or ``follower`` (this earlier
            record followed the new intent's owner).
        previous_owner: The known record's owner when the duplicate arrived.
    """

    lead_id: str
    matched_on: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    action: str
    role: str = "duplicate"
    previous_owner: str = ""


@attrs.frozen(kw_only=True)
class Decision:
    """Who owns a lead and why: the audit record and the input to every side effect.

    Attributes:
        id: Deterministic id (``decision_id_for(lead_id, epoch)``).
        lead_id: The lead.
        epoch: 1 for the first routing; rebalances and reassignments increment it.
        status: ``routed`` or ``fallback``.
        owner_id: The owner to write (for fallback, the queue's named owner).
        queue: The fallback queue's name, ``""`` when a rep owns it outright.
        step: The hierarchy step that decided (``RouteStep``).
        route_path: Every policy step visited, in order (``account:miss``, ``rule:emea-ent``...).
        rule: The routing rule that matched, ``""`` if none.
        pool: The pool used, ``""`` if none.
        strategy: The strategy applied inside the pool.
        account_id: The matched account, ``""`` if none.
        account_method: How the account matched.
        candidates: Eligible reps, ranked (winner first).
        exclusions: Reps considered and excluded, each with a code.
        problems: Validation findings that did not stop routing.
        reason: One sentence: why this owner.
        policy_version: The policy version in force.
        decided_at: When the decision was made (UTC).
        escalate_at: For fallback: when the queue owner must escalate.
        features: Non-personal routing features (country, region, segment...) for audit.
        lead_type: The lead type the policy classified the lead as, ``""`` for none.
        priority: The lead type's priority (1 is the most urgent), ``None`` without a type.
        sla_due_at: When the first touch is due under the type's SLA (in working time
            when the policy gives an SLA calendar), ``None`` without an SLA.
        score: The lead score routing saw, ``None`` when nothing scored it.
        lifecycle_stage: ``lead``, ``mql`` or ``sql`` from the score, ``""`` when unscored.
        score_contributions: The score's parts, caps included.
        load: The load the lead puts on its owner's daily and weekly caps (1 when the
            policy counts leads, else the value of ``capacity.load``'s field).
        sla_starts_at: When the owner's clock starts: their next working instant when the
            lead arrived out of their hours; ``None`` means at ``decided_at``.
        sla_calendar: Whose working time set ``sla_due_at`` and ``escalate_at``, in words
            (``rep ana's hours: Asia/Tokyo, mon-fri 09:00-18:00, JP holidays``), ``""``
            for a decision without a deadline.
        excluded_groups: Reps excluded in groups by ``leadroute_exclude_reps`` (usually the
            hard constraints), each group with its code and detail; ``all_exclusions()``
            lists them with ``exclusions`` rep by rep.
        solve: For a lead placed (or left out) by a joint solve (``route --batch``,
            ``rebalance``): that solve's status, objective, bound, gap and timings.
        account_confidence: How sure the account match is (0..1; 1.0 for an exact domain),
            0.0 when no account matched.
        duplicate: The known person this lead matched (or followed), ``None`` for a new person.
        rule_inputs: The values the matched rule's conditions read (``region: EMEA``,
            ``tier: gold``), derived attributes included, so ``explain`` shows what
            enrichment told routing; contact fields (email, name, phone) are never kept.
    """

    id: str
    lead_id: str
    epoch: int = 1
    status: DecisionStatus
    owner_id: str
    queue: str = ""
    step: RouteStep
    route_path: tuple[str, ...] = ()
    rule: str = ""
    pool: str = ""
    strategy: str = ""
    account_id: str = ""
    account_method: str = ""
    candidates: tuple[Candidate, ...] = ()
    exclusions: tuple[Exclusion, ...] = ()
    problems: tuple[Problem, ...] = ()
    reason: str = ""
    policy_version: str
    decided_at: datetime
    escalate_at: datetime | None = None
    features: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    lead_type: str = ""
    priority: int | None = None
    sla_due_at: datetime | None = None
    score: float | None = None
    lifecycle_stage: str = ""
    score_contributions: tuple[ScoreContribution, ...] = ()
    load: float = 1.0
    sla_starts_at: datetime | None = None
    sla_calendar: str = ""
    excluded_groups: tuple[ExclusionGroup, ...] = ()
    solve: SolveSummary | None = None
    account_confidence: float = 0.0
    duplicate: DuplicateMatch | None = None
    rule_inputs: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)

    @property
    def winner(self) -> Candidate | None:
        """The candidate that won, if the owner came from a ranked pool."""
        return self.candidates[0] if self.candidates else None

    def all_exclusions(self) -> tuple[Exclusion, ...]:
        """Every excluded rep with code and detail: the grouped ones first, then the rest."""
        grouped = tuple(e for g in self.excluded_groups for e in g.expand())
        return grouped + self.exclusions


def decision_id_for(lead_id: str, epoch: int) -> str:
    """The deterministic decision id for a lead's routing epoch."""
    return str(uuid.uuid5(LEADROUTE_NAMESPACE, f"decision:{lead_id}:{epoch}"))


@attrs.frozen(kw_only=True)
class Effect:
    """A side effect of a decision, waiting in the outbox.

    Attributes:
        kind: ``owner_write``, ``notify`` (tell an owner about a duplicate) or ``append``
            (attach a duplicate to the known record); later also ``task``.
        decision_id: The decision that caused it.
        lead_id: The lead it touches.
        idem_key: Deterministic idempotency key; re-sends carry the same key.
        payload: Kind-specific data (``{"owner_id": ..., "status": ...}``).
    """

    kind: str
    decision_id: str
    lead_id: str
    idem_key: str
    payload: Mapping[str, Any] = attrs.field(factory=dict)

    @staticmethod
    def key_for(decision_id: str, kind: str) -> str:
        """The idempotency key of one effect of one decision."""
        return str(uuid.uuid5(LEADROUTE_NAMESPACE, f"effect:{decision_id}:{kind}"))


@attrs.frozen(kw_only=True)
class EffectResult:
    """What an adapter did with one effect.

    Attributes:
        idem_key: The effect's key.
        ok: Applied (or already applied: idempotent success).
        detail: Why not, when not; emails, phone numbers and tokens masked (a CRM's error
            text is stored in the outbox and shown in reports).
        retryable: Whether trying again later may succeed.
        reroute: The target refused the owner itself (deactivated or removed since the
            decision): the core must decide the lead again without that owner, rather than
            retry or give up. Implies ``ok`` is False.
        observed_owner: For an owner write, the owner the target holds after the write when
            it differs from the one written (an assignment rule or another tool changed it);
            ``""`` when it matches or was not read back.
        quota: The target's API quota (a daily limit, or a rate limit that outlasted the
            adapter's wait) stopped the adapter before this effect was applied. It is not
            an attempt: the effect stays pending without spending one, the relay stops
            applying for this pass and the run exits 4. Implies ``ok`` is False.
    """

    idem_key: str
    ok: bool
    detail: str = attrs.field(default="", converter=redact_text)
    retryable: bool = False
    reroute: bool = False
    observed_owner: str = ""
    quota: bool = False


@attrs.frozen(kw_only=True)
class Snapshot:
    """What an adapter read: the records, and every record it could not use.

    Attributes:
        leads: Leads to route, in input order.
        reps: Reps (owners), active or not.
        accounts: Known accounts with owners.
        problems: Records that were rejected, each with file, line and reason.
        outcomes: What happened to leads after their decisions (first touch, meeting...),
            as read from the source's activity; the router records each one once.
    """

    leads: tuple[Lead, ...] = ()
    reps: tuple[Rep, ...] = ()
    accounts: tuple[Account, ...] = ()
    problems: tuple[InputProblem, ...] = ()
    outcomes: tuple[Outcome, ...] = ()


class OutcomeKind(enum.StrEnum):
    """What happened to a lead after leadroute decided its owner."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    FIRST_TOUCH = "first_touch"
    MEETING_BOOKED = "meeting_booked"
    CONVERTED = "converted"
    WON = "won"
    REASSIGNED = "reassigned"
    SLA_BREACHED = "sla_breached"


@attrs.frozen(kw_only=True)
class Outcome:
    """One event after a decision, as reported by the source system (or a plugin).

    Attributes:
        kind: What happened (``OutcomeKind``).
        lead_id: The lead it happened to.
        rep_id: The rep who acted (or was acted on), ``""`` when the source does not say.
        at: When it happened (UTC).
        source: Where it was read (``csv``, ``hubspot``...).
        detail: Free text from the source (``call, left voicemail``); emails, phone
            numbers and tokens in it are masked.
        origin: Where the record came from, for error messages (``activity.csv:12``).
    """

    kind: OutcomeKind
    lead_id: str
    rep_id: str = ""
    at: datetime
    source: str = ""
    detail: str = attrs.field(default="", converter=redact_text)
    origin: str = attrs.field(default="", eq=False)

    @property
    def id(self) -> str:
        """Deterministic id: the same event read twice (or from two runs) has the same id."""
        key = f"outcome:{self.kind}:{self.lead_id}:{self.rep_id}:{self.at.isoformat()}"
        return str(uuid.uuid5(LEADROUTE_NAMESPACE, key))


class TimerKind(enum.StrEnum):
    """What an SLA timer does when it comes due."""

    REMINDER = "reminder"
    BREACH = "breach"
    ESCALATE = "escalate"


@attrs.frozen(kw_only=True)
class Timer:
    """One SLA clock of one decision, kept in the store until it fires or is stopped.

    Attributes:
        id: Deterministic (``Timer.id_for(decision_id, kind)``): the same decision never
            gets the same timer twice.
        lead_id: The lead.
        decision_id: The decision whose clock it is; a newer epoch cancels it.
        kind: ``reminder`` (a share of the SLA gone), ``breach`` (the SLA deadline) or
            ``escalate`` (the fallback queue's ``escalate_after``).
        due_at: When it fires (UTC), already in working time where the policy says so.
        status: ``pending``, ``done`` (fired) or ``cancelled`` (first touch, new epoch).
        detail: What happened when it fired or why it was cancelled.
    """

    id: str
    lead_id: str
    decision_id: str
    kind: TimerKind
    due_at: datetime
    status: str = "pending"
    detail: str = ""

    @staticmethod
    def id_for(decision_id: str, kind: str) -> str:
        """The id of a decision's timer of one kind."""
        return str(uuid.uuid5(LEADROUTE_NAMESPACE, f"timer:{decision_id}:{kind}"))
