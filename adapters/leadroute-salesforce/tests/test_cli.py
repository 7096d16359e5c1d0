"""``leadroute route|rebalance --source salesforce`` in-process against a realistic fake org."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadroute.cli import app
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


@pytest.fixture
def org_setup(
    fake: FakeSalesforce, jwt_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[FakeSalesforce, Org, Path]:
    """A 3,000-lead org (pages of 500), credentials in the environment, a policy file."""
    fake.page_size = 500
    org = populate(fake, leads=3000, owned=600)
    for key, value in jwt_env.items():
        monkeypatch.setenv(key, value)
    policy = tmp_path / "leadroute.yaml"
    policy.write_text(policy_text(org.active_users[0], tmp_path), encoding="utf-8")
    return fake, org, policy


def run(fake: FakeSalesforce, *args: str) -> dict:
    with fake.router:
        result = runner.invoke(app, [*args, "--source", "salesforce", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def owners(fake: FakeSalesforce) -> dict[str, str]:
    return {lead_id: r["OwnerId"] for lead_id, r in fake.objects["Lead"].items()}


def test_route_writes_exactly_what_the_decisions_say(org_setup, tmp_path):
    """Every decided lead ends up owned by its decision's rep; nothing else changes."""
    fake, org, policy = org_setup
    blocked = org.waiting_leads[10]
    fake.fail_record(blocked, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Industry is required")
    before = owners(fake)
    store = tmp_path / "audit.db"
    out = run(fake, "route", "--policy", str(policy), "--store", str(store), "--at", ROUTE_AT)

    assert out["counts"]["input"] == 3000  # closed and converted queue leads are not read
    assert len(fake.data_requests("query_more")) >= 5  # the leads came in several pages
    with Store.open(store) as audit:
        decisions = audit.current_decisions()
    assert len(decisions) == 3000 - out["counts"]["exceptions"]
    after = owners(fake)
    active = set(org.active_users)
    for lead_id, decision in decisions.items():
        assert decision.owner_id in active  # never a queue, never an inactive user
        expected = before[lead_id] if lead_id == blocked else decision.owner_id
        assert after[lead_id] == expected, lead_id
    untouched = set(after) - set(decisions)
    assert all(after[i] == before[i] for i in untouched)
    assert after[blocked] in org.queues  # refused by a validation rule: still waiting


def test_route_sends_collections_of_200_without_assignment_rules(org_setup, tmp_path):
    """Owner writes go in collections of at most 200, each with Sforce-Auto-Assign FALSE."""
    fake, _, policy = org_setup
    run(fake, "route", "--policy", str(policy), "--store", str(tmp_path / "a.db"), "--at", ROUTE_AT)
    updates = fake.data_requests("update")
    assert updates
    assert all(len(r["json"]["records"]) <= 200 for r in updates)
    assert all(r["json"]["allOrNone"] is False for r in updates)
    assert all(r["headers"]["sforce-auto-assign"] == "FALSE" for r in updates)
    assert sum(len(r["json"]["records"]) for r in updates) == sum(
        1 for r in fake.objects["Lead"].values() if r["OwnerId"].startswith("005")
    ) - 600  # the pre-owned leads were never written


def test_route_creates_one_follow_up_task_per_written_lead(org_setup, tmp_path):
    """Each written lead gets one task for its owner, dated, prioritised by lead type."""
    fake, org, policy = org_setup
    store = str(tmp_path / "a.db")
    run(fake, "route", "--policy", str(policy), "--store", store, "--at", ROUTE_AT)
    written = [i for i in org.waiting_leads if fake.get("Lead", i)["OwnerId"].startswith("005")]
    tasks = fake.objects["Task"]
    assert len(tasks) == len(written)
    by_who = {t["WhoId"]: t for t in tasks.values()}
    for lead_id in written:
        task, lead = by_who[lead_id], fake.get("Lead", lead_id)
        assert task["OwnerId"] == lead["OwnerId"]
        assert task["ActivityDate"] == "2026-11-03"
        assert task["Priority"] == ("High" if lead["Lead_Type__c"] == "demo" else "Normal")
    # A second run re-reads the leads still waiting and writes nothing new.
    requests = len(fake.data_requests("update"))
    again = run(fake, "route", "--policy", str(policy), "--store", store, "--at", ROUTE_AT)
    assert again["counts"]["new"] == 0
    assert len(fake.data_requests("update")) == requests
    assert len(fake.objects["Task"]) == len(written)


def test_route_reports_refused_writes_in_the_exception_report(org_setup, tmp_path):
    """A validation failure and leads without email both land in the exception report."""
    fake, org, policy = org_setup
    blocked = org.waiting_leads[42]
    fake.fail_record(blocked, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Industry is required")
    run(fake, "route", "--policy", str(policy), "--store", str(tmp_path / "a.db"), "--at", ROUTE_AT)
    with (tmp_path / EXCEPTIONS_FILE).open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    refused = [r for r in rows if r["record_id"] == blocked]
    assert refused == [
        {
            "source": "salesforce:write:owner",
            "record_id": blocked,
            "kind": "lead",
            "field": "OwnerId",
            "code": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            "message": "Industry is required",
        }
    ]
    missing = {r["record_id"] for r in rows if r["code"] == "MISSING_FIELD"}
    no_email = {i for i in org.waiting_leads if not fake.get("Lead", i)["Email"]}
    assert missing == no_email and no_email


def test_rebalance_moves_only_what_the_plan_says(org_setup, tmp_path):
    """Rebalance writes each move's new owner, leaves every other lead, never moves worked ones."""
    fake, org, policy = org_setup
    store = str(tmp_path / "a.db")
    run(fake, "route", "--policy", str(policy), "--store", store, "--at", ROUTE_AT)
    before = owners(fake)
    activity = {i: fake.get("Lead", i)["LastActivityDate"] for i in org.owned_leads}
    out = run(fake, "rebalance", "--policy", str(policy), "--store", store, "--at", REBALANCE_AT)
    after = owners(fake)
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


def test_rebalance_reads_owned_leads_not_the_queues(org_setup, tmp_path):
    """The rebalance read asks for owned leads only and never selects queue-owned ones."""
    fake, _, policy = org_setup
    run(fake, "rebalance", "--policy", str(policy), "--store", str(tmp_path / "a.db"),
        "--at", REBALANCE_AT, "--dry-run")
    lead_queries = [r["params"]["q"] for r in fake.data_requests("query") if "FROM Lead" in r["params"]["q"] and "GROUP BY" not in r["params"]["q"]]
    assert len(lead_queries) == 1
    assert "OwnerId NOT IN ('00G" in lead_queries[0]
    assert "LastActivityDate" in lead_queries[0]
    assert not fake.data_requests("update")  # a dry run writes nothing
