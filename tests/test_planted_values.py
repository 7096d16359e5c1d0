"""The canary scan: planted emails, phone numbers and tokens never reach the store, logs or outputs.

Canary values are planted in every input a run reads (the lead files' every column, a
HubSpot portal's contacts, a Salesforce org's leads) and in every kind of CRM error (a
rejected write quoting the record, a server error that echoes the request). Then every
command a user runs on them (route, report in each format, report exceptions, explain,
rebalance) runs with debug logs, and the store (each table, and the raw bytes of the
database files, where deleted rows linger), the logs, stdout and every file written are
scanned: no planted value may appear.
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner

from leadroute.cli import DEMO_NOW, app
from leadroute.demo import write_demo
from leadroute.normalize import phone_e164

runner = CliRunner()
AT = "2026-11-02T09:00:00Z"
LATER = "2026-11-09T09:00:00Z"
# Planted values: every one contains a marker the scan looks for.
EMAIL = "canary.{n}@canary-mail.example"
TOKEN = "pat-na1-canarytoken-{n:04d}"
BEARER = "Bearer canarytoken{n}"
PHONES = [f"+1 415 555 01{n:02d}" for n in range(100)]
INVALID_PHONE = "415 555 019"  # a digit short: refused, and the refusal must not quote it
MARKERS = ("canary.", "canary-mail", "canarytoken", "Canary ")


def phone_forms(phone: str) -> set[str]:
    """How a planted phone could appear: as written, as digits, in E.164."""
    digits = re.sub(r"\D", "", phone)
    return {phone, digits, "+" + digits, digits[1:] if len(digits) == 11 else digits}


NEEDLES = sorted({*MARKERS, *(f for p in [*PHONES, INVALID_PHONE] for f in phone_forms(p))})


def hits(label: str, text: str) -> list[str]:
    """The planted values found in ``text``, each with where and a little context."""
    found = []
    for needle in NEEDLES:
        at = text.find(needle)
        if at >= 0:
            found.append(f"{label}: {needle!r} in ...{text[max(0, at - 80) : at + 40]!r}")
    return found


def scan_store(path: Path) -> list[str]:
    """Every row of every table, then the raw bytes of the database and its journal files."""
    found: list[str] = []
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):
                found += hits(f"store {table}", " | ".join(map(str, row)))
    for file in path.parent.glob(path.name + "*"):
        if file.suffix != ".key":
            found += hits(f"bytes of {file.name}", file.read_bytes().decode("latin-1"))
    return found


def scan_files(folder: Path, skip: set[str]) -> list[str]:
    """Every file under ``folder`` except the planted inputs and the store."""
    found = []
    for file in sorted(folder.rglob("*")):
        if file.is_file() and file.name not in skip and ".db" not in file.name:
            found += hits(str(file.relative_to(folder)), file.read_text("utf-8", "replace"))
    return found


@pytest.fixture
def cli() -> Iterator[list[str]]:
    """Runs leadroute with debug JSON logs; collects everything it printed (logs included)."""
    printed: list[str] = []
    yield printed
    structlog.reset_defaults()


def run(printed: list[str], *args: str, ok: tuple[int, ...] = (0,)) -> str:
    result = runner.invoke(app, ["-vv", "--log-json", *args])
    structlog.reset_defaults()
    printed.append(result.output)
    assert result.exit_code in ok, result.output[-2000:]
    return result.stdout


def plant_in_lead_files(folder: Path) -> list[str]:
    """Planted values in every column of the demo's leads, plus a free-text notes column."""
    files = write_demo(folder, now=DEMO_NOW)
    with files.leads.open(newline="", encoding="utf-8") as fh:
        leads = list(csv.DictReader(fh))
    header = [*leads[0].keys(), "notes"]
    for n, lead in enumerate(leads):
        if "@" in lead["email"]:
            lead["email"] = "canary." + lead["email"]  # same person, same planted address
        lead["name"] = f"Canary {lead['name']}"
        lead["notes"] = f"call {PHONES[n % 100]}, mail {EMAIL.format(n=n)}, {TOKEN.format(n=n)}"
        if lead["phone"]:
            lead["phone"] = PHONES[n % 100] if n % 5 else INVALID_PHONE
        if n % 7 == 0:
            lead["company"] += f" ({EMAIL.format(n=n)})"
        if n % 11 == 0:
            lead["source"] = BEARER.format(n=n)
        if n % 13 == 0:
            lead["product"] = PHONES[(n + 50) % 100]
        if n % 17 == 0:
            lead["employees"] = EMAIL.format(n=n)
    assert phone_e164(INVALID_PHONE, "US") == ""  # the refusal path is really taken
    with files.leads.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, header)
        writer.writeheader()
        writer.writerows(leads)
    return [str(files.policy)]


