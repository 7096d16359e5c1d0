"""The demo company: deterministic, consistent, with every edge case where it says."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from leadroute.demo import EDGE_CASES, write_demo
from leadroute.demo.generate import ACCOUNT_HEADER, LEAD_HEADER, REP_HEADER
from leadroute.normalize import email_identity, phone_e164, registrable_domain
from leadroute.policy import load_policy


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    files = write_demo(tmp_path_factory.mktemp("demo"))
    return files, rows(files.leads), rows(files.reps), rows(files.accounts)


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    """The sample is byte-identical for a seed and different for another seed."""
    a, b, c = (
        write_demo(tmp_path / name, seed=seed) for name, seed in (("a", 7), ("b", 7), ("c", 8))
    )
    assert a.leads.read_bytes() == b.leads.read_bytes()
    assert a.leads.read_bytes() != c.leads.read_bytes()
    assert a.policy.read_bytes() == c.policy.read_bytes()


def test_files_have_the_documented_headers_and_sizes(demo):
    """Headers are the CSV adapter's defaults; about 300 leads, 25 reps and 40 accounts."""
    files, leads, reps, accounts = demo
    for path, header in (
        (files.leads, LEAD_HEADER),
        (files.reps, REP_HEADER),
        (files.accounts, ACCOUNT_HEADER),
    ):
        assert path.read_text(encoding="utf-8").splitlines()[0] == ",".join(header)
    assert len(leads) == 300 and 24 <= len(reps) <= 27 and len(accounts) == 40


def test_every_reference_names_a_rep(demo):
    """Backups, account owners, lead owners, pool members and the fallback owner all exist."""
    files, leads, reps, accounts = demo
    policy = load_policy(files.policy)
    ids = {r["id"] for r in reps}
    assert {r["backup"] for r in reps if r["backup"]} <= ids
    assert {a["owner"] for a in accounts} <= ids
    lead_owners = {lead["owner"] for lead in leads if lead["owner"]}
    assert lead_owners - ids == {"rep-999"}  # the deliberate unknown_owner case
    assert {m for p in policy.pools for m in p.members} | {
        p.backup for p in policy.pools if p.backup
    } <= ids
    assert policy.fallback.owner in ids


def test_every_routed_pool_has_an_active_member(demo):
    """Each pool a rule routes to has at least one active member."""
    files, _, reps, _ = demo
    policy = load_policy(files.policy)
    for rule in policy.routing:
        members = [
            r
            for r in reps
            if rule.pool in r["pools"].split(";") or r["id"] in policy.pool(rule.pool).members
        ]
        assert any(r["active"] == "true" for r in members), rule.pool


def test_edge_cases_have_the_property_they_claim(demo):
    """Each listed edge-case lead really is the situation it is named for."""
    _, leads, reps, accounts = demo
    by_id = {lead["id"]: lead for lead in leads}
    inactive = {r["id"] for r in reps if r["active"] == "false"}
    domains = {a["domain"]: a for a in accounts}
    for lead_id in EDGE_CASES["free_email_demo"]:
        lead = by_id[lead_id]
        assert lead["email"].split("@")[1] in {"gmail.com", "yahoo.com"}
        assert lead["lead_type"] == "demo"
    for lead_id in EDGE_CASES["existing_customer"]:
        account = domains[by_id[lead_id]["email"].split("@")[1]]
        assert account["status"] == "customer" and account["owner"] not in inactive
    for lead_id in EDGE_CASES["inactive_account_owner"]:
        assert domains[by_id[lead_id]["email"].split("@")[1]]["owner"] in inactive
    for lead_id in EDGE_CASES["unknown_country"]:
        assert by_id[lead_id]["country"] in {"", "XX"}
    for lead_id in EDGE_CASES["german_speaker"]:
        assert (by_id[lead_id]["country"], by_id[lead_id]["language"]) == ("DE", "de")
    assert all(by_id[i]["email"] == "" for i in EDGE_CASES["missing_email"])
    assert all(by_id[i]["employees"] == "lots" for i in EDGE_CASES["bad_employees"])
    assert all(by_id[i]["owner"] == "rep-999" for i in EDGE_CASES["unknown_owner"])
    assert all(by_id[i]["lead_type"] == "partner" for i in EDGE_CASES["partner"])
    for lead_id in EDGE_CASES["already_owned"]:
        assert by_id[lead_id]["owner"] and by_id[lead_id]["owner"] not in inactive
    assert all(by_id[i]["owner"] in inactive for i in EDGE_CASES["owned_by_inactive"])


