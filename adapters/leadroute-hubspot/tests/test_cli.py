"""``leadroute route/rebalance --source hubspot`` end to end against a realistic fake portal.

Hundreds of contacts (more than one search window), archived and queue owners, companies
with owners. Each test checks that the portal ends up holding exactly what the stored
decisions say, and nothing else.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadroute.cli import app
from leadroute.store import Store
from leadroute_hubspot.testing import TOKEN, FakeHubSpot

POLICY = """
version: "hs1"
regions: {NA: [US, CA], EMEA: [DE, GB, FR]}
pools:
  - {name: na, strategy: round_robin}
  - {name: emea, strategy: least_loaded}
routing:
  - {name: na, when: {region: NA}, pool: na}
  - {name: emea, when: {region: EMEA}, pool: emea}
fallback: {owner: "900", queue: unrouted, escalate_after: 4h}
adapters:
  hubspot:
    lifecycle_stages: [lead]
    on_routed: {hs_lead_status: NEW}
    on_fallback: {hs_lead_status: OPEN}
    tasks:
      enabled: true
      due_after: 2h
      priority: {default: MEDIUM}
"""
NOT_ELIGIBLE = {"104", "205", "950"}  # archived, archived, queue
runner = CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding the policy; the CLI runs from it."""
    (tmp_path / "leadroute.yaml").write_text(POLICY, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(fake: FakeHubSpot, *args: str) -> dict:
    with fake.installed():
        result = runner.invoke(app, [*args, "--source", "hubspot", "--json"])
    assert result.exit_code == 0, result.output
    assert TOKEN not in result.output
    return json.loads(result.stdout)


def decisions(workdir: Path) -> dict:
    with Store.open(workdir / ".leadroute" / "leadroute.db") as store:
        return store.current_decisions()


def owners_in_portal(fake: FakeHubSpot) -> dict[str, str]:
    return {cid: p["hubspot_owner_id"] for cid, p in fake.contacts.items() if p["hubspot_owner_id"]}


def test_route_writes_exactly_what_the_decisions_say(workdir: Path):
    """Every decided contact holds its decision's owner and one task; nothing else is touched."""
    fake = FakeHubSpot.portal(contacts=620, search_cap=250)
    before = dict(fake.contacts)
    report = run(fake, "route", "--init")
    stored = decisions(workdir)
    assert report["counts"]["input"] == 620 and report["relay"]["dead"] == 0
    assert owners_in_portal(fake) == {lead: d.owner_id for lead, d in stored.items()}
    assert not NOT_ELIGIBLE & set(owners_in_portal(fake).values())
    assert {d.owner_id for d in stored.values()} >= {"101", "102", "103", "201", "202", "203"}
    for lead, d in stored.items():
        expected = "OPEN" if d.queue else "NEW"
        assert fake.contacts[lead]["hs_lead_status"] == expected
    tasks = [t["properties"] for t in fake.tasks.values()]
    assert len(tasks) == len(stored)
    assert {t["hubspot_owner_id"] for t in tasks} == {d.owner_id for d in stored.values()}
    assert len(before) == len(fake.contacts)
    assert fake.calls("/contacts/search") >= 3  # 620 contacts in windows of 250
    assert fake.search_429s == 0


def test_route_reports_unusable_contacts_and_a_rerun_writes_nothing(workdir: Path):
    """Bad contacts land in hubspot-exceptions.csv; a second run decides and writes nothing new."""
    fake = FakeHubSpot.portal(contacts=300)
    first = run(fake, "route", "--init")
    with (workdir / "hubspot-exceptions.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all(r["code"] == "BAD_NUMBER" for r in rows)
    assert first["counts"]["exceptions"] == len(rows)
    assert first["outputs"]["exceptions"] == str(workdir / "hubspot-exceptions.csv")
    writes, tasks = fake.calls("/batch/update"), len(fake.tasks)
    second = run(fake, "route")
    assert second["counts"]["new"] == 0 and second["counts"]["input"] == len(rows)
    assert fake.calls("/batch/update") == writes and len(fake.tasks) == tasks


def test_owner_deactivated_between_read_and_write_is_rerouted(workdir: Path):
    """An owner HubSpot refuses on write is replaced in the same run; the portal never holds them."""
    fake = FakeHubSpot.portal(contacts=200, deactivated={"101"})
    report = run(fake, "route", "--init")
    stored = decisions(workdir)
    assert "101" not in owners_in_portal(fake).values()
    assert owners_in_portal(fake) == {lead: d.owner_id for lead, d in stored.items()}
    rerouted = [d for d in stored.values() if d.epoch == 2]
    assert rerouted and report["counts"]["rerouted"] == len(rerouted)
    assert report["relay"]["rerouted"] == len(rerouted)
    tasks = [t["properties"]["hubspot_owner_id"] for t in fake.tasks.values()]
    assert "101" not in tasks and len(tasks) == len(stored)


def test_rebalance_moves_unworked_leads_of_archived_owners_only(workdir: Path):
    """Nightly: unworked contacts of archived owners move to active reps; worked ones stay put."""
    fake = FakeHubSpot.portal(contacts=0, owned=240)
    before = owners_in_portal(fake)
    report = run(fake, "rebalance", "--init", "--at", "2026-11-02T09:00:00Z")
    after = owners_in_portal(fake)
    moved = {c for c in before if before[c] != after[c]}
    assert report["counts"]["applied"] == len(moved) > 0
    assert {m["lead_id"]: m["to_owner"] for m in report["moves"]} == {c: after[c] for c in moved}
    worked = {c for c, p in fake.contacts.items() if p["notes_last_contacted"]}
    assert not moved & worked
    assert {c for c, o in after.items() if o in NOT_ELIGIBLE} <= worked  # worked leads never move
    assert not NOT_ELIGIBLE & {after[c] for c in moved}
    stranded = {c for c, o in before.items() if o in NOT_ELIGIBLE and c not in worked}
    assert stranded <= moved
    assert fake.calls("/contacts/search") >= 1 and fake.calls("/batch/update") >= 1


def test_missing_credentials_are_one_line_and_exit_3(workdir: Path):
    """Without HubSpot credentials in the environment, route stops with one line naming the variables."""
    fake = FakeHubSpot.portal(contacts=3)
    with fake.installed(env={}):
        result = runner.invoke(app, ["route", "--init", "--source", "hubspot"])
    assert result.exit_code == 3
    assert "HUBSPOT_ACCESS_TOKEN" in result.output and "Traceback" not in result.output
    assert fake.requests == []


def test_daily_limit_during_the_read_stops_cleanly_with_exit_4(workdir: Path):
    """A DAILY 429 while reading ends the run with one clear line and exit 4, without sleeping."""
    from leadroute_hubspot.testing import Fault, rate_limit_body

    fake = FakeHubSpot.portal(contacts=30)
    fake.fail("search", Fault(status=429, body=rate_limit_body("DAILY")))
    with fake.installed():
        result = runner.invoke(app, ["route", "--init", "--source", "hubspot"])
    assert result.exit_code == 4 and "daily" in result.output.lower()
    assert fake.clock.slept == [] or max(fake.clock.slept) < 1


def test_route_without_json_prints_the_summary(workdir: Path):
    """The human summary works for HubSpot too: totals, steps and reps, no token anywhere."""
    fake = FakeHubSpot.portal(contacts=80)
    with fake.installed():
        result = runner.invoke(app, ["route", "--init", "--source", "hubspot"])
    assert result.exit_code == 0, result.output
    assert "80 leads" in result.stdout and "By rep" in result.stdout
    assert "hubspot-exception" in result.stdout and TOKEN not in result.output  # rich may wrap


def test_daily_limit_during_writes_exits_4_and_the_next_run_writes_everything(workdir: Path):
    """A DAILY 429 on the second write batch: exit 4, nothing dead, no attempt spent; later all land."""
    from leadroute_hubspot.testing import Fault, rate_limit_body

    fake = FakeHubSpot.portal(contacts=250)
    # The portal's daily quota runs out after the first batch of owners.
    fake.fail("batch_update", Fault(status=429, body=rate_limit_body("DAILY"), times=99, skip=1))
    with fake.installed():
        stopped = runner.invoke(app, ["route", "--init", "--source", "hubspot", "--json"])
    assert stopped.exit_code == 4, stopped.output
    assert "daily" in stopped.stderr.lower() and TOKEN not in stopped.output
    report = json.loads(stopped.stdout)
    assert report["relay"]["dead"] == 0 and report["relay"]["pending"] > 0
    with Store.open(workdir / ".leadroute" / "leadroute.db") as store:
        assert store.outbox_counts().get("dead", 0) == 0
    fake.heal()  # the quota resets at midnight
    again = run(fake, "route")
    assert again["relay"]["dead"] == 0 and again["relay"]["pending"] == 0
    assert owners_in_portal(fake) == {lead: d.owner_id for lead, d in decisions(workdir).items()}


def test_a_workflow_that_moves_the_owner_later_is_caught_on_the_next_run(workdir: Path):
    """HubSpot applies workflows after the write; the next run reads owners back and explains."""
    (workdir / "leadroute.yaml").write_text(
        POLICY + "    override_check_after: 0s\n", encoding="utf-8"
    )
    fake = FakeHubSpot.portal(contacts=40, reassign={"101": "202"}, workflow_delay=120)
    first = run(fake, "route", "--init")
    assert first["relay"]["overridden"] == 0  # HubSpot's answer showed our owner
    moved = {lead for lead, d in decisions(workdir).items() if d.owner_id == "101"}
    assert moved
    fake.clock.sleep(121)  # the workflow runs
    second = run(fake, "route")
    assert second["relay"]["overridden"] == len(moved)
    lead = sorted(moved)[0]
    with fake.installed():
        shown = runner.invoke(app, ["explain", lead, "--json"])
    assert json.loads(shown.stdout)["observed_owner"] == "202"
    assert run(fake, "route")["relay"]["overridden"] == 0  # each write is read back once


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "    on_routed: {leadroute_routed_by: leadroute}\n",
            "no contact property 'leadroute_routed_by'",
        ),
        (
            "    on_routed: {hs_lead_status: QUEUED}\n",
            "'QUEUED' is not an option of the contact property 'hs_lead_status'",
        ),
        ("    on_routed: {createdate: '1'}\n", "property 'createdate' is read-only"),
    ],
)
def test_a_property_hubspot_lacks_stops_the_run_before_any_write(workdir: Path, extra, message):
    """Each written property is read once first; a missing one, an unknown option or a
    read-only one is a configuration error naming it (exit 2), and nothing is decided or written."""
    text = POLICY.replace("    on_routed: {hs_lead_status: NEW}\n", extra)
    (workdir / "leadroute.yaml").write_text(text, encoding="utf-8")
    fake = FakeHubSpot.portal(contacts=20)
    with fake.installed():
        result = runner.invoke(app, ["route", "--init", "--source", "hubspot"])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert fake.calls("/batch/update") == 0 and fake.calls("/contacts/search") == 0