def test_planted_values_in_lead_files_reach_nothing(tmp_path, cli):
    """route, report (html, json, csv), report exceptions, explain and rebalance leak nothing."""
    work = tmp_path / "work"
    (policy,) = plant_in_lead_files(work)
    store = work / "store.db"
    common = ["--policy", policy, "--input", str(work), "--store", str(store)]
    routed = json.loads(
        run(cli, "route", "--init", *common, "--out", str(work), "--at", AT, "--json")
    )
    assert routed["counts"]["input"] >= 250 and routed["counts"]["exceptions"] > 0
    for fmt in ("html", "json", "csv"):
        out = work / f"report.{fmt}"
        run(cli, "report", *common, "--at", AT, "--format", fmt, "--out", str(out))
    run(cli, "report", "exceptions", *common, "--at", AT, "--out", str(work / "todo.csv"))
    for lead_id in ("L-0001", "L-0008", "L-0012", "L-0061", "L-0161", "L-0171"):
        run(cli, "explain", lead_id, "--store", str(store), "--json", ok=(0, 2))
        run(cli, "explain", lead_id, "--store", str(store), ok=(0, 2))
    run(cli, "rebalance", *common, "--out", str(work), "--at", LATER, "--diff", str(work / "d.csv"))
    found = scan_store(store) + scan_files(work, {"leads.csv"}) + hits("output", "\n".join(cli))
    assert "dashboard" not in str(work) and (work / "report.html").stat().st_size > 100_000
    assert found == [], "\n".join(found[:20])


def test_planted_values_in_a_hubspot_portal_and_its_errors_reach_nothing(tmp_path, cli):
    """Contacts and HubSpot's error answers carry planted values; the run keeps none of them."""
    from leadroute_hubspot.testing import FakeHubSpot
    from leadroute_hubspot.testing.clock import Fault

    fake = FakeHubSpot.portal(contacts=80, owned=10)
    for n, props in enumerate(fake.contacts.values()):
        props["email"] = EMAIL.format(n=n)
        props["firstname"] = "Canary"
        props["phone"] = PHONES[n % 100] if n % 4 else INVALID_PHONE
        props["company"] = f"Acme {TOKEN.format(n=n)}"
    echo = f"{EMAIL.format(n=999)} {PHONES[99]} {BEARER.format(n=999)} {TOKEN.format(n=999)}"
    fake.fail("search", Fault(502, body={"message": f"gateway echo: {echo}"}))
    fake.fail(
        "batch_update",
        # Enough refusals for the adapter's batch splitting to reach single contacts.
        Fault(
            400, body={"status": "error", "category": "VALIDATION_ERROR", "message": echo}, times=8
        ),
    )
    fake.fail("task_create", Fault(500, body={"message": f"oops {echo}"}, times=20))
    work = tmp_path / "work"
    work.mkdir()
    (work / "leadroute.yaml").write_text(HUBSPOT_POLICY, encoding="utf-8")
    store = work / "store.db"
    with fake.installed():
        args = ["--policy", str(work / "leadroute.yaml"), "--source", "hubspot"]
        run(cli, "route", "--init", *args, "--store", str(store), "--out", str(work), "--json")
        run(cli, "relay", "--store", str(store), *args, ok=(0, 1))
        run(cli, "report", "exceptions", *args, "--store", str(store), "--at", AT, "--json")
    with sqlite3.connect(store) as db:
        errors = [r[0] for r in db.execute("SELECT last_error FROM outbox WHERE last_error != ''")]
    assert any("[redacted]" in e for e in errors)  # the echoed errors were really stored
    found = scan_store(store) + scan_files(work, set()) + hits("output", "\n".join(cli))
    assert found == [], "\n".join(found[:20])


