"""The store: migrations, atomic decision records, idempotency, loads, ledger, runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest
import sqlalchemy as sa

from leadroute.errors import StoreError
from leadroute.models import (
    Candidate,
    Decision,
    DecisionStatus,
    Effect,
    Exclusion,
    FitContribution,
    Problem,
    RouteStep,
    decision_id_for,
)
from leadroute.rotation import LedgerTurn
from leadroute.store import LedgerEntry, Store, schema
from leadroute.store.codec import decision_from_json, decision_to_json

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def decision(lead_id: str = "L1", owner: str = "r1", epoch: int = 1, **kw) -> Decision:
    return Decision(
        id=decision_id_for(lead_id, epoch),
        lead_id=lead_id,
        epoch=epoch,
        status=DecisionStatus.ROUTED,
        owner_id=owner,
        step=RouteStep.POOL,
        policy_version="1@abc",
        decided_at=AT,
        **kw,
    )


def effect(d: Decision, kind: str = "owner_write") -> Effect:
    return Effect(
        kind=kind,
        decision_id=d.id,
        lead_id=d.lead_id,
        idem_key=Effect.key_for(d.id, kind),
        payload={"owner_id": d.owner_id},
    )


def test_decision_json_round_trip():
    """Every field of a decision survives the audit payload, datetimes aware and in UTC."""
    full = Decision(
        id="x",
        lead_id="L1",
        epoch=2,
        status=DecisionStatus.FALLBACK,
        owner_id="ops",
        queue="unrouted",
        step=RouteStep.FALLBACK,
        route_path=("rule:none", "fallback:unrouted"),
        rule="r",
        pool="p",
        strategy="weighted",
        account_id="A1",
        account_method="domain:a.com",
        candidates=(
            Candidate(
                rep_id="r1",
                fit=1.5,
                load=3,
                capacity=10,
                rank=1,
                reason="why",
                contributions=(FitContribution(name="language", value=1.0, detail="de listed"),),
            ),
        ),
        exclusions=(Exclusion(rep_id="r2", code="ON_LEAVE", detail="until 2026-12-02"),),
        problems=(Problem(code="MISSING_FIELD", field="email", message="m", action="flag"),),
        reason="because",
        policy_version="1@abc",
        decided_at=datetime(2026, 11, 2, 10, 0, tzinfo=UTC) + timedelta(microseconds=5),
        escalate_at=AT + timedelta(hours=4),
        features={"region": "EMEA"},
    )
    back = decision_from_json(decision_to_json(full))
    assert back == full
    assert back.decided_at.tzinfo is not None and back.decided_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused():
    """A decision with a naive timestamp cannot be written to the audit trail."""
    naive = Decision(
        id="x",
        lead_id="L",
        status=DecisionStatus.ROUTED,
        owner_id="r",
        step=RouteStep.POOL,
        policy_version="1",
        decided_at=datetime(2026, 1, 1),  # noqa: DTZ001 - the point of the test
    )
    with pytest.raises(ValueError, match="naive datetime"):
        decision_to_json(naive)


def test_record_is_idempotent(store: Store):
    """Recording the same decision twice writes one row and one outbox effect."""
    d = decision()
    assert store.record(d, [effect(d)]) is True
    assert store.record(d, [effect(d)]) is False
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.decisions)).scalar() == 1
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.outbox)).scalar() == 1


def test_record_is_atomic(store: Store):
    """If the outbox insert fails, the decision is not written either."""
    first = decision("L1")
    store.record(first, [effect(first)])
    second = decision("L2")
    clash = Effect(
        kind="owner_write",
        decision_id=second.id,
        lead_id="L2",
        idem_key=effect(first).idem_key,
        payload={},
    )
    with pytest.raises(sa.exc.IntegrityError):
        store.record(second, [clash])
    assert store.current_decision("L2") is None


def test_current_decision_is_the_latest_epoch(store: Store):
    """The current decision of a lead is its highest epoch, and loads count only that one."""
    store.record(decision("L1", "r1", epoch=1), [])
    store.record(decision("L1", "r2", epoch=2), [])
    store.record(decision("L2", "r1"), [])
    assert store.current_decision("L1").owner_id == "r2"  # type: ignore[union-attr]
    assert {k: v.owner_id for k, v in store.current_decisions().items()} == {"L1": "r2", "L2": "r1"}


def test_ledger_turns_add_up_and_the_sequence_follows_the_highest_turn(store: Store):
    """Each decision's turn is applied to the ledger row it touches; the sequence is the highest."""
    d1, d2 = decision("L1"), decision("L2")
    store.record(d1, [], [LedgerTurn(pool="p", rep_id="r1", seq=1)])
    store.record(d2, [], [LedgerTurn(pool="p", rep_id="r1", seq=2, prior_seq=1)])
    assert store.load_ledger() == {
        ("p", "r1"): LedgerEntry(pool="p", rep_id="r1", assigned=2, last_seq=2, level=2.0)
    }
    assert store.max_sequence() == 2


def test_ledger_levels_round_trip(store: Store):
    """The fair-share level and its time are stored with the entry and read back as UTC."""
    when = datetime(2026, 11, 2, 9, tzinfo=UTC)
    turn = LedgerTurn(pool="p", rep_id="r1", seq=7, gain=0.125, at=when)
    store.record(decision("L1"), [], [turn])
    assert store.load_ledger() == {
        ("p", "r1"): LedgerEntry(
            pool="p", rep_id="r1", assigned=1, last_seq=7, level=0.125, level_at=when
        )
    }


