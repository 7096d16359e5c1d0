"""The command line as a user drives it: demo, route, explain, check-policy, plugins."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadroute.cli import DEMO_NOW, app
from leadroute.context import RoutingContext
from leadroute.demo import EDGE_CASES
from leadroute.host import make_host
from leadroute.models import DecisionStatus, RouteStep
from leadroute.policy import load_policy
from leadroute.store import Store

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    """One demo run shared by the demo tests (it routes a few hundred leads)."""
    out = tmp_path_factory.mktemp("demo")
    result = invoke("demo", "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    (out / "first-run.json").write_text(result.stdout)
    return out


def demo_counts(demo_dir: Path) -> dict:
    return json.loads((demo_dir / "first-run.json").read_text())["counts"]


def test_demo_counts_add_up(demo_dir):
    """The demo's JSON counts satisfy input = routed + fallback + exceptions, and rows match."""
    c = demo_counts(demo_dir)
    assert c["input"] == c["routed"] + c["fallback"] + c["exceptions"]
    assert c["input"] >= 250
    lead_rows = rows(demo_dir / "leads.csv")
    assert c["input"] == len(lead_rows)
    assigned = rows(demo_dir / "assignments.csv")
    appended = rows(demo_dir / "appends.csv")
    # A duplicate appended to its known record gets no owner write of its own.
    assert len(assigned) + len(appended) == c["routed"] + c["fallback"]
    assert c["duplicates_by_action"].get("append", 0) == len(appended)
    rejected = {
        r["record_id"] or r["line"]
        for r in rows(demo_dir / "exceptions.csv")
        if r["kind"] == "lead"
    }
    assert len(rejected) == c["exceptions"]


def test_demo_never_assigns_inactive_reps_or_breaks_constraints(demo_dir):
    """No demo lead is owned by an inactive rep, and every pool decision satisfies its constraints."""
    policy = load_policy(demo_dir / "leadroute.yaml")
    host = make_host(load_entrypoints=False)
    from leadroute.adapters import AdapterConfig
    from leadroute_csv.adapter import CsvAdapter

    snap = CsvAdapter.from_config(
        AdapterConfig(policy=policy, options={"input_dir": str(demo_dir)}, workdir=demo_dir)
    ).read()
    reps = {r.id: r for r in snap.reps}
    leads = {
        lead.id: host.enrich_lead(host.normalize_lead(lead, policy), policy) for lead in snap.leads
    }
    with Store.open(demo_dir / ".leadroute" / "leadroute.db") as store:
        decisions = store.current_decisions()
    assert decisions
    for d in decisions.values():
        owner = reps[d.owner_id]
        assert owner.active, d
        if d.step != RouteStep.POOL:
            continue
        rule = next(r for r in policy.routing if r.name == d.rule)
        ctx = RoutingContext(
            at=DEMO_NOW,
            policy=policy,
            loads={},
            constraints=tuple(policy.constraints_for(rule)),
            rule=rule.name,
        )
        assert host.exclude_rep(leads[d.lead_id], owner, ctx) == [], d
        winner = d.candidates[0]
        assert winner.capacity is None or winner.load < winner.capacity


