"""Duplicates end to end: the three actions, persistence across runs, and one owner per person."""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

import pytest
from tests.conftest import AT, BASE_POLICY, lead, policy_from, rep, snapshot, standard_reps

from leadroute.host import PluginHost
from leadroute.models import Decision, Lead, RouteStep
from leadroute.router import Router
from leadroute.store import Store


def router_for(store: Store, host: PluginHost, duplicates: str) -> Router:
    """A router whose policy has the given ``duplicates`` section (flow YAML)."""
    policy = policy_from(BASE_POLICY + f"duplicates: {duplicates}\n")
    return Router(policy, store=store, host=host, clock=lambda: AT)


def effects_by_lead(store: Store) -> dict[str, list[str]]:
    """Pending outbox effect kinds per lead, in insertion order."""
    kinds: dict[str, list[str]] = defaultdict(list)
    for effect in store.pending_effects(10_000):
        kinds[effect.lead_id].append(effect.kind)
    return dict(kinds)


def test_notify_owner_keeps_the_known_owner_and_notifies_them(store, host):
    """A mixed-case, plus-addressed repeat goes to the first lead's owner with a notify effect."""
    router = router_for(store, host, "{action: notify_owner}")
    result = router.route(
        snapshot([lead("L1", email="Jane@Acme.com"), lead("L2", email="jane+demo@acme.COM")])
    )
    first, second = result.decisions
    assert second.owner_id == first.owner_id and second.step == RouteStep.DUPLICATE
    assert second.duplicate is not None
    assert (second.duplicate.lead_id, second.duplicate.matched_on) == ("L1", ("email",))
    assert effects_by_lead(store)["L2"] == ["owner_write", "notify"]
    [notify] = [e for e in store.pending_effects() if e.kind == "notify"]
    assert notify.payload["owner_id"] == first.owner_id
    assert notify.payload["about_lead_id"] == "L1"


def test_append_attaches_to_the_known_record_without_a_new_owner(store, host):
    """append writes no owner for the duplicate, only an append effect, and adds no load."""
    router = router_for(store, host, "{action: append}")
    result = router.route(
        snapshot([lead("L1", email="jo@acme.com"), lead("L2", email="JO@acme.com")])
    )
    first, second = result.decisions
    assert second.owner_id == first.owner_id and second.duplicate.action == "append"
    assert effects_by_lead(store)["L2"] == ["append"]
    [append] = [e for e in store.pending_effects() if e.kind == "append"]
    assert append.payload["into_lead_id"] == "L1"
    # Only L1 counts toward the owner's load in the next run.
    later = router.route(snapshot([lead("L3", email="other@elsewhere.com")]))
    assert later.counts()["new"] == 1


def test_reassign_routes_the_new_intent_and_the_earlier_record_follows(store_location: str, host):
    """In a later run, a repeat from another region is routed there and the known record follows."""
    path = store_location
    with Store.open(path) as store:
        first = router_for(store, host, "{action: reassign}").route(
            snapshot([lead("L1", email="pat@acme.com", country="US")])
        )
    [original] = first.decisions
    assert original.owner_id.startswith("na-")
    with Store.open(path) as store:
        result = router_for(store, host, "{action: reassign}").route(
            snapshot([lead("L2", email="Pat+eu@acme.com", country="DE", language="en")])
        )
        [new] = result.decisions
        [follower] = result.followers
        assert new.owner_id.startswith("emea") and new.duplicate.action == "reassign"
        assert (follower.lead_id, follower.epoch, follower.owner_id) == ("L1", 2, new.owner_id)
        assert follower.step == RouteStep.DUPLICATE and follower.duplicate.role == "follower"
        assert follower.duplicate.previous_owner == original.owner_id
        assert store.current_decision("L1") == follower
        assert effects_by_lead(store)["L1"] == ["owner_write", "owner_write"]
        assert result.counts()["followed"] == 1


def test_notify_owner_reassigns_when_the_known_owner_is_gone(store_location: str, host):
    """When the known owner became inactive, the new intent is routed and the record follows."""
    path = store_location
    reps = [rep("solo", pools=["na"], territories=("NA",)), rep("ops"), rep("emea-backup")]
    with Store.open(path) as store:
        router_for(store, host, "{action: notify_owner}").route(
            snapshot([lead("L1", email="kim@acme.com")], reps)
        )
    replaced = [rep("solo", active=False), rep("new", pools=["na"]), rep("ops"), rep("emea-backup")]
    with Store.open(path) as store:
        result = router_for(store, host, "{action: notify_owner}").route(
            snapshot([lead("L2", email="kim@acme.com")], replaced)
        )
    [new] = result.decisions
    assert new.owner_id == "new" and "duplicate:owner-unavailable" in new.route_path
    assert new.duplicate.action == "reassign"
    assert [f.owner_id for f in result.followers] == ["new"]