def test_matching_edge_cases_have_the_property_they_claim(demo):
    """Duplicates, subdomain, name-only and gmail-customer leads are what they are named for."""
    _, leads, _, accounts = demo
    by_id = {lead["id"]: lead for lead in leads}
    customers = {a["name"]: a for a in accounts if a["status"] == "customer"}
    emails = [by_id[i]["email"] for i in EDGE_CASES["duplicate_email"]]
    assert len(set(emails)) == 3 and len({email_identity(e) for e in emails}) == 1
    phones = [by_id[i] for i in EDGE_CASES["duplicate_phone"]]
    assert phones[0]["phone"] != phones[1]["phone"]
    assert len({phone_e164(p["phone"], p["country"]) for p in phones} - {""}) == 1
    assert phones[0]["email"] != phones[1]["email"]
    [sub] = (by_id[i] for i in EDGE_CASES["subdomain_account"])
    host = sub["email"].split("@")[1]
    assert host.startswith("eu.") and customers[sub["company"]]["domain"] == host[3:]
    [named] = (by_id[i] for i in EDGE_CASES["name_only_account"])
    assert named["company"].endswith(", Incorporated")
    assert registrable_domain(named["email"]) not in {a["domain"] for a in accounts}
    [gmail] = (by_id[i] for i in EDGE_CASES["gmail_customer"])
    assert gmail["email"].endswith("@gmail.com") and gmail["company"] in customers


def test_the_demo_has_inactive_reps_in_pools(demo):
    """The sample includes inactive reps who still sit in pools (the classic black hole)."""
    _, _, reps, _ = demo
    assert sum(1 for r in reps if r["active"] == "false" and r["pools"]) == 3


def test_intake_edge_cases_have_the_property_they_claim(demo):
    """The intake-quality leads carry the awkward values they are named for."""
    files, leads, _, accounts = demo
    by_id = {lead["id"]: lead for lead in leads}
    domains = {a["domain"] for a in accounts}
    assert by_id["L-0121"]["phone"].startswith("+44 (0)20")
    assert [by_id[i]["country"] for i in EDGE_CASES["uk_spellings"]] == [
        "UK",
        "United Kingdom",
        "GB",
    ]
    for case in ("crosses_mql", "content_nurture"):
        assert all(by_id[i]["lead_type"] == "content" for i in EDGE_CASES[case])
    assert all(by_id[i]["source"] == "referral" for i in EDGE_CASES["unknown_source"])
    assert all(by_id[i]["phone"] == "12345" for i in EDGE_CASES["bad_phone"])
    assert all("@@" in by_id[i]["email"] for i in EDGE_CASES["invalid_email"])
    intake = [
        i
        for case in ("uk_phone", "uk_spellings", "crosses_mql", "content_nurture")
        for i in EDGE_CASES[case]
    ]
    assert all(by_id[i]["email"].split("@")[1] not in domains for i in intake)
    events = rows(files.events)
    assert {e["kind"] for e in events if e["lead_id"] == "L-0141"} == {
        "pricing_page",
        "demo_request",
    }
    assert [e["at"] for e in events if e["lead_id"] == "L-0142"] == ["last tuesday"]
    special = {i for ids in EDGE_CASES.values() for i in ids} - {"L-0141", "L-0142"}
    assert not special & {e["lead_id"] for e in events}
    assert len({e["lead_id"] for e in events}) > 100
