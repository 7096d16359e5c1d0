"""Duplicates: recognise a person already known, and say what their new intent does.

A lead is matched against every person the store knows (leads routed by earlier runs)
and every earlier lead of the same run, on three identity keys built from the shared
normal forms in ``leadroute.normalize``:

* ``email``: the mailbox identity (case, ``+tags`` and Gmail dots ignored);
* ``phone``: the number in E.164 (``+44 (0)20 7946 0958`` and ``020 7946 0958`` from GB
  are one number), read with ``lead.get("phone")``;
* ``name_domain``: the person's name (case and accents ignored) plus the registrable
  domain of the email or website; never for free-mail domains, where a shared name is a
  coincidence.

Keys are never stored as written: the store keeps a keyed hash (HMAC-SHA256) of each, so
the audit trail holds no email address or phone number. The key is
``LEADROUTE_IDENTITY_KEY`` when set, else a random key the store creates once. Changing
the key forgets every known person (nothing matches the old hashes).

Leads that share any key belong to one **person**; a lead that bridges two persons merges
them. The policy's ``duplicates`` section decides what a match does (``reassign``,
``notify_owner``, ``append``); whichever it is, all of a person's records end with one
owner.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from leadroute.models import Decision, DecisionStatus, DuplicateMatch, Effect, Lead, RouteStep
from leadroute.models import decision_id_for as _decision_id_for
from leadroute.normalize import email_identity, is_free_mail, phone_e164, registrable_domain
from leadroute.store import IdentityRow, Store

__all__ = [
    "IDENTITY_KEY_ENV",
    "IDENTITY_KINDS",
    "Known",
    "People",
    "appended",
    "duplicate_effects",
    "follower_decision",
    "identity_key",
    "identity_keys",
    "person_name",
]

IDENTITY_KINDS = ("email", "phone", "name_domain")
IDENTITY_KEY_ENV = "LEADROUTE_IDENTITY_KEY"


def person_name(name: str) -> str:
    """A person's name as a comparison key: accents dropped, case folded, words only."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join("".join(ch if ch.isalnum() else " " for ch in plain).split())


def identity_keys(lead: Lead, kinds: Iterable[str] = IDENTITY_KINDS) -> dict[str, str]:
    """The identity keys a lead has, in normal form (kind -> value); absent ones are left out."""
    wanted = set(kinds)
    keys: dict[str, str] = {}
    if "email" in wanted and (email := email_identity(lead.email)):
        keys["email"] = email
    if "phone" in wanted and (phone := phone_e164(lead.get("phone"), lead.country)):
        keys["phone"] = phone
    if "name_domain" in wanted:
        name = person_name(lead.name)
        domain = registrable_domain(lead.email) or registrable_domain(lead.website)
        if name and domain and not is_free_mail(domain):
            keys["name_domain"] = f"{name}|{domain}"
    return keys


def appended(decision: Decision) -> bool:
    """Whether the decision's record was appended to another record of its person.

    True for the append itself and for the record's later epochs (it follows its person
    as a follower marked ``append``): such a record has no owner of its own to write and
    puts no load on anyone.
    """
    dup = decision.duplicate
    return dup is not None and dup.action == "append"


def identity_key(store: Store, env: Mapping[str, str] | None = None) -> bytes:
    """The key identity hashes are made with: ``LEADROUTE_IDENTITY_KEY``, else the store's."""
    env = os.environ if env is None else env
    secret = env.get(IDENTITY_KEY_ENV, "")
    return secret.encode() if secret else store.identity_key()


def keyed_hash(key: bytes, kind: str, value: str) -> str:
    """The stored form of one identity key: HMAC-SHA256, hex."""
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


@attrs.frozen(kw_only=True)
class Known:
    """The known person a new lead matched.

    Attributes:
        person_id: The person (after merging, the oldest of those matched).
        lead_ids: Every earlier lead of the person, oldest first.
        matched_on: The identity kinds that matched.
    """

    person_id: str
    lead_ids: tuple[str, ...]
    matched_on: tuple[str, ...]