def test_reassign_that_only_finds_the_fallback_queue_keeps_the_known_owner(router_store):
    """A repeat from a country no rule covers stays with the person's owner, not the queue."""
    store, host = router_store
    router = router_for(store, host, "{action: reassign}")
    result = router.route(
        snapshot([lead("L1", email="lee@acme.com"), lead("L2", email="lee@acme.com", country="XX")])
    )
    first, second = result.decisions
    assert second.owner_id == first.owner_id and second.step == RouteStep.DUPLICATE
    assert "duplicate:kept-known-owner" in second.route_path
    assert not result.followers


@pytest.fixture
def router_store(store, host):
    return store, host


def test_phone_written_two_ways_is_one_person(router_store):
    """'+44 (0)20 ...' and '020 ...' on GB leads with different emails match on phone."""
    store, host = router_store
    router = router_for(store, host, "{action: notify_owner}")
    leads = [
        lead("L1", country="GB", phone="+44 (0)20 7946 0958"),
        lead("L2", country="GB", phone="020 7946 0958"),
    ]
    _, second = router.route(snapshot(leads)).decisions
    assert second.duplicate is not None and second.duplicate.matched_on == ("phone",)


def test_lead_type_chooses_the_action(router_store):
    """by_lead_type overrides the default action for that type."""
    store, host = router_store
    router = router_for(store, host, "{action: notify_owner, by_lead_type: {content: append}}")
    result = router.route(
        snapshot(
            [
                lead("L1", email="a@acme.com"),
                lead("L2", email="a@acme.com", lead_type="Content"),
                lead("L3", email="a@acme.com", lead_type="demo"),
            ]
        )
    )
    assert [d.duplicate.action for d in result.decisions[1:]] == ["append", "notify_owner"]
    counts = result.counts()
    assert counts["duplicates"] == 2 and counts["duplicate_rate"] == round(2 / 3, 4)
    assert counts["duplicates_by_action"] == {"append": 1, "notify_owner": 1}


def test_duplicates_can_be_turned_off(router_store):
    """With duplicates disabled, a repeat is routed as a new lead."""
    store, host = router_store
    router = router_for(store, host, "{enabled: false}")
    result = router.route(
        snapshot([lead("L1", email="a@acme.com"), lead("L2", email="a@acme.com")])
    )
    assert all(d.duplicate is None and d.step == RouteStep.POOL for d in result.decisions)
    assert result.counts()["duplicates"] == 0


def test_a_rejected_lead_is_not_a_known_person(router_store):
    """A lead rejected by validation is not remembered: a later lead with its phone is new."""
    store, host = router_store
    router = router_for(store, host, "{action: notify_owner}")
    phone = {"phone": "+1 415 555 0100"}
    result = router.route(snapshot([lead("L1", email="", **phone), lead("L2", **phone)]))
    [d] = result.decisions
    assert d.lead_id == "L2" and d.duplicate is None


def test_rerun_replays_duplicates_without_new_effects(router_store):
    """Routing the same input twice makes no new decision, follower or effect."""
    store, host = router_store
    router = router_for(store, host, "{action: reassign}")
    leads = [lead("L1", email="a@acme.com"), lead("L2", email="a@acme.com", country="DE")]
    first = router.route(snapshot(leads))
    effects = len(store.pending_effects(10_000))
    again = router.route(snapshot(leads))
    assert again.counts()["new"] == 0 and not again.followers
    assert len(store.pending_effects(10_000)) == effects
    assert again.counts()["duplicates"] == first.counts()["duplicates"] == 1
    assert {d.lead_id: d.owner_id for d in again.decisions} == {
        d.lead_id: d.owner_id for d in first.decisions
    }


@pytest.mark.parametrize("action", ["notify_owner", "append", "reassign"])
def test_batch_mode_gives_a_same_batch_duplicate_its_records_owner(router_store, action):
    """In --batch, a duplicate of a lead waiting for the solve is decided after it, same owner."""
    store, host = router_store
    router = router_for(store, host, f"{{action: {action}}}")
    leads = [lead("L1", email="b@acme.com"), lead("L2", email="b@acme.com"), lead("L3")]
    result = router.route(snapshot(leads), batch=True)
    owners = {d.lead_id: d.owner_id for d in result.decisions}
    assert owners["L1"] == owners["L2"]
    assert result.counts()["duplicates"] == 1