HUBSPOT_POLICY = """
version: "hs-planted"
regions: {NA: [US, CA], EMEA: [DE, GB, FR]}
pools:
  - {name: na, strategy: round_robin}
  - {name: emea, strategy: round_robin}
routing:
  - {name: na, when: {region: NA}, pool: na}
  - {name: emea, when: {region: EMEA}, pool: emea}
fallback: {owner: "900", queue: unrouted, escalate_after: 4h}
adapters:
  hubspot:
    tasks: {enabled: true, due_after: 2h}
"""

SALESFORCE_POLICY = """
version: "sf-planted"
pools: [{{name: all, strategy: round_robin}}]
routing: [{{name: all, pool: all}}]
fallback: {{owner: "{owner}"}}
adapters:
  salesforce:
    login_url: {login_url}
    fields: {{leads: {{phone: Phone}}}}
    tasks: true
"""


def test_planted_values_in_a_salesforce_org_and_its_errors_reach_nothing(
    tmp_path, cli, monkeypatch
):
    """Leads and Salesforce's per-record and server errors carry planted values; none is kept."""
    from leadroute_salesforce.testing import FakeSalesforce, make_key_pair, populate

    private_key, public_key = make_key_pair()
    fake = FakeSalesforce(public_key=public_key)
    org = populate(fake, leads=80, owned=10, users=6, inactive=1, accounts=5)
    for n, lead_id in enumerate(org.waiting_leads):
        lead = fake.objects["Lead"][lead_id]
        lead["Email"] = EMAIL.format(n=n)
        lead["Name"] = f"Canary Person {n}"
        lead["Phone"] = PHONES[n % 100] if n % 4 else INVALID_PHONE
        lead["Company"] = f"Acme {EMAIL.format(n=n + 500)}"
        if n % 9 == 0:
            echo = (
                f"Phone {PHONES[n % 100]} of {EMAIL.format(n=n)} failed rule {BEARER.format(n=n)}"
            )
            fake.fail_record(lead_id, "FIELD_CUSTOM_VALIDATION_EXCEPTION", echo, times=10)
    echo = f"{EMAIL.format(n=998)} {PHONES[98]} {TOKEN.format(n=998)}"
    fake.fail("query", 503, body=[{"errorCode": "SERVER_UNAVAILABLE", "message": echo}])
    work = tmp_path / "work"
    work.mkdir()
    policy = work / "leadroute.yaml"
    policy.write_text(
        SALESFORCE_POLICY.format(owner=org.active_users[0], login_url=fake.login_url),
        encoding="utf-8",
    )
    monkeypatch.setenv("LEADROUTE_SALESFORCE_CLIENT_ID", fake.client_id)
    monkeypatch.setenv("LEADROUTE_SALESFORCE_USERNAME", fake.username)
    monkeypatch.setenv("LEADROUTE_SALESFORCE_PRIVATE_KEY", private_key)
    store = work / "store.db"
    with fake.router:
        args = ["--policy", str(policy), "--source", "salesforce", "--store", str(store)]
        run(cli, "route", "--init", *args, "--out", str(work), "--json")
    with sqlite3.connect(store) as db:
        errors = [r[0] for r in db.execute("SELECT last_error FROM outbox WHERE last_error != ''")]
    assert any("[redacted]" in e for e in errors)
    found = scan_store(store) + scan_files(work, set()) + hits("output", "\n".join(cli))
    assert found == [], "\n".join(found[:20])
