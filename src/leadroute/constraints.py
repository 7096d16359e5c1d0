"""The hard constraints (territory, language, segment, product, skill) and their index.

Each constraint is a check of a lead's facts against a rep's profile: the static
attributes the constraint reads. ``check_rep`` applies them to one rep, the reference
semantics. ``ConstraintIndex`` gives the same answers for many reps at once: reps with
equal attributes form one class, each class is checked once, and each answer is cached
per lead value (a country, a language...), so deciding a lead against a thousand reps
costs a few dictionary lookups instead of a thousand checks. Classes are checked with the
very functions ``check_rep`` uses, so the two paths cannot disagree.

Semantics (``docs/policy.md`` has the user's view):

* territory: a rep with no territories and no named accounts takes any lead. A lead whose
  account (email domain, website domain or matched account id) is named by any territory
  or rep goes only to reps naming it; otherwise the rep's keys must hold the lead's
  country, region, ``COUNTRY-STATE`` or a ``COUNTRY:POSTAL_PREFIX`` of its postal code.
* language, segment, product: an empty rep list or an unknown lead value never excludes.
* skill: the rep's level of each skill the rule and the policy's ``skills`` require must
  reach the level asked (an absent skill is level 0).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

import attrs

from leadroute.context import RoutingContext
from leadroute.logs import get_logger
from leadroute.models import Exclusion, ExclusionCode, ExclusionGroup, Lead, Rep
from leadroute.policy import Policy
from leadroute.territories import check_key, lead_geo_keys, normalize_account, normalize_key

__all__ = [
    "HARD_CONSTRAINTS",
    "ConstraintIndex",
    "LeadFacts",
    "RepProfile",
    "check_rep",
    "lead_facts",
    "named_accounts",
    "rep_profile",
]

log = get_logger(__name__)

HARD_CONSTRAINTS = ("territory", "language", "segment", "product", "skill")

# Past this many distinct lead values per constraint the cache starts again: a stream
# with a long tail of values must not grow memory without bound.
CACHE_LIMIT = 4096
# Sets of reps this small (a current owner, a backup) are checked rep by rep: indexing
# them would cost more than it saves and churn the cache of pool indexes.
SMALL = 8


@attrs.frozen(kw_only=True)
class RepProfile:
    """What the hard constraints read from a rep, normalised for comparison.

    Attributes:
        territories: The rep's territories and named accounts as written, for details.
        geo: Geographic keys the rep covers (named territories expanded).
        accounts: Named accounts the rep covers (its own and its territories').
        restricted: Whether the rep has any territory or named account at all.
        languages: Lower-case languages (empty: any), ``languages_text`` as written.
        segments: Lower-case segments (empty: any).
        products: Lower-case product lines (empty: any).
        skills: Skill to level.
    """

    territories: str
    geo: frozenset[str]
    accounts: frozenset[str]
    restricted: bool
    languages: frozenset[str]
    languages_text: str
    segments: frozenset[str]
    segments_text: str
    products: frozenset[str]
    products_text: str
    skills: Mapping[str, int]


def rep_profile(rep: Rep, policy: Policy) -> RepProfile:
    """The rep's constraint attributes, with named territories expanded by the policy."""
    geo: set[str] = set()
    accounts = {normalize_account(a) for a in rep.accounts}
    for name in rep.territories:
        territory = policy.territory(name)
        if territory is None:
            geo.add(normalize_key(name))
            problem = check_key(name, {r.upper() for r in policy.regions})
            if problem:
                # A typo in a territory name would silently match no lead: say so.
                log.warning("rep.unknown_territory", rep_id=rep.id, territory=name, problem=problem)
        else:
            geo.update(normalize_key(k) for k in territory.keys)
            accounts.update(normalize_account(a) for a in territory.accounts)
    return RepProfile(
        territories=",".join((*rep.territories, *rep.accounts)),
        geo=frozenset(geo),
        accounts=frozenset(accounts),
        restricted=bool(rep.territories or rep.accounts),
        languages=frozenset(x.strip().lower() for x in rep.languages),
        languages_text=",".join(rep.languages),
        segments=frozenset(x.strip().lower() for x in rep.segments),
        segments_text=",".join(rep.segments),
        products=frozenset(x.strip().lower() for x in rep.products),
        products_text=",".join(rep.products),
        skills=dict(rep.skills),
    )


def named_accounts(policy: Policy, reps: Iterable[Rep]) -> frozenset[str]:
    """Every account named by a policy territory or a rep: leads from these are carved out."""
    named = {normalize_account(a) for t in policy.territories.values() for a in t.accounts}
    named.update(normalize_account(a) for rep in reps for a in rep.accounts)
    return frozenset(named)


@attrs.frozen(kw_only=True)
class LeadFacts:
    """What the hard constraints read from a lead, normalised once per lead.

    Attributes:
        where: The lead's address for details (``US-CA/NA``, ``no country``).
        geo: Every territory key the lead's address matches.
        accounts: The lead's named accounts (those named by some territory or rep).
        language: Lower-case language, ``""`` when unknown.
        segment: Lower-case segment, ``""`` when unknown.
        product: Lower-case product line, ``""`` when unknown.
        skills: Required (skill, level) pairs, sorted.
    """

    where: str
    geo: frozenset[str]
    accounts: tuple[str, ...]
    language: str
    segment: str
    product: str
    skills: tuple[tuple[str, int], ...]


def lead_facts(lead: Lead, ctx: RoutingContext, named: Collection[str]) -> LeadFacts:
    """The lead's facts under the context's rule; ``named`` are the carved-out accounts."""
    region = lead.attributes.get("region", "")
    country = lead.country.strip().upper()
    place = f"{country}-{lead.state.strip().upper()}" if country and lead.state.strip() else country
    where = "/".join(p for p in (place, region) if p) or "no country"
    accounts: tuple[str, ...] = ()
    if named:
        keys = (lead.attributes.get("domain", ""), lead.attributes.get("website_domain", ""))
        found = {normalize_account(k) for k in (*keys, ctx.account_id) if k}
        accounts = tuple(sorted(found & set(named)))
    skills: tuple[tuple[str, int], ...] = ()
    if "skill" in ctx.constraints:
        rule = next((r for r in ctx.policy.routing if r.name == ctx.rule), None)
        skills = tuple(sorted(ctx.policy.skills_required(lead, rule).items()))
    return LeadFacts(
        where=where,
        geo=lead_geo_keys(country, lead.state, lead.attributes.get("postal_code", ""), region),
        accounts=accounts,
        language=lead.language.strip().lower(),
        segment=lead.attributes.get("segment", "").strip().lower(),
        product=lead.product.strip().lower(),
        skills=skills,
    )


# --------------------------------------------------------------------------- checks
# Each returns (code, detail) or None; a detail never depends on anything but the lead's
# facts and the profile, which is what lets a class of equal profiles share it.

Verdict = tuple[str, str] | None


def _territory(facts: LeadFacts, p: RepProfile) -> Verdict:
    if not p.restricted:
        return None
    if facts.accounts:
        if p.accounts.intersection(facts.accounts):
            return None
        return ExclusionCode.TERRITORY_MISMATCH, (
            f"account {','.join(facts.accounts)} not in {p.territories}"
        )
    if not p.geo.isdisjoint(facts.geo):
        return None
    return ExclusionCode.TERRITORY_MISMATCH, f"{facts.where} not in {p.territories}"


def _listed(
    code: str,
    label: str,
    value_of: Callable[[LeadFacts], str],
    allowed_of: Callable[[RepProfile], frozenset[str]],
    text_of: Callable[[RepProfile], str],
) -> Callable[[LeadFacts, RepProfile], Verdict]:
    def check(facts: LeadFacts, p: RepProfile) -> Verdict:
        value, allowed = value_of(facts), allowed_of(p)
        if not allowed or not value or value in allowed:
            return None
        return code, f"{label} {value} not in {text_of(p)}"

    return check


def _skill(facts: LeadFacts, p: RepProfile) -> Verdict:
    missing = [
        f"{skill} {p.skills.get(skill, 0)} < {level}"
        for skill, level in facts.skills
        if p.skills.get(skill, 0) < level
    ]
    return (ExclusionCode.SKILL_MISSING, ", ".join(missing)) if missing else None


CHECKS: Mapping[str, Callable[[LeadFacts, RepProfile], Verdict]] = {
    "territory": _territory,
    "language": _listed(
        ExclusionCode.LANGUAGE_MISMATCH,
        "language",
        lambda f: f.language,
        lambda p: p.languages,
        lambda p: p.languages_text,
    ),
    "segment": _listed(
        ExclusionCode.SEGMENT_MISMATCH,
        "segment",
        lambda f: f.segment,
        lambda p: p.segments,
        lambda p: p.segments_text,
    ),
    "product": _listed(
        ExclusionCode.PRODUCT_MISMATCH,
        "product",
        lambda f: f.product,
        lambda p: p.products,
        lambda p: p.products_text,
    ),
    "skill": _skill,
}


def check_rep(lead: Lead, rep: Rep, ctx: RoutingContext, named: Collection[str]) -> list[Exclusion]:
    """Every hard constraint in force that the rep fails, one rep at a time (the reference)."""
    facts = lead_facts(lead, ctx, named)
    profile = rep_profile(rep, ctx.policy)
    found = []
    for constraint in HARD_CONSTRAINTS:
        if constraint in ctx.constraints:
            verdict = CHECKS[constraint](facts, profile)
            if verdict is not None:
                found.append(Exclusion(rep_id=rep.id, code=verdict[0], detail=verdict[1]))
    return found


# --------------------------------------------------------------------------- index


def _lead_key(constraint: str, facts: LeadFacts, known_geo: frozenset[str]) -> Any:
    """What a constraint's answer for a lead depends on: the cache key of that answer."""
    if constraint == "territory":
        if facts.accounts:
            return ("account", facts.accounts)
        return (facts.where, facts.geo & known_geo)
    if constraint == "skill":
        return facts.skills
    value: str = getattr(facts, constraint)
    return value


# Which profile fields each constraint reads: reps equal on these form one class.
_CLASS_FIELDS: Mapping[str, tuple[str, ...]] = {
    "territory": ("territories", "geo", "accounts", "restricted"),
    "language": ("languages", "languages_text"),
    "segment": ("segments", "segments_text"),
    "product": ("products", "products_text"),
    "skill": ("skills",),
}


def _class_key(constraint: str, p: RepProfile) -> Any:
    values = [getattr(p, f) for f in _CLASS_FIELDS[constraint]]
    return tuple(tuple(sorted(v.items())) if isinstance(v, Mapping) else v for v in values)


@attrs.define
class _Classes:
    """One constraint over a set of reps: the classes of equal profiles and cached answers."""

    constraint: str
    classes: list[tuple[RepProfile, tuple[str, ...]]]
    cache: dict[Any, tuple[ExclusionGroup, ...]] = attrs.field(factory=dict)

    def answer(self, key: Any, facts: LeadFacts) -> tuple[ExclusionGroup, ...]:
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        check = CHECKS[self.constraint]
        groups: dict[tuple[str, str], list[str]] = {}
        for profile, rep_ids in self.classes:
            verdict = check(facts, profile)
            if verdict is not None:
                groups.setdefault(verdict, []).extend(rep_ids)
        made = tuple(
            ExclusionGroup(code=code, detail=detail, rep_ids=ids)
            for (code, detail), ids in groups.items()
        )
        if len(self.cache) >= CACHE_LIMIT:
            self.cache.clear()
        self.cache[key] = made
        return made


@attrs.define
class _MemberIndex:
    """The classes of one set of reps (a pool), per constraint."""

    by_constraint: dict[str, _Classes]


@attrs.define
class ConstraintIndex:
    """The hard constraints over one run's team, answered per class of equal reps.

    Built once per run (``Team.memo``); ``exclude`` answers one lead for one set of reps
    (usually a pool, whose class index is built on first use and kept).
    """

    policy: Policy
    profiles: Mapping[str, RepProfile]
    named: frozenset[str]
    known_geo: frozenset[str]
    _members: dict[int, tuple[Sequence[str], _MemberIndex]] = attrs.field(factory=dict)

    @classmethod
    def build(cls, policy: Policy, reps: Iterable[Rep]) -> ConstraintIndex:
        """Profile every rep once."""
        reps = list(reps)
        profiles = {rep.id: rep_profile(rep, policy) for rep in reps}
        known = frozenset(k for p in profiles.values() for k in p.geo)
        return cls(policy, profiles, named_accounts(policy, reps), known)

    def _index_for(self, rep_ids: Sequence[str]) -> _MemberIndex:
        # Keyed by identity: the pipeline passes the same member tuple for every lead of a
        # pool; the tuple is kept with its index, so its id cannot be reused meanwhile.
        entry = self._members.get(id(rep_ids))
        if entry is not None and entry[0] is rep_ids:
            return entry[1]
        by_constraint = {}
        for constraint in HARD_CONSTRAINTS:
            classes: dict[Any, tuple[RepProfile, list[str]]] = {}
            for rep_id in rep_ids:
                profile = self.profiles[rep_id]
                slot = classes.setdefault(_class_key(constraint, profile), (profile, []))
                slot[1].append(rep_id)
            by_constraint[constraint] = _Classes(
                constraint, [(p, tuple(ids)) for p, ids in classes.values()]
            )
        if len(self._members) >= 64:
            self._members.clear()
        index = _MemberIndex(by_constraint)
        self._members[id(rep_ids)] = (rep_ids, index)
        return index

    def exclude(
        self, lead: Lead, rep_ids: Sequence[str], ctx: RoutingContext
    ) -> tuple[ExclusionGroup, ...]:
        """The exclusion groups for these reps: the same group objects for leads alike."""
        in_force = [c for c in HARD_CONSTRAINTS if c in ctx.constraints]
        if not in_force:
            return ()
        facts = lead_facts(lead, ctx, self.named)
        if len(rep_ids) <= SMALL:
            return self._one_by_one(facts, rep_ids, in_force)
        index = self._index_for(rep_ids)
        return tuple(
            group
            for constraint in in_force
            for group in index.by_constraint[constraint].answer(
                _lead_key(constraint, facts, self.known_geo), facts
            )
        )

    def _one_by_one(
        self, facts: LeadFacts, rep_ids: Sequence[str], in_force: Sequence[str]
    ) -> tuple[ExclusionGroup, ...]:
        groups = []
        for constraint in in_force:
            check = CHECKS[constraint]
            for rep_id in rep_ids:
                verdict = check(facts, self.profiles[rep_id])
                if verdict is not None:
                    groups.append(
                        ExclusionGroup(code=verdict[0], detail=verdict[1], rep_ids=(rep_id,))
                    )
        return tuple(groups)