def test_demo_edge_cases_land_where_the_policy_says(demo_dir):
    """Each deliberate edge case of the sample company ends at the step the policy prescribes."""
    with Store.open(demo_dir / ".leadroute" / "leadroute.db") as store:
        decisions = store.current_decisions()
    exceptions = {(r["record_id"], r["code"]) for r in rows(demo_dir / "exceptions.csv")}
    reps = {r["id"]: r for r in rows(demo_dir / "reps.csv")}

    def one(case: str):
        return [decisions[i] for i in EDGE_CASES[case]]

    for d in one("free_email_demo"):
        assert d.status == DecisionStatus.ROUTED and not d.account_id
    for d in one("existing_customer"):
        assert d.step == RouteStep.ACCOUNT_OWNER
    for d in one("inactive_account_owner"):
        assert d.step == RouteStep.BACKUP and "REP_INACTIVE" in d.reason
    for d in one("unknown_country"):
        assert d.status == DecisionStatus.FALLBACK and d.queue
    for d in one("german_speaker"):
        assert "de" in reps[d.owner_id]["languages"].split(";")
    for d in one("partner"):
        assert d.pool == "partners"
    for d in one("already_owned"):
        assert d.step == RouteStep.CURRENT_OWNER
    for d in one("owned_by_inactive"):
        assert d.step != RouteStep.CURRENT_OWNER
        assert reps[d.owner_id]["active"].lower() in {"true", "yes", "1", ""}
    for case, code in (
        ("missing_email", "MISSING_FIELD"),
        ("bad_employees", "BAD_NUMBER"),
        ("unknown_owner", "UNKNOWN_OWNER"),
    ):
        for lead_id in EDGE_CASES[case]:
            assert lead_id not in decisions
            assert (lead_id, code) in exceptions


def test_demo_intake_edge_cases_land_where_the_policy_says(demo_dir):
    """Intake-quality cases: normalized, flagged, nurtured, MQL-routed or rejected as the policy says."""
    with Store.open(demo_dir / ".leadroute" / "leadroute.db") as store:
        decisions = store.current_decisions()
    exceptions = {(r["record_id"], r["kind"], r["code"]) for r in rows(demo_dir / "exceptions.csv")}

    def codes(lead_id: str) -> set[str]:
        return {p.code for p in decisions[lead_id].problems}

    for lead_id in EDGE_CASES["free_email_demo"]:
        assert codes(lead_id) == {"FREE_MAIL_ON_BUSINESS_FORM"}
        assert decisions[lead_id].lead_type == "demo" and decisions[lead_id].priority == 1
    for lead_id in (*EDGE_CASES["uk_phone"], *EDGE_CASES["uk_spellings"]):
        d = decisions[lead_id]
        assert codes(lead_id) == set(), d.problems
        assert d.features["country"] == "GB" and d.rule == "emea-smb"
    [mql] = [decisions[i] for i in EDGE_CASES["crosses_mql"]]
    assert (mql.lead_type, mql.lifecycle_stage, mql.step) == ("content", "mql", RouteStep.POOL)
    [cold] = [decisions[i] for i in EDGE_CASES["content_nurture"]]
    assert (cold.step, cold.queue, cold.owner_id) == (RouteStep.NURTURE, "nurture", "rep-098")
    assert ("L-0142", "event", "BAD_DATE") in exceptions
    for lead_id in EDGE_CASES["unknown_source"]:
        assert codes(lead_id) == {"UNKNOWN_SOURCE"} and decisions[lead_id].step == RouteStep.POOL
    for lead_id in EDGE_CASES["bad_phone"]:
        assert codes(lead_id) == {"INVALID_PHONE"} and decisions[lead_id].step == RouteStep.POOL
    for lead_id in EDGE_CASES["invalid_email"]:
        assert lead_id not in decisions and (lead_id, "lead", "INVALID_EMAIL") in exceptions
    assert all(d.sla_due_at and d.sla_due_at > d.decided_at for d in decisions.values())
    c = demo_counts(demo_dir)
    # The dashboard's definition: rejected, fallback or flagged for review, over the input.
    assert c["needs_human"] == c["rejected"] + c["fallback"] + sum(
        1 for d in decisions.values() if d.status == "routed" and d.problems
    )
    assert c["exception_rate"] == round(c["needs_human"] / c["input"], 4)
    written = {r["lead_id"]: r for r in rows(demo_dir / "assignments.csv")}
    assert written["L-0141"]["lifecycle_stage"] == "mql"
    assert written["L-0011"]["sla_due_at"] == "2026-11-02T14:00:00+00:00"
    assert (written["L-0011"]["lead_type"], written["L-0011"]["priority"]) == ("demo", "1")