def test_reopening_keeps_data(tmp_path):
    """Opening an existing store runs no migration twice and keeps its decisions."""
    path = tmp_path / "s.db"
    with Store.open(path) as store:
        store.record(decision(), [])
    with Store.open(path) as store:
        assert store.current_decision("L1") is not None


def test_migration_matches_the_schema(tmp_path):
    """The Alembic migration creates exactly the tables and columns schema.py declares."""
    with Store.open(tmp_path / "s.db") as store:
        inspector = sa.inspect(store.engine)
        for table in schema.metadata.sorted_tables:
            migrated = {c["name"] for c in inspector.get_columns(table.name)}
            assert migrated == {c.name for c in table.columns}, table.name
        assert set(inspector.get_table_names()) - {"alembic_version"} == set(schema.metadata.tables)


def test_sqlite_runs_in_wal_mode(tmp_path):
    """The embedded store uses WAL so readers never block the writer."""
    with Store.open(tmp_path / "s.db") as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_unopenable_path_is_a_store_error(tmp_path):
    """A store path under a file (not a folder) fails with one line naming the path."""
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(StoreError, match=f"cannot open store {blocker}/s.db"):
        Store.open(blocker / "s.db")


def test_a_corrupt_store_file_is_a_user_error(tmp_path):
    """A store file that is not a database is the user's input: exit code 2, one line."""
    from leadroute.errors import StoreFileError

    path = tmp_path / "s.db"
    path.write_bytes(b"this is not a database, just text that happens to be here" * 20)
    with pytest.raises(StoreFileError, match=f"cannot open store {path}: file is not a database"):
        Store.open(path)
    assert StoreFileError.exit_code == 2


def test_runs_log(store: Store):
    """A run is logged with its command, source and counts."""
    run = store.begin_run("route", "csv")
    store.finish_run(run, {"routed": 3})
    [logged] = store.runs()
    assert (logged["command"], logged["source"], logged["counts"]) == (
        "route",
        "csv",
        {"routed": 3},
    )
    assert logged["finished_at"]


def test_prices_are_replaced_as_a_whole(store: Store):
    """Publishing prices replaces the previous set entirely."""
    store.save_prices({"r1": 2.5, "r2": 0.0}, AT)
    store.save_prices({"r3": 1.0}, AT)
    assert store.load_prices() == {"r3": 1.0}


def test_long_outside_identifiers_are_stored_on_every_backend(store: Store):
    """Ids and names longer than 255 characters (a CSV's lead id, a rep id, a pool, a policy
    version) are stored and read back alike on SQLite and PostgreSQL."""
    long_lead, long_rep = "L" * 600, "r" * 400
    d = attrs.evolve(decision(long_lead, long_rep, pool="p" * 300), policy_version="v" * 200)
    turn = LedgerTurn(pool="p" * 300, rep_id=long_rep, seq=1)
    assert store.record(d, [effect(d)], [turn]) is True
    assert store.current_decision(long_lead) == d
    [entry] = store.load_ledger().values()
    assert (entry.pool, entry.rep_id, entry.assigned) == ("p" * 300, long_rep, 1)


def test_text_is_ordered_by_its_bytes_on_every_backend(store: Store):
    """History and identities come back in SQLite's byte order on PostgreSQL too, whatever
    the database's collation (``a`` after ``B``, ``-`` before ``1``)."""
    from leadroute.store import IdentityRow
    from leadroute.store.outcomes import decision_history

    ids = ["b", "B", "a-2", "a1", "_x", "A"]
    for lead_id in ids:
        store.record(decision(lead_id), [])
    # Rows saved together share their time: the lead id decides their order.
    store.save_identities(
        [IdentityRow(key_hash="k", person_id=i, lead_id=i, kind="email") for i in ids], {}
    )
    assert [d.lead_id for d in decision_history(store)] == sorted(ids)
    assert [r.lead_id for r in store.load_identities()] == sorted(ids)


def test_a_decision_committed_by_another_process_meanwhile_stands(store: Store):
    """When another process commits the same lead and epoch while ``record`` runs, record
    returns False and the other decision stands (PostgreSQL: the unique key settles it)."""
    import threading

    theirs, ours = decision("L1", "r1"), decision("L1", "r2")
    other = sa.create_engine(store.engine.url)
    started, done = threading.Event(), threading.Event()

    def commit_theirs_slowly() -> None:
        with other.connect() as conn:
            if store.backend == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.begin()
            from leadroute.store.commits import CommitUnit, write_units

            # Not through the commit sequence: only the unique key can settle this race.
            write_units(conn, [CommitUnit(decision=theirs)], 1, "2026-11-02T09:00:00+00:00")
            started.set()
            done.wait(0.5)  # ``record`` runs meanwhile and must wait for this commit
            conn.commit()

    writer = threading.Thread(target=commit_theirs_slowly)
    writer.start()
    try:
        assert started.wait(5)
        assert store.record(ours, [effect(ours)]) is False
    finally:
        done.set()
        writer.join()
        other.dispose()
    assert store.current_decision("L1") == theirs
    assert store.outbox_counts() == {}