def test_store_keeps_no_email_or_phone(tmp_path: Path, host):
    """The store file holds keyed hashes of identities, never the email or phone as written."""
    path = tmp_path / "s.db"
    with Store.open(path) as store:
        router_for(store, host, "{action: notify_owner}").route(
            snapshot(
                [
                    lead(
                        "L1",
                        email="secret.person@acme.com",
                        phone="+1 415 555 0100",
                    ),
                    lead("L2", email="Secret.Person@acme.com"),
                ]
            )
        )
        rows = store.load_identities()
    assert {r.kind for r in rows} == {"email", "phone"} and {r.person_id for r in rows} == {"L1"}
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("s.db"))
    for text in (b"secret.person", b"4155550100", b"415 555"):
        assert text not in raw.lower()


def _stream(rng: random.Random, persons: int, leads: int, start: int) -> list[Lead]:
    """Leads of ``persons`` people: an email variant always (so every repeat is detectable),
    their phone in one of two forms sometimes."""
    out = []
    for i in range(start, start + leads):
        p = rng.randrange(persons)
        # International forms only: a national number is read in the lead's own country.
        phone = rng.choice([f"+1 415 555 01{p:02d}", f"+1 (415) 555-01{p:02d}", ""])
        variants = [f"person{p}@acme{p}.com", f"Person{p}+x@ACME{p}.com", f"PERSON{p}@acme{p}.com"]
        out.append(
            Lead(
                id=f"L{i:04d}",
                email=rng.choice(variants),
                country=rng.choice(["US", "US", "DE", "GB", "XX"]),
                language="en",
                lead_type=rng.choice(["demo", "contact", "content"]),
                phone=phone,
                attributes={"person": str(p)},
            )
        )
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_person_ever_has_two_active_owners_over_a_stream(store_location: str, host, seed):
    """Over several runs (online and batch) mixing all three actions, each person has one owner."""
    rng = random.Random(seed)
    path = store_location
    section = "{action: notify_owner, by_lead_type: {demo: reassign, content: append}}"
    reps = standard_reps()
    seen: dict[str, str] = {}
    for run in range(4):
        leads = _stream(rng, persons=8, leads=15, start=run * 15)
        seen |= {lead.id: lead.attributes["person"] for lead in leads}
        if run == 2:  # a rep leaves mid-stream: their people must move as a whole
            reps = [rep("na-1", active=False), *standard_reps()[1:]]
        with Store.open(path) as store:
            router_for(store, host, section).route(snapshot(leads, reps), batch=run % 2 == 1)
    with Store.open(path) as store:
        current: dict[str, Decision] = store.current_decisions()
    owners: dict[str, set[str]] = defaultdict(set)
    for lead_id, person in seen.items():
        if lead_id in current:
            owners[person].add(current[lead_id].owner_id)
    assert owners and all(len(o) == 1 for o in owners.values()), dict(owners)


def test_a_lead_bridging_two_known_persons_merges_them_under_one_owner(router_store):
    """Email of one known person and phone of another: both persons end with the new owner."""
    store, host = router_store
    router = router_for(store, host, "{action: notify_owner}")
    phone = {"phone": "+49 30 901820"}
    leads = [
        lead("L1", email="a@acme.com", country="US"),
        lead("L2", email="b@other.de", country="DE", language="en", **phone),
        lead("L3", email="A@acme.com", country="DE", language="en", **phone),
    ]
    result = router.route(snapshot(leads))
    owners = {d.lead_id: d.owner_id for d in result.decisions}
    assert len(set(owners.values())) == 1, owners
    third = result.decisions[2]
    assert "duplicate:owners-differ" in third.route_path
    assert third.duplicate.matched_on == ("email", "phone")
    assert {r.person_id for r in store.load_identities()} == {"L1"}


def test_rebalance_moves_a_persons_records_together(store_location: str, host):
    """When rebalance moves one of a person's leads, the others follow to the same rep."""
    path = store_location
    first = [rep("na-1", pools=["na"]), rep("ops"), rep("emea-backup")]
    leads = [lead("L1", email="kai@acme.com"), lead("L2", email="Kai+2@acme.com")]
    with Store.open(path) as store:
        routed = router_for(store, host, "{action: notify_owner}").route(snapshot(leads, first))
    assert {d.owner_id for d in routed.decisions} == {"na-1"}
    # The owner leaves; one rep has room for the whole person.
    later = [
        rep("na-1", active=False),
        rep("na-2", pools=["na"], cap=1),
        rep("na-3", pools=["na"], cap=2),
        rep("ops"),
        rep("emea-backup"),
    ]
    with Store.open(path) as store:
        router_for(store, host, "{action: notify_owner}").rebalance(snapshot(leads, later))
        current = store.current_decisions()
    assert current["L1"].owner_id == current["L2"].owner_id == "na-3", current


