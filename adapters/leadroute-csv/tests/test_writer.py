"""Writing assignments.csv and exceptions.csv: idempotent, atomic, formula-safe."""

from __future__ import annotations

import csv
import importlib.metadata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadroute.adapters import AdapterConfig, AdapterRegistry
from leadroute.models import Effect, InputProblem
from leadroute.spreadsheet import FORMULA_PREFIXES, safe_cell
from leadroute_csv import plugin


def owner_write(lead_id: str, owner: str, epoch: int = 1) -> Effect:
    decision_id = f"d-{lead_id}-{epoch}"
    return Effect(
        kind="owner_write",
        decision_id=decision_id,
        lead_id=lead_id,
        idem_key=Effect.key_for(decision_id, "owner_write"),
        payload={
            "lead_id": lead_id,
            "owner_id": owner,
            "owner_name": owner.title(),
            "status": "routed",
            "step": "pool",
            "queue": "",
            "rule": "r",
            "pool": "p",
            "reason": "why",
            "policy_version": "1@abc",
            "decided_at": "2026-11-02T09:00:00+00:00",
            "decision_id": decision_id,
            "epoch": epoch,
        },
    )


def read(path):
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_apply_is_idempotent_byte_for_byte(tmp_path, adapter_for):
    """Applying the same owner writes twice leaves assignments.csv byte-identical."""
    adapter = adapter_for(tmp_path)
    effects = [owner_write("L2", "r1"), owner_write("L1", "r2")]
    assert all(r.ok for r in adapter.apply(effects))
    first = adapter.assignments_path.read_bytes()
    assert all(r.ok for r in adapter.apply(effects))
    assert adapter.assignments_path.read_bytes() == first
    assert [row["lead_id"] for row in read(adapter.assignments_path)] == ["L1", "L2"]


def test_newer_epoch_replaces_and_older_is_ignored(tmp_path, adapter_for):
    """A higher epoch replaces a lead's row; a late older epoch does not bring it back."""
    adapter = adapter_for(tmp_path)
    adapter.apply([owner_write("L1", "r1", epoch=2)])
    adapter.apply([owner_write("L1", "r9", epoch=1)])
    assert read(adapter.assignments_path)[0]["owner_id"] == "r1"
    adapter.apply([owner_write("L1", "r3", epoch=3)])
    assert read(adapter.assignments_path)[0]["owner_id"] == "r3"


def test_unknown_effect_kind_fails_without_retry(tmp_path, adapter_for):
    """An effect the CSV adapter cannot perform is refused, not silently dropped."""
    adapter = adapter_for(tmp_path)
    task = Effect(kind="task", decision_id="d", lead_id="L1", idem_key="k", payload={})
    [result] = adapter.apply([task])
    assert (result.ok, result.retryable) == (False, False)
    assert "does not handle 'task'" in result.detail


def test_write_failure_is_retryable(tmp_path, adapter_for):
    """When the output folder cannot be written, owner writes fail as retryable."""
    blocker = tmp_path / "out"
    blocker.write_text("a file, not a folder", encoding="utf-8")
    adapter = adapter_for(tmp_path, output_dir=str(blocker))
    [result] = adapter.apply([owner_write("L1", "r1")])
    assert (result.ok, result.retryable) == (False, True)


def test_exceptions_report(tmp_path, adapter_for):
    """exceptions.csv lists each problem with file, line, kind, id, field, code and message."""
    adapter = adapter_for(tmp_path)
    adapter.report_problems(
        [
            InputProblem(
                file="leads.csv",
                line=7,
                record_id="L7",
                kind="lead",
                field="employees",
                code="BAD_NUMBER",
                message="employees 'x' is not a number",
            )
        ]
    )
    assert read(adapter.exceptions_path) == [
        {
            "file": "leads.csv",
            "line": "7",
            "kind": "lead",
            "record_id": "L7",
            "field": "employees",
            "code": "BAD_NUMBER",
            "message": "employees 'x' is not a number",
        }
    ]


def test_formula_cells_are_escaped_in_outputs(tmp_path, adapter_for):
    """A lead id or reason that would run as a spreadsheet formula is written with a quote."""
    adapter = adapter_for(tmp_path)
    effect = owner_write('=HYPERLINK("http://x")', "r1")
    adapter.apply([effect])
    adapter.apply([effect])  # escaped keys still match on re-apply
    rows = read(adapter.assignments_path)
    assert len(rows) == 1
    assert rows[0]["lead_id"].startswith("'=")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+44 20", "'+44 20"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("  =x", "'  =x"),
        ("＝x", "'＝x"),
        ("acme", "acme"),
        ("", ""),
        (-2, -2),
        (3.5, 3.5),
        (None, ""),
    ],
)
def test_safe_cell_table(value, expected):
    """Dangerous text gets a leading quote; numbers are exempt by type."""
    assert safe_cell(value) == expected


@given(st.text())
def test_safe_cell_never_leaves_a_formula(text):
    """No escaped text cell starts (after spaces) with a formula character."""
    cell = str(safe_cell(text))
    assert not cell.lstrip(" ").startswith(FORMULA_PREFIXES)
    assert cell in (text, "'" + text)


def test_entry_point_registers_a_working_adapter(tmp_path, policy):
    """The csv entry point is installed and its hook registers a factory that builds the adapter."""
    eps = importlib.metadata.entry_points(group="leadroute")
    assert any(ep.name == "csv" and ep.value == "leadroute_csv.plugin" for ep in eps)
    registry = AdapterRegistry()
    plugin.leadroute_register_adapters(registry.register)
    factory = registry.get("csv")
    assert factory is not None
    (tmp_path / "leads.csv").write_text("id,email\nL1,a@b.com\n", encoding="utf-8")
    (tmp_path / "reps.csv").write_text("id\nr1\n", encoding="utf-8")
    adapter = factory(AdapterConfig(policy=policy, options={"input_dir": str(tmp_path)}))
    assert [lead.id for lead in adapter.read().leads] == ["L1"]


def duplicate_effect(kind: str, lead_id: str, **payload: object) -> Effect:
    decision_id = f"d-{lead_id}"
    return Effect(
        kind=kind,
        decision_id=decision_id,
        lead_id=lead_id,
        idem_key=Effect.key_for(decision_id, kind),
        payload={"lead_id": lead_id, "owner_id": "r1", "matched_on": ["email"], **payload},
    )


def test_notify_and_append_effects_are_written_once_each(tmp_path, adapter_for):
    """notify rows go to notifications.csv, append rows to appends.csv; re-applying adds nothing."""
    adapter = adapter_for(tmp_path)
    effects = [
        duplicate_effect("notify", "L2", about_lead_id="L1", message="new demo from L1"),
        duplicate_effect("append", "L3", into_lead_id="L1"),
    ]
    assert all(r.ok for r in adapter.apply(effects))
    assert all(r.ok for r in adapter.apply(effects))
    [note] = read(adapter.notifications_path)
    assert (note["owner_id"], note["lead_id"], note["about_lead_id"], note["matched_on"]) == (
        "r1",
        "L2",
        "L1",
        "email",
    )
    [append] = read(adapter.appends_path)
    assert (append["lead_id"], append["into_lead_id"]) == ("L3", "L1")
