"""``leadroute route|rebalance --source salesforce`` in-process against a realistic fake org."""

from __future__ import annotations

import csv
import json
import math
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest
from typer.testing import CliRunner

from leadroute.cli import app
from leadroute.models import RouteStep
from leadroute.store import Store
from leadroute_salesforce.adapter import EXCEPTIONS_FILE
from leadroute_salesforce.testing import FakeSalesforce, Org, populate

runner = CliRunner()
ROUTE_AT = "2026-11-02T09:00:00Z"
REBALANCE_AT = "2026-11-05T09:00:00Z"


def policy_text(fallback_owner: str, out: Path) -> str:
    return f"""
version: "sf-test"
regions:
  NA: [US, CA]
  EMEA: [GB, DE, FR, NL]
  APAC: [AU, JP]
constraints: [territory]
pools:
  - {{name: na, strategy: round_robin}}
  - {{name: emea, strategy: least_loaded}}
  - {{name: apac, strategy: round_robin}}
routing:
  - {{name: na, when: {{region: NA}}, pool: na}}
  - {{name: emea, when: {{region: EMEA}}, pool: emea}}
  - {{name: apac, when: {{region: APAC}}, pool: apac}}
fallback: {{owner: "{fallback_owner}", queue: unrouted}}
validation: {{required: [email]}}
adapters:
  salesforce:
    query_batch_size: 1000
    fields:
      leads: {{lead_type: Lead_Type__c}}
      users: {{pools: Leadroute_Pools__c, territories: Territories__c}}
    tasks:
      priority: {{demo: High, default: Normal}}
    output_dir: "{out}"
"""


@attrs.frozen
class Run:
    """One org, its policy and store, and what the route run did to it."""

    fake: FakeSalesforce
    org: Org
    policy: Path
    store: Path
    folder: Path
    before: dict[str, str]
    after: dict[str, str]
    out: dict
    blocked: str
    requests: list[dict]


def env_for(fake: FakeSalesforce, key_pair: tuple[str, str]) -> dict[str, str]:
    return {
        "LEADROUTE_SALESFORCE_CLIENT_ID": fake.client_id,
        "LEADROUTE_SALESFORCE_USERNAME": fake.username,
        "LEADROUTE_SALESFORCE_PRIVATE_KEY": key_pair[0],
    }