def test_followers_never_push_a_rep_over_its_cap(store_location: str, host):
    """Two reps with room for one lead each cannot take a person with two records: rather
    than one rep ending at 2/1 (the follower on top of the planned move), the person goes to
    the fallback queue together, and the reason names the cap."""
    path = store_location
    first = [rep("na-1", pools=["na"]), rep("ops"), rep("emea-backup")]
    leads = [lead("L1", email="kai@acme.com"), lead("L2", email="Kai+2@acme.com")]
    with Store.open(path) as store:
        router_for(store, host, "{action: notify_owner}").route(snapshot(leads, first))
    later = [
        rep("na-1", active=False),
        rep("na-2", pools=["na"], cap=1),
        rep("na-3", pools=["na"], cap=1),
        rep("ops"),
        rep("emea-backup"),
    ]
    with Store.open(path) as store:
        result = router_for(store, host, "{action: notify_owner}").rebalance(snapshot(leads, later))
        current = store.current_decisions()
    assert current["L1"].owner_id == current["L2"].owner_id == "ops", current
    [move] = result.plan.moves
    assert move.followers == (("L2", "na-1"),)
    assert "OPEN_CAP na-3 2/1 with 1 follower" in current["L1"].reason


def test_leads_routed_before_identities_were_kept_become_known_when_seen_again(
    store_location: str, host
):
    """A lead routed with duplicates off is remembered when replayed, so a later repeat matches."""
    path = store_location
    old = lead("L1", email="mo@acme.com")
    with Store.open(path) as store:
        router_for(store, host, "{enabled: false}").route(snapshot([old]))
        assert store.load_identities() == []
    with Store.open(path) as store:
        result = router_for(store, host, "{action: notify_owner}").route(
            snapshot([old, lead("L2", email="MO@acme.com")])
        )
        assert {r.lead_id for r in store.load_identities()} == {"L1", "L2"}
    first, second = result.decisions
    assert second.duplicate is not None and second.duplicate.lead_id == "L1"
    assert second.owner_id == first.owner_id


def test_reassign_command_moves_a_persons_records_together(store_location: str, host):
    """leadroute reassign from a leaving rep keeps each person's records with one new owner."""
    path = store_location
    first = [rep("na-1", pools=["na"]), rep("ops"), rep("emea-backup")]
    leads = [lead("L1", email="kai@acme.com"), lead("L2", email="Kai+2@acme.com")]
    with Store.open(path) as store:
        router_for(store, host, "{action: notify_owner}").route(snapshot(leads, first))
    later = [
        rep("na-1", pools=["na"]),
        rep("na-2", pools=["na"], cap=1),
        rep("na-3", pools=["na"], cap=1),
        rep("ops"),
        rep("emea-backup"),
    ]
    with Store.open(path) as store:
        router_for(store, host, "{action: notify_owner}").reassign(
            snapshot(leads, later), from_rep="na-1"
        )
        current = store.current_decisions()
    assert current["L1"].owner_id != "na-1"
    assert current["L1"].owner_id == current["L2"].owner_id, current


def test_an_appended_record_never_gets_an_owner_write_of_its_own(store_location: str, host):
    """Appended, then moved with its person twice across restarts: still no owner write."""
    path = store_location
    actions = "{action: notify_owner, by_lead_type: {content: append, demo: reassign}}"
    runs = [
        [lead("L1", email="a@acme.com"), lead("L2", email="a@acme.com", lead_type="content")],
        [lead("L3", email="a@acme.com", lead_type="demo", country="DE", language="en")],
        [lead("L4", email="a@acme.com", lead_type="demo", country="US")],
    ]
    for leads in runs:
        with Store.open(path) as store:
            router_for(store, host, actions).route(snapshot(leads))
    with Store.open(path) as store:
        assert effects_by_lead(store)["L2"] == ["append"]
        current = store.current_decisions()
    assert current["L2"].owner_id == current["L4"].owner_id == current["L1"].owner_id
    assert current["L2"].epoch == 3 and current["L2"].duplicate.action == "append"