def test_demo_duplicates_share_one_owner_with_the_policys_actions(demo_dir):
    """Demo duplicates (case, +tag, a phone written two ways) end with one owner each."""
    with Store.open(demo_dir / ".leadroute" / "leadroute.db") as store:
        decisions = store.current_decisions()
    first, contact, content = (decisions[i] for i in EDGE_CASES["duplicate_email"])
    assert first.owner_id == contact.owner_id == content.owner_id
    assert contact.duplicate and contact.duplicate.action == "notify_owner"
    assert content.duplicate and content.duplicate.action == "append"
    earlier, demo = (decisions[i] for i in EDGE_CASES["duplicate_phone"])
    assert demo.duplicate and (demo.duplicate.action, demo.duplicate.matched_on) == (
        "reassign",
        ("phone",),
    )
    assert earlier.owner_id == demo.owner_id and earlier.duplicate.role == "follower"
    notified = rows(demo_dir / "notifications.csv")
    assert [(n["lead_id"], n["owner_id"]) for n in notified] == [
        (contact.lead_id, contact.owner_id)
    ]
    c = demo_counts(demo_dir)
    assert c["duplicates"] == 3 and c["duplicate_rate"] == round(3 / c["input"], 4)


def test_demo_account_matches_use_domain_subdomain_and_name(demo_dir):
    """A subdomain email matches by domain; a name-only and a gmail lead match by name only."""
    with Store.open(demo_dir / ".leadroute" / "leadroute.db") as store:
        decisions = store.current_decisions()
    accounts = {a["id"]: a for a in rows(demo_dir / "accounts.csv")}
    [sub] = (decisions[i] for i in EDGE_CASES["subdomain_account"])
    assert sub.step == RouteStep.ACCOUNT_OWNER
    assert sub.account_method == f"email_domain:{accounts[sub.account_id]['domain']}"
    for case in ("name_only_account", "gmail_customer"):
        [d] = (decisions[i] for i in EDGE_CASES[case])
        assert d.step == RouteStep.ACCOUNT_OWNER, case
        assert d.account_method.startswith("company_name:"), case
        assert d.owner_id == accounts[d.account_id]["owner"]