@attrs.define
class People:
    """Every known person's hashed identity keys, leads and owners, held by an engine.

    Leads are registered when the pipeline first sees them (``observe``), so a later lead
    of the same run matches an earlier one even before it is decided; ``settle`` records
    the owner once the decision is made and returns the rows to persist with it; ``learn``
    takes in the rows other processes committed.
    """

    key: bytes
    person_of: dict[str, str] = attrs.field(factory=dict)
    kind_of: dict[str, str] = attrs.field(factory=dict)
    leads_of: dict[str, list[str]] = attrs.field(factory=dict)
    owners: dict[str, str] = attrs.field(factory=dict)
    appended: set[str] = attrs.field(factory=set)
    person_by_lead: dict[str, str] = attrs.field(factory=dict)
    _new: dict[str, tuple[str, dict[str, str], tuple[str, ...]]] = attrs.field(factory=dict)
    _order: dict[str, int] = attrs.field(factory=dict)

    @classmethod
    def load(
        cls, store: Store, decisions: Mapping[str, Decision], env: Mapping[str, str] | None = None
    ) -> People:
        """The people the store knows, with the owners of their current decisions."""
        return cls.of(identity_key(store, env), store.load_identities(), decisions.values())

    @classmethod
    def of(cls, key: bytes, rows: Iterable[IdentityRow], decisions: Iterable[Decision]) -> People:
        """The people of stored identity rows, with the owners of their current decisions."""
        people = cls(key)
        for row in rows:
            people.person_of[row.key_hash] = row.person_id
            people.kind_of[row.key_hash] = row.kind
            if row.lead_id not in people.person_by_lead:
                people._add(row.person_id, row.lead_id)
        for decision in decisions:
            people.note(decision)
        return people

    def learn(self, row: IdentityRow) -> None:
        """Take in an identity row another process committed: a new key of a lead, or a
        lead whose person was merged into another."""
        current = self.person_by_lead.get(row.lead_id)
        if current and current != row.person_id:
            self._merge(current, into=row.person_id)
        self.person_of[row.key_hash] = row.person_id
        self.kind_of[row.key_hash] = row.kind
        if row.lead_id not in self.person_by_lead:
            self._add(row.person_id, row.lead_id)

    def note(self, decision: Decision) -> None:
        """Record a lead's current owner (and whether it was appended to another record)."""
        self.owners[decision.lead_id] = decision.owner_id
        if appended(decision):
            self.appended.add(decision.lead_id)

    def observe(self, lead: Lead, kinds: Iterable[str]) -> Known | None:
        """Match a new lead against known people, then register it as one of them (or new)."""
        hashes = {k: keyed_hash(self.key, k, v) for k, v in identity_keys(lead, kinds).items()}
        persons: list[str] = []
        matched_on: list[str] = []
        for kind, digest in hashes.items():
            person = self.person_of.get(digest)
            if person is not None and self.person_by_lead.get(lead.id) != person:
                matched_on.append(kind)
                if person not in persons:
                    persons.append(person)
        # The oldest person absorbs the others: the one whose first lead came first.
        persons.sort(key=self._first_seen)
        person = persons[0] if persons else lead.id
        merged = tuple(persons[1:])
        for other in merged:
            self._merge(other, into=person)
        earlier = tuple(self.leads_of.get(person, ()))
        self._add(person, lead.id)
        for digest in hashes.values():
            self.person_of[digest] = person
        self.kind_of.update({digest: kind for kind, digest in hashes.items()})
        self._new[lead.id] = (person, hashes, merged)
        if not earlier:
            return None
        return Known(person_id=person, lead_ids=earlier, matched_on=tuple(matched_on))

    def _first_seen(self, person: str) -> int:
        return self._order.get(person, len(self._order))

    def _add(self, person: str, lead_id: str) -> None:
        """Put a lead under a person; a new person is numbered in the order first seen."""
        if person not in self.leads_of:
            self._order.setdefault(person, len(self._order))
        self.leads_of.setdefault(person, []).append(lead_id)
        self.person_by_lead[lead_id] = person

    def _merge(self, other: str, *, into: str) -> None:
        # Rare (a lead bridging two known persons), so a scan of the keys is acceptable.
        for digest, person in self.person_of.items():
            if person == other:
                self.person_of[digest] = into
        moved = self.leads_of.pop(other, [])
        self.leads_of.setdefault(into, []).extend(moved)
        self.person_by_lead.update(dict.fromkeys(moved, into))

    def leads(self, person_id: str) -> tuple[str, ...]:
        """Every lead of a person, oldest first."""
        return tuple(self.leads_of.get(person_id, ()))

    def person(self, lead_id: str) -> str:
        """The person a lead belongs to (``""`` when unknown)."""
        return self.person_by_lead.get(lead_id, "")

    def settled(self, known: Known) -> bool:
        """Whether every earlier lead of the person has an owner (none waits for a solve)."""
        return all(lead_id in self.owners for lead_id in known.lead_ids)

    def record_of(self, known: Known) -> str:
        """The record a duplicate attaches to: the latest earlier lead not itself appended."""
        own = [lead_id for lead_id in known.lead_ids if lead_id not in self.appended]
        return (own or list(known.lead_ids))[-1]

    def settle(self, decision: Decision) -> tuple[list[IdentityRow], dict[str, str]]:
        """Note the decision; return the lead's identity rows and person merges to persist."""
        self.note(decision)
        person, hashes, merged = self._new.pop(decision.lead_id, ("", {}, ()))
        if not person:
            return [], {}
        # The person may have been merged into another since the lead was observed.
        person = self.person(decision.lead_id) or person
        rows = [
            IdentityRow(key_hash=digest, person_id=person, lead_id=decision.lead_id, kind=kind)
            for kind, digest in hashes.items()
        ]
        return rows, dict.fromkeys(merged, person)