def test_a_missing_task_key_property_is_named(workdir: Path):
    """Without the custom task property, route stops and says which property to create."""
    fake = FakeHubSpot.portal(contacts=20, task_key="")
    with fake.installed():
        result = runner.invoke(app, ["route", "--init", "--source", "hubspot"])
    assert result.exit_code == 2
    assert "no task property 'leadroute_key'" in result.stderr


def test_properties_are_checked_once_per_run(workdir: Path):
    """The property reads happen once per run, not once per batch of writes."""
    fake = FakeHubSpot.portal(contacts=350)
    run(fake, "route", "--init")
    reads = sum(1 for _, path in fake.requests if "/properties/" in path)
    # contacts: hubspot_owner_id, hs_lead_status (NEW and OPEN: one read); tasks: seven + key
    assert reads == 2 + 8


def test_a_quota_stop_lasting_six_runs_leaves_nothing_dead(workdir: Path):
    """The DAILY limit stops writes for six runs, then resets: every owner and task lands, none dies."""
    from leadroute_hubspot.testing import Fault, rate_limit_body

    fake = FakeHubSpot.portal(contacts=250)
    fake.fail("batch_update", Fault(status=429, body=rate_limit_body("DAILY"), times=10_000))
    for index in range(6):
        with fake.installed():
            args = ["route", "--source", "hubspot", "--json"]
            result = runner.invoke(app, args[:1] + (["--init"] if index == 0 else []) + args[1:])
        assert result.exit_code == 4, result.output
        relay = json.loads(result.stdout)["relay"]
        assert relay["dead"] == 0 and relay["pending"] > 0 and relay["quota"]
    fake.heal()
    final = run(fake, "route")
    assert final["relay"]["dead"] == 0 and final["relay"]["pending"] == 0
    stored = decisions(workdir)
    assert owners_in_portal(fake) == {lead: d.owner_id for lead, d in stored.items()}
    assert len(fake.tasks) == len(stored)
    with Store.open(workdir / ".leadroute" / "leadroute.db") as store:
        assert store.outbox_counts() == {"done": len(stored)}