def test_demo_summary_shows_the_duplicate_rate(tmp_path):
    """The human summary of the demo states how many leads were duplicates, as a rate."""
    result = invoke("demo", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "3 duplicates (1.0%)" in " ".join(result.stdout.split())


def test_demo_rerun_replays_and_changes_nothing(demo_dir):
    """Running the demo again in the same folder replays every decision and rewrites identical files."""
    before = (demo_dir / "assignments.csv").read_bytes()
    result = invoke("demo", "--out", str(demo_dir), "--json")
    assert result.exit_code == 0
    c = json.loads(result.stdout)["counts"]
    first = demo_counts(demo_dir)
    assert c["new"] == 0
    assert c["replayed"] == first["routed"] + first["fallback"]
    assert (demo_dir / "assignments.csv").read_bytes() == before


def test_demo_human_summary(tmp_path):
    """Without --json the demo prints the totals, the step and rep tables and an explain hint."""
    result = invoke("demo", "--out", str(tmp_path))
    assert result.exit_code == 0
    assert "leads:" in result.stdout and "By route step" in result.stdout
    assert "By rep" in result.stdout and "leadroute explain" in result.stdout


def test_explain_says_why_and_why_not(demo_dir):
    """explain names the owner, the path, each rep considered and why the winner beat the runner-up."""
    store = demo_dir / ".leadroute" / "leadroute.db"
    with Store.open(store) as opened:
        lead_id = next(
            d.lead_id
            for d in opened.current_decisions().values()
            if len(d.candidates) >= 2 and d.exclusions
        )
    result = invoke("explain", lead_id, "--store", str(store))
    assert result.exit_code == 0
    text = result.stdout
    assert f"Lead {lead_id} ->" in text and "Route path:" in text
    assert "Candidates in pool" in text and "Excluded:" in text and "Why " in text
    data = json.loads(invoke("explain", lead_id, "--store", str(store), "--json").stdout)
    assert data["decision"]["lead_id"] == lead_id


def test_explain_shows_problems_type_sla_and_score_parts(demo_dir):
    """explain lists a lead's validation problems, its type with deadline and its score's parts."""
    store = str(demo_dir / ".leadroute" / "leadroute.db")
    gmail = invoke("explain", "L-0011", "--store", store).stdout
    assert "Problem: FREE_MAIL_ON_BUSINESS_FORM on email:" in gmail and "(flag)" in gmail
    assert "Type: demo (priority 1), first touch due 2026-11-02T14:00+00:00" in gmail
    mql = invoke("explain", "L-0141", "--store", store).stdout
    assert "Score: 61.21 (mql)" in mql
    assert "+40 demo-request [intent]: 1 x demo_request" in mql
    assert "+21.21 pricing-page [behaviour]: 2 x pricing_page, 30 decayed to 21.2" in mql
    data = json.loads(invoke("explain", "L-0141", "--store", store, "--json").stdout)
    assert data["decision"]["lifecycle_stage"] == "mql"
    assert data["decision"]["score_contributions"][0]["name"] == "demo-request"


def test_explain_unknown_lead_is_one_line_exit_2(demo_dir):
    """Explaining an unknown lead prints one error line and exits 2."""
    result = runner.invoke(
        app, ["explain", "NOPE", "--store", str(demo_dir / ".leadroute" / "leadroute.db")]
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: no decision recorded for lead 'NOPE'"


def test_route_with_a_user_policy_and_csv_folder(demo_dir, tmp_path, store_location):
    """route reads a folder of CSVs with a policy file into a new store (a SQLite path or a
    PostgreSQL URL) and writes outputs to --out."""
    out = tmp_path / "out"
    result = invoke(
        "route",
        "--init",
        "--policy",
        str(demo_dir / "leadroute.yaml"),
        "--input",
        str(demo_dir),
        "--out",
        str(out),
        "--store",
        store_location,
        "--at",
        "2026-11-02T09:00:00Z",
        "--json",
    )
    assert result.exit_code == 0, result.output
    c = json.loads(result.stdout)["counts"]
    assert c["input"] == demo_counts(demo_dir)["input"]
    assert (out / "assignments.csv").exists() and (out / "exceptions.csv").exists()
    with Store.open(store_location, create=False) as opened:
        assert len(opened.current_decisions()) == c["routed"] + c["fallback"]


def test_malformed_csv_is_one_line_exit_2(demo_dir, tmp_path):
    """A leads file without an id column stops with one line naming the file, exit code 2."""
    (tmp_path / "leads.csv").write_text("email,company\na@b.com,B\n", encoding="utf-8")
    (tmp_path / "reps.csv").write_bytes((demo_dir / "reps.csv").read_bytes())
    result = runner.invoke(
        app,
        [
            "route",
            "--init",
            "--policy",
            str(demo_dir / "leadroute.yaml"),
            "--input",
            str(tmp_path),
            "--store",
            str(tmp_path / "s.db"),
        ],
    )
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ") and "leads.csv" in lines[0] and "id" in lines[0]


def test_malformed_policy_is_one_line_exit_2(tmp_path):
    """check-policy on a policy with an unknown operator prints one line with its path, exit 2."""
    bad = tmp_path / "leadroute.yaml"
    bad.write_text(
        "version: '1'\nfallback: {owner: ops}\npools: [{name: p}]\nrouting:\n"
        "  - {name: r, pool: p, when: {country: {equals: US}}}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["check-policy", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {bad}: routing[0].when.country: unknown operator 'equals' (expected one of: "
        "in, not_in, prefix, eq, ne, gte, gt, lte, lt, exists)"
    ]
    as_json = runner.invoke(app, ["check-policy", str(bad), "--json"])
    assert as_json.exit_code == 2 and json.loads(as_json.stdout)["valid"] is False


def test_check_policy_valid(demo_dir):
    """A valid policy exits 0 and reports its version."""
    result = invoke("check-policy", str(demo_dir / "leadroute.yaml"), "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["valid"] is True and data["rules"] >= 5


def test_policy_schema_is_json_schema():
    """policy schema prints a JSON Schema document."""
    data = json.loads(invoke("policy", "schema").stdout)
    assert data["$schema"].endswith("2020-12/schema")
    assert "routing" in data["properties"]


def test_policy_schema_takes_json_like_every_command():
    """policy schema --json is not a usage error: it prints the same schema."""
    result = invoke("policy", "schema", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json.loads(invoke("policy", "schema").stdout)


def test_a_corrupt_store_exits_2_with_one_line(tmp_path):
    """explain on a store file that is not a database: one line, exit 2 (a user mistake)."""
    path = tmp_path / "s.db"
    path.write_bytes(b"garbage, not sqlite " * 50)
    result = runner.invoke(app, ["explain", "L-1", "--store", str(path)])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: cannot open store {path}: file is not a database"
    ]


def test_plugins_lists_builtins_hooks_and_the_csv_adapter():
    """plugins --json lists built-in plugins with their hooks and the installed csv adapter."""
    data = json.loads(invoke("plugins", "--json").stdout)
    names = {p["name"]: p for p in data["plugins"]}
    assert names["leadroute.builtins.eligibility"]["hooks"] == ["leadroute_exclude_reps"]
    assert "csv" in data["adapters"] and data["failed"] == []
    assert "Plugins" in invoke("plugins").stdout


def test_unknown_source_is_exit_2(demo_dir):
    """Asking for an adapter that is not installed is a one-line error with exit code 2."""
    result = runner.invoke(
        app, ["route", "--policy", str(demo_dir / "leadroute.yaml"), "--source", "nosuchcrm"]
    )
    assert result.exit_code == 2
    assert "no adapter named 'nosuchcrm'" in result.stderr


def test_bad_at_is_exit_2(demo_dir):
    """An unparseable --at names the flag and exits 2."""
    result = runner.invoke(
        app,
        [
            "route",
            "--policy",
            str(demo_dir / "leadroute.yaml"),
            "--input",
            str(demo_dir),
            "--at",
            "yesterday",
        ],
    )
    assert result.exit_code == 2
    assert "--at: 'yesterday' is not an ISO-8601 date-time" in result.stderr


def test_rebalance_on_the_demo_dry_run_then_apply_twice(tmp_path):
    """Three days on: a dry run shows a diff and writes nothing; a second apply moves nothing."""
    assert invoke("demo", "--out", str(tmp_path), "--json").exit_code == 0
    args = [
        "rebalance",
        "--policy",
        str(tmp_path / "leadroute.yaml"),
        "--input",
        str(tmp_path),
        "--store",
        str(tmp_path / ".leadroute" / "leadroute.db"),
        "--at",
        "2026-11-05T09:00:00Z",
        "--json",
    ]
    dry = json.loads(invoke(*args, "--dry-run").stdout)
    assert dry["counts"]["moves"] > 0 and dry["counts"]["applied"] == 0
    assert dry["solver"]["status"] == "OPTIMAL"
    diff = rows(tmp_path / "rebalance-diff.csv")
    assert len(diff) == dry["counts"]["moves"]
    assert all(r["from_owner"] != r["to_owner"] for r in diff)
    first = json.loads(invoke(*args).stdout)
    assert first["counts"]["applied"] == dry["counts"]["moves"]
    second = json.loads(invoke(*args).stdout)
    assert second["counts"]["applied"] == 0 and second["counts"]["moves"] == 0
    moved = {r["lead_id"]: r["to_owner"] for r in diff}
    assigned = {r["lead_id"]: r for r in rows(tmp_path / "assignments.csv")}
    assert all(
        assigned[lead_id]["owner_id"] == owner and assigned[lead_id]["epoch"] == "2"
        for lead_id, owner in moved.items()
    )
    human = invoke(*args[:-1], "--dry-run")
    assert "owned leads considered" in human.stdout


def _demo_copy(demo_dir: Path, tmp_path: Path) -> Path:
    """The demo's input files in a fresh folder (no store, no outputs)."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("leadroute.yaml", "leads.csv", "reps.csv", "accounts.csv", "events.csv"):
        (folder / name).write_bytes((demo_dir / name).read_bytes())
    return folder


def _edit_rep(folder: Path, rep_id: str, **cells: str) -> int:
    """Change cells of one rep row in reps.csv; returns the row's line number."""
    path = folder / "reps.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    header = table[0]
    line = next(i for i, row in enumerate(table) if row[0] == rep_id) + 1
    for column, value in cells.items():
        if column not in header:
            header.append(column)
            for row in table[1:]:
                row.append("")
        table[line - 1][header.index(column)] = value
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(table)
    return line


def _route(folder: Path, *extra: str):
    return runner.invoke(
        app,
        [
            "route",
            "--init",
            "--policy",
            str(folder / "leadroute.yaml"),
            "--input",
            str(folder),
            "--store",
            str(folder / "s.db"),
            "--at",
            "2026-11-02T09:00:00Z",
            *extra,
        ],
    )


def test_an_unusable_fallback_owner_is_named_with_the_reason(demo_dir, tmp_path):
    """A fallback owner left out for a bad cell is reported as unusable, with every bad cell."""
    folder = _demo_copy(demo_dir, tmp_path)
    line = _edit_rep(folder, "rep-099", active="maybe", capacity="ten")
    result = _route(folder)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: fallback.owner: rep 'rep-099' is unusable: reps.csv:{line}: active 'maybe' "
        "is not true or false; capacity 'ten' is not a number"
    ]


def test_a_bad_time_zone_on_the_fallback_owner_costs_nothing(demo_dir, tmp_path):
    """The fallback owner with a bad time zone (and no hours) is kept, and the cell flagged."""
    folder = _demo_copy(demo_dir, tmp_path)
    line = _edit_rep(folder, "rep-099", timezone="Mars/Olympus")
    result = _route(folder, "--json")
    assert result.exit_code == 0, result.stderr
    counts = json.loads(result.stdout)["counts"]
    assert counts["fallback"] == demo_counts(demo_dir)["fallback"]
    flagged = [r for r in rows(folder / "exceptions.csv") if r["code"] == "BAD_TIMEZONE"]
    assert [(r["line"], r["record_id"]) for r in flagged] == [(str(line), "rep-099")]
    assert "ignored, UTC used instead" in flagged[0]["message"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "adapters: {csv: {columns: {leads: {favourite: Colour}}}}",
            "adapters.csv.columns.leads.favourite: unknown field",
        ),
        ("adapters: {hubspott: {}}", "did you mean 'hubspot'?"),
        ("routing:\n  - {name: again, pool: p}", "routing: appears twice"),
    ],
)
def test_check_policy_catches_what_would_fail_later(tmp_path, extra, message):
    """A column mapped to no field, an adapter typo or a doubled key fails check-policy, not the run."""
    bad = tmp_path / "leadroute.yaml"
    bad.write_text(
        "version: '1'\nfallback: {owner: ops}\npools: [{name: p}]\n"
        f"routing:\n  - {{name: r, pool: p}}\n{extra}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["check-policy", str(bad)])
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {bad}: ") and message in line


def test_check_policy_prints_warnings_for_names_nothing_knows(tmp_path):
    """A fit weight and a region nothing defines are printed as warnings naming the path; exit 0."""
    policy = tmp_path / "leadroute.yaml"
    policy.write_text(
        "version: '1'\nfallback: {owner: ops}\npools: [{name: p}]\nregions: {NA: [US]}\n"
        "fit: {weights: {intnet: 2}}\nrouting:\n  - {name: r, pool: p, when: {region: EMEA}}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["check-policy", str(policy)])
    assert result.exit_code == 0
    warnings = result.stderr.strip().splitlines()
    assert [w.split(": ")[2] for w in warnings] == ["fit.weights.intnet", "routing[0].when.region"]
    assert all(w.startswith(f"warning: {policy}: ") for w in warnings)
    assert "2 warning(s)" in result.stdout
    data = json.loads(runner.invoke(app, ["check-policy", str(policy), "--json"]).stdout)
    assert data["valid"] is True and len(data["warnings"]) == 2


ARRIVAL_POLICY = """
version: "arrival"
pools: [{name: all, strategy: round_robin}]
routing: [{name: all, pool: all}]
fallback: {owner: ops}
"""


def arrival_folder(tmp_path: Path) -> Path:
    (tmp_path / "leadroute.yaml").write_text(ARRIVAL_POLICY, encoding="utf-8")
    (tmp_path / "reps.csv").write_text("id,pools\na,all\nb,all\nops,\n", encoding="utf-8")
    (tmp_path / "leads.csv").write_text(
        "id,email,country,created_at\n"
        "L2,two@acme.io,US,2026-11-02T08:30:00Z\n"
        "L1,one@acme.io,US,2026-11-02T08:00:00Z\n"
        "L3,three@acme.io,US,2026-11-02T11:00:00Z\n",
        encoding="utf-8",
    )
    return tmp_path


def test_route_arrival_replays_a_day_as_the_leads_came_in(tmp_path):
    """``route --arrival --at T`` decides each lead at its own created time, in arrival
    order, and leaves a lead created after T for a later run."""
    folder = arrival_folder(tmp_path)
    common = ("--policy", str(folder / "leadroute.yaml"), "--input", str(folder))
    store = str(tmp_path / "s.db")
    first = invoke(
        "route", *common, "--init", "--store", store, "--arrival",
        "--at", "2026-11-02T10:00:00Z", "--json",
    )  # fmt: skip
    assert first.exit_code == 0, first.output
    counts = json.loads(first.stdout)["counts"]
    assert (counts["input"], counts["waiting"]) == (2, 1)
    with Store.open(store, create=False) as opened:
        decided = {k: d.decided_at.isoformat() for k, d in opened.current_decisions().items()}
    assert decided == {"L1": "2026-11-02T08:00:00+00:00", "L2": "2026-11-02T08:30:00+00:00"}
    later = invoke("route", *common, "--store", store, "--at", "2026-11-02T12:00:00Z")
    assert later.exit_code == 0, later.output
    assert "wait for a later run" not in later.stdout
    with Store.open(store, create=False) as opened:
        assert opened.current_decision("L3").decided_at.isoformat() == "2026-11-02T12:00:00+00:00"


def test_route_without_arrival_says_which_leads_wait(tmp_path):
    """Without --arrival every lead created by --at is decided at --at; later ones wait, and
    the summary says so."""
    folder = arrival_folder(tmp_path)
    result = invoke(
        "route", "--policy", str(folder / "leadroute.yaml"), "--input", str(folder),
        "--init", "--store", str(tmp_path / "s.db"), "--at", "2026-11-02T10:00:00Z",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 lead(s) created after the run's time wait for a later run" in result.stdout


def test_route_arrival_and_batch_do_not_mix(tmp_path):
    """--arrival decides one lead at a time; with --batch it is one clear line, exit 2."""
    folder = arrival_folder(tmp_path)
    result = runner.invoke(
        app,
        ["route", "--policy", str(folder / "leadroute.yaml"), "--input", str(folder),
         "--init", "--store", str(tmp_path / "s.db"), "--arrival", "--batch"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--arrival decides leads one by one as they arrive; drop --batch" in result.stderr