@pytest.fixture(scope="module")
def routed(key_pair, tmp_path_factory) -> Iterator[Run]:
    """A 3,000-lead org (pages of 500) routed once through the CLI; shared by this module."""
    folder = tmp_path_factory.mktemp("sf-route")
    fake = FakeSalesforce(public_key=key_pair[1], page_size=500)
    org = populate(fake, leads=3000, owned=600)
    blocked = org.waiting_leads[10]
    fake.fail_record(blocked, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Industry is required")
    policy = folder / "leadroute.yaml"
    policy.write_text(policy_text(org.active_users[0], folder), encoding="utf-8")
    store = folder / "audit.db"
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env_for(fake, key_pair).items():
            mp.setenv(key, value)
        before = owners(fake)
        out = run(
            fake,
            "route",
            "--init",
            "--policy",
            str(policy),
            "--store",
            str(store),
            "--at",
            ROUTE_AT,
        )
        yield Run(
            fake,
            org,
            policy,
            store,
            folder,
            before,
            owners(fake),
            out,
            blocked,
            list(fake.requests),
        )


def run(fake: FakeSalesforce, *args: str) -> dict:
    with fake.router:
        result = runner.invoke(app, [*args, "--source", "salesforce", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def owners(fake: FakeSalesforce) -> dict[str, str]:
    return {lead_id: r["OwnerId"] for lead_id, r in fake.objects["Lead"].items()}


def test_route_writes_exactly_what_the_decisions_say(routed: Run):
    """Every decided lead ends up owned by its decision's rep; nothing else changes."""
    fake, org, before, after = routed.fake, routed.org, routed.before, routed.after
    assert routed.out["counts"]["input"] == 3000  # closed and converted queue leads not read
    assert len(fake.data_requests("query_more")) >= 5  # the leads came in several pages
    with Store.open(routed.store) as audit:
        decisions = audit.current_decisions()
    assert len(decisions) == 3000 - routed.out["counts"]["exceptions"]
    active = set(org.active_users)
    for lead_id, decision in decisions.items():
        assert decision.owner_id in active  # never a queue, never an inactive user
        expected = before[lead_id] if lead_id == routed.blocked else decision.owner_id
        assert after[lead_id] == expected, lead_id
    by_account = [d for d in decisions.values() if d.step == RouteStep.ACCOUNT_OWNER]
    assert by_account  # leads from known accounts went to the account owner
    for decision in by_account:
        assert decision.owner_id == fake.get("Account", decision.account_id)["OwnerId"]
    untouched = set(after) - set(decisions)
    assert untouched and all(after[i] == before[i] for i in untouched)
    assert after[routed.blocked] in org.queues  # refused by a validation rule: still waiting


def test_route_sends_collections_of_200_without_assignment_rules(routed: Run):
    """Owner writes go in collections of at most 200, each with Sforce-Auto-Assign FALSE."""
    updates = routed.fake.data_requests("update")
    assert len(updates) >= 15
    assert all(len(r["json"]["records"]) <= 200 for r in updates)
    assert all(r["json"]["allOrNone"] is False for r in updates)
    assert all(r["headers"]["sforce-auto-assign"] == "FALSE" for r in updates)
    sent = [rec["id"] for r in updates for rec in r["json"]["records"]]
    assert len(sent) == len(set(sent))  # each lead written once
    assert set(sent) <= set(routed.org.waiting_leads)  # pre-owned leads are never written


def test_route_makes_the_planned_number_of_api_calls(routed: Run):
    """No per-record calls: reads by page; per 200 records one write, one read-back, one task call."""
    kinds = Counter(r["kind"] for r in routed.requests)
    # Reads: queues, users, open-lead counts, out of office, accounts, then 3,000 leads in
    # pages of 500, then the four outcome reads (closed tasks, events, status history,
    # conversions).
    assert kinds["query_more"] == 5
    decided = 3000 - routed.out["counts"]["exceptions"]
    batches = [min(500, decided - start) for start in range(0, decided, 500)]  # the relay's
    per_batch = sum(math.ceil(b / 200) for b in batches)
    assert kinds["update"] == per_batch  # owners
    assert kinds["upsert"] == per_batch  # tasks
    assert kinds["query"] == 10 + per_batch  # the read-backs
    assert sum(kinds.values()) == 15 + 3 * per_batch


def test_route_creates_one_follow_up_task_per_written_lead(routed: Run):
    """Each written lead gets one task for its owner, dated, prioritised by lead type."""
    fake = routed.fake
    written = [i for i in routed.org.waiting_leads if routed.after[i].startswith("005")]
    tasks = fake.objects["Task"]
    assert len(tasks) == len(written)
    by_who = {t["WhoId"]: t for t in tasks.values()}
    for lead_id in written:
        task, lead = by_who[lead_id], fake.get("Lead", lead_id)
        assert task["OwnerId"] == lead["OwnerId"]
        assert task["ActivityDate"] == "2026-11-03"
        assert task["Priority"] == ("High" if lead["Lead_Type__c"] == "demo" else "Normal")
        assert task["Status"] == "Not Started"


def test_route_reports_refused_writes_in_the_exception_report(routed: Run):
    """A validation failure and leads without email both land in the exception report."""
    with (routed.folder / EXCEPTIONS_FILE).open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    refused = [r for r in rows if r["record_id"] == routed.blocked]
    assert refused == [
        {
            "source": "outbox:owner_write",
            "record_id": routed.blocked,
            "kind": "effect",
            "field": "owner_write",
            "code": "EFFECT_FAILED",
            "message": "owner_write not applied: FIELD_CUSTOM_VALIDATION_EXCEPTION: "
            "Industry is required",
        }
    ]
    missing = {r["record_id"] for r in rows if r["code"] == "MISSING_FIELD"}
    no_email = {i for i in routed.org.waiting_leads if not routed.fake.get("Lead", i)["Email"]}
    assert no_email and missing == no_email


@pytest.fixture(scope="module")
def rebalanced(routed: Run, key_pair) -> tuple[Run, dict, dict[str, str]]:
    """The routed org rebalanced three days later; also a second route run (it writes nothing)."""
    fake = routed.fake
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env_for(fake, key_pair).items():
            mp.setenv(key, value)
        updates, tasks = len(fake.data_requests("update")), len(fake.objects["Task"])
        again = run(
            fake,
            "route",
            "--policy",
            str(routed.policy),
            "--store",
            str(routed.store),
            "--at",
            ROUTE_AT,
        )
        assert again["counts"]["new"] == 0
        assert len(fake.data_requests("update")) == updates
        assert len(fake.objects["Task"]) == tasks
        out = run(
            fake,
            "rebalance",
            "--policy",
            str(routed.policy),
            "--store",
            str(routed.store),
            "--out",
            str(routed.folder),
            "--at",
            REBALANCE_AT,
        )
    return routed, out, owners(fake)


def test_rebalance_moves_only_what_the_plan_says(rebalanced):
    """Rebalance writes each move's new owner, leaves every other lead, never moves worked ones."""
    routed, out, after = rebalanced
    before, org, fake = routed.after, routed.org, routed.fake
    activity = {i: fake.get("Lead", i)["LastActivityDate"] for i in org.owned_leads}
    moves = {m["lead_id"]: m for m in out["moves"]}
    assert moves and out["counts"]["applied"] == len(moves)
    for lead_id, owner in after.items():
        if lead_id in moves:
            assert moves[lead_id]["from_owner"] == before[lead_id]
            assert owner == moves[lead_id]["to_owner"] != before[lead_id]
            assert owner in org.active_users
        else:
            assert owner == before[lead_id], lead_id
    inactive = set(org.inactive_users)
    stranded = [i for i in org.owned_leads if before[i] in inactive and not activity[i]]
    assert stranded and all(i in moves for i in stranded)
    assert not any(activity.get(i) for i in moves)  # worked leads never move
    reasons = Counter(r for m in moves.values() for r in m["reasons"].split(";"))
    assert reasons["OWNER_INACTIVE"] >= len(stranded)


def test_rebalance_reads_owned_leads_not_the_queues(fake, jwt_env, tmp_path, monkeypatch):
    """Rebalance reads owned leads only, with their last activity; a dry run writes nothing."""
    org = populate(fake, leads=50, owned=300)
    for key, value in jwt_env.items():
        monkeypatch.setenv(key, value)
    policy = tmp_path / "leadroute.yaml"
    policy.write_text(policy_text(org.active_users[0], tmp_path), encoding="utf-8")
    out = run(
        fake,
        "rebalance",
        "--init",
        "--policy",
        str(policy),
        "--store",
        str(tmp_path / "a.db"),
        "--out",
        str(tmp_path),
        "--at",
        REBALANCE_AT,
        "--dry-run",
    )
    queries = [r["params"]["q"] for r in fake.data_requests("query")]
    lead_queries = [q for q in queries if "FROM Lead WHERE IsConverted = false" in q]
    lead_queries = [q for q in lead_queries if "GROUP BY" not in q]
    assert len(lead_queries) == 1
    assert "OwnerId NOT IN ('00G" in lead_queries[0]
    assert "LastActivityDate" in lead_queries[0]
    assert out["counts"]["considered"] == 300
    assert not fake.data_requests("update")


def test_daily_limit_stops_route_cleanly_and_the_next_run_resumes(
    fake, jwt_env, tmp_path, monkeypatch
):
    """Out of allocation mid-relay: exit 4, decisions kept; the next run sends what was left."""
    fake.page_size = 500
    org = populate(fake, leads=700, owned=0, users=9, inactive=0, accounts=10)
    for key, value in jwt_env.items():
        monkeypatch.setenv(key, value)
    policy = tmp_path / "leadroute.yaml"
    policy.write_text(policy_text(org.active_users[0], tmp_path), encoding="utf-8")
    store = tmp_path / "audit.db"
    fake.allocation = 13  # 11 read calls, then two collections of 200 owners, then nothing
    args = ["route", "--init", "--policy", str(policy), "--store", str(store), "--at", ROUTE_AT]
    with fake.router:
        stopped = runner.invoke(app, [*args, "--source", "salesforce", "--json"])
    assert stopped.exit_code == 4, stopped.output
    assert "daily API allocation reached (13/13 API calls used)" in stopped.output
    with Store.open(store) as audit:
        decided = audit.current_decisions()
        assert audit.outbox_counts().get("pending", 0) > 0
        waiting = audit.pending_rows(10_000)
        assert waiting and all(row.attempts == 0 for row in waiting)  # a quota stop is no attempt
        assert audit.outbox_counts().get("dead", 0) == 0
    assert len(decided) == 700 - sum(
        1 for i in org.waiting_leads if not fake.get("Lead", i)["Email"]
    )  # every lead with an email was decided before the stop
    assert fake.used == 13  # it stopped at the allocation instead of hammering the 403

    fake.allocation = 100_000  # the rolling 24 hours moved on
    resumed = run(fake, *args)
    assert resumed["counts"]["new"] == 0  # nothing decided twice
    with Store.open(store) as audit:
        assert audit.outbox_counts().get("pending", 0) == 0
    for lead_id, decision in decided.items():
        assert fake.get("Lead", lead_id)["OwnerId"] == decision.owner_id
    assert {t["WhoId"] for t in fake.objects["Task"].values()} == set(decided)
    assert len(fake.objects["Task"]) == len(decided)  # one task each, resumed or not


def test_an_owner_refused_as_inactive_is_rerouted(fake, jwt_env, tmp_path, monkeypatch):
    """Salesforce refuses an owner deactivated after the read: the lead is decided again and written."""
    org = populate(fake, leads=40, owned=0, users=9, inactive=0, accounts=2)
    for key, value in jwt_env.items():
        monkeypatch.setenv(key, value)
    policy = tmp_path / "leadroute.yaml"
    policy.write_text(policy_text(org.active_users[0], tmp_path), encoding="utf-8")
    lead = next(i for i in org.waiting_leads if fake.get("Lead", i)["CountryCode"] == "US")
    fake.fail_record(lead, "INACTIVE_OWNER_OR_USER", "operation performed with inactive user")
    store = tmp_path / "a.db"
    run(fake, "route", "--init", "--policy", str(policy), "--store", str(store), "--at", ROUTE_AT)
    with Store.open(store) as audit:
        decision = audit.current_decisions()[lead]
    assert decision.epoch == 2  # decided again without the refused owner
    assert fake.get("Lead", lead)["OwnerId"] == decision.owner_id
    writes = [
        r["OwnerId"]
        for u in fake.data_requests("update")
        for r in u["json"]["records"]
        if r["id"] == lead
    ]
    assert len(writes) == 2 and writes[0] != writes[1]


def test_an_owner_without_read_on_leads_is_rerouted(fake, jwt_env, tmp_path, monkeypatch):
    """A rep whose licence has no Leads (TRANSFER_REQUIRES_READ): each lead goes to someone else."""
    org = populate(fake, leads=60, owned=0, users=9, inactive=0, accounts=2)
    for key, value in jwt_env.items():
        monkeypatch.setenv(key, value)
    refused = org.active_users[1]
    fake.get("User", refused)["UserLicense"] = "Salesforce Platform"
    policy = tmp_path / "leadroute.yaml"
    policy.write_text(policy_text(org.active_users[0], tmp_path), encoding="utf-8")
    store = tmp_path / "a.db"
    run(fake, "route", "--init", "--policy", str(policy), "--store", str(store), "--at", ROUTE_AT)
    tried = {
        r["id"]
        for u in fake.data_requests("update")
        for r in u["json"]["records"]
        if r["OwnerId"] == refused
    }
    assert tried  # the rep was chosen at least once before Salesforce refused them
    with Store.open(store) as audit:
        decisions = audit.current_decisions()
    for lead in tried:
        assert decisions[lead].epoch >= 2 and decisions[lead].owner_id != refused
        assert fake.get("Lead", lead)["OwnerId"] == decisions[lead].owner_id
    assert refused not in {r["OwnerId"] for r in fake.objects["Lead"].values()}


def test_a_quota_stop_over_six_runs_loses_no_write(fake, jwt_env, tmp_path, monkeypatch):
    """Six runs meet a spent allocation right after reading, then it clears: nothing went
    dead, no attempt was spent, and the seventh run writes every owner."""
    org = populate(fake, leads=120, owned=0, users=9, inactive=0, accounts=3)
    for key, value in jwt_env.items():
        monkeypatch.setenv(key, value)
    policy = tmp_path / "leadroute.yaml"
    text = policy_text(org.active_users[0], tmp_path)
    policy.write_text(
        text.replace(
            "    query_batch_size: 1000\n",
            "    query_batch_size: 1000\n    limits: {slow_down_at: 1.0, reserve: 0.0}\n",
        ),
        encoding="utf-8",
    )
    store = tmp_path / "audit.db"
    args = ["route", "--init", "--policy", str(policy), "--store", str(store), "--at", ROUTE_AT]
    for _ in range(6):
        fake.allocation = fake.used + 10  # enough to read (10 queries), none left to write
        with fake.router:
            stopped = runner.invoke(app, [*args, "--source", "salesforce", "--json"])
        assert stopped.exit_code == 4, stopped.output
    with Store.open(store) as audit:
        counts = audit.outbox_counts()
        assert counts.get("dead", 0) == 0 and counts.get("pending", 0) > 0
        assert all(row.attempts == 0 for row in audit.pending_rows(10_000))
        decided = audit.current_decisions()
    assert fake.data_requests("update") == []  # it stopped without sending a write
    fake.allocation = 1_000_000
    run(fake, *args)
    with Store.open(store) as audit:
        assert audit.outbox_counts().get("pending", 0) == 0
        assert audit.outbox_counts().get("dead", 0) == 0
    assert all(fake.get("Lead", lead)["OwnerId"] == d.owner_id for lead, d in decided.items())


def test_reps_out_of_office_get_no_leads(fake, jwt_env, tmp_path, monkeypatch):
    """Out of Office in Salesforce is leave: routing passes over those reps (ON_LEAVE)."""
    org = populate(fake, leads=60, owned=0, users=9, inactive=0, accounts=2)
    for key, value in jwt_env.items():
        monkeypatch.setenv(key, value)
    na = [u for u in org.active_users if fake.get("User", u)["Leadroute_Pools__c"] == "na"]
    away = na[1:]
    for user in away:
        fake.set_out_of_office(
            user, datetime(2026, 11, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)
        )
    policy = tmp_path / "leadroute.yaml"
    policy.write_text(policy_text(org.active_users[0], tmp_path), encoding="utf-8")
    store = tmp_path / "a.db"
    run(fake, "route", "--init", "--policy", str(policy), "--store", str(store), "--at", ROUTE_AT)
    with Store.open(store) as audit:
        decisions = audit.current_decisions()
    us = [
        d for lead, d in decisions.items() if fake.get("Lead", lead)["CountryCode"] in ("US", "CA")
    ]
    assert us and {d.owner_id for d in us if d.step == RouteStep.POOL} == {na[0]}
    on_leave = {e.rep_id for d in us for e in d.exclusions if e.code == "ON_LEAVE"}
    assert on_leave == set(away)