def follower_decision(earlier: Decision, new: Decision) -> Decision:
    """The next epoch of another record of a person: it follows the owner ``new`` chose
    (a reassigned duplicate's, or a rebalance move's).

    A record that was appended to another stays appended (action ``append``): it follows
    its person without an owner of its own, on this move and every later one.
    """
    match = new.duplicate
    epoch = earlier.epoch + 1
    return attrs.evolve(
        earlier,
        id=_decision_id_for(earlier.lead_id, epoch),
        epoch=epoch,
        status=DecisionStatus.ROUTED,
        owner_id=new.owner_id,
        queue=new.queue,
        step=RouteStep.DUPLICATE,
        route_path=(*earlier.route_path, f"duplicate:follows:{new.lead_id}"),
        candidates=(),
        exclusions=(),
        excluded_groups=(),
        solve=None,
        reason=(
            f"lead {new.lead_id} of the same person went to {new.owner_id}; "
            f"this record follows it (was {earlier.owner_id})"
        ),
        policy_version=new.policy_version,
        decided_at=new.decided_at,
        escalate_at=new.escalate_at,
        duplicate=DuplicateMatch(
            lead_id=new.lead_id,
            matched_on=match.matched_on if match else (),
            action="append" if appended(earlier) else "reassign",
            role="follower",
            previous_owner=earlier.owner_id,
        ),
    )


def _effect(decision: Decision, kind: str, payload: Mapping[str, Any]) -> Effect:
    return Effect(
        kind=kind,
        decision_id=decision.id,
        lead_id=decision.lead_id,
        idem_key=Effect.key_for(decision.id, kind),
        payload=dict(payload),
    )


def duplicate_effects(decision: Decision, owner_write: Effect) -> list[Effect]:
    """The outbox effects of a decision, given its owner write.

    ``append`` replaces the owner write (the lead joins the known record, no new owner);
    ``notify_owner`` adds a ``notify`` effect telling the kept owner; a record that was
    itself appended moves with its person without an owner write of its own.
    """
    dup = decision.duplicate
    if dup is None or decision.step != RouteStep.DUPLICATE:
        return [owner_write]
    if dup.role == "follower" and dup.action == "append":
        return []
    base = {
        "lead_id": decision.lead_id,
        "owner_id": decision.owner_id,
        "matched_on": list(dup.matched_on),
        "decision_id": decision.id,
        "epoch": decision.epoch,
    }
    if dup.role == "duplicate" and dup.action == "append":
        return [_effect(decision, "append", {**base, "into_lead_id": dup.lead_id})]
    if dup.role == "duplicate" and dup.action == "notify_owner":
        message = (
            f"new {decision.features.get('lead_type', 'lead')} from a person you own "
            f"(lead {dup.lead_id}, matched on {', '.join(dup.matched_on)})"
        )
        notify = _effect(
            decision, "notify", {**base, "about_lead_id": dup.lead_id, "message": message}
        )
        return [owner_write, notify]
    return [owner_write]
