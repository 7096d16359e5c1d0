"""Cost of the outbox queries every run makes, against a GROUP BY baseline, in one process.

Every route run lists the unresolved effects (dead, or refused and not rerouted, of each
lead's latest decision) for its exception report, and its first relay pass lists the
owner writes to read back. Both must find "the lead's latest decision". The baseline
joins a ``GROUP BY lead_id`` over every decision (what the first version did); the code
asks, per candidate row, whether a later epoch exists (``NOT EXISTS`` on the
``UNIQUE(lead_id, epoch)`` index). One synthetic store: ``--decisions`` leads, one owner
write each, one in a thousand dead.

Usage: uv run python benchmarks/outbox_queries.py --decisions 100000 [--repeat 7] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
import structlog

from leadroute.store import Store, schema
from leadroute.store.codec import to_iso
from leadroute.store.database import UNRESOLVED


def build(path: Path, n: int) -> Store:
    """A store with ``n`` decided leads, their done owner writes, one in a thousand dead."""
    store = Store.open(path)
    now = datetime.now(UTC)
    decisions, outbox = [], []
    for i in range(n):
        decisions.append(
            {
                "id": f"d{i}",
                "lead_id": f"L{i}",
                "epoch": 1,
                "status": "routed",
                "owner_id": "r1",
                "queue": "",
                "step": "pool",
                "rule": "",
                "pool": "",
                "policy_version": "1",
                "decided_at": to_iso(now),
                "payload": "{}",
            }
        )
        outbox.append(
            {
                "idem_key": f"k{i}",
                "decision_id": f"d{i}",
                "lead_id": f"L{i}",
                "kind": "owner_write",
                "payload": json.dumps({"owner_id": "r1"}),
                "status": "dead" if i % 1000 == 0 else "done",
                "attempts": 0,
                "last_error": "",
                "created_at": to_iso(now),
                "applied_at": to_iso(now - timedelta(hours=1)),
                "observed_owner": "",
            }
        )
    with store.engine.begin() as conn:
        conn.execute(schema.decisions.insert(), decisions)
        conn.execute(schema.outbox.insert(), outbox)
    return store


def baseline_unresolved(store: Store) -> int:
    """The first version's query: a join on the GROUP BY of every lead's latest epoch."""
    t, d = schema.outbox, schema.decisions
    latest = (
        sa.select(d.c.lead_id, sa.func.max(d.c.epoch).label("epoch")).group_by(d.c.lead_id)
    ).subquery()
    query = (
        sa.select(t.c.id)
        .join(d, d.c.id == t.c.decision_id)
        .join(latest, sa.and_(latest.c.lead_id == d.c.lead_id, latest.c.epoch == d.c.epoch))
        .where(t.c.status.in_(UNRESOLVED))
    )
    with store.engine.connect() as conn:
        return len(conn.execute(query).all())


def best(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    """Build the store, time both forms of each query, print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with tempfile.TemporaryDirectory() as folder:
        store = build(Path(folder) / "bench.db", args.decisions)
        now = datetime.now(UTC)
        assert baseline_unresolved(store) == len(store.unresolved_rows())
        results = {
            "decisions": args.decisions,
            "unresolved_baseline_ms": best(lambda: baseline_unresolved(store), args.repeat) * 1e3,
            "unresolved_ms": best(store.unresolved_rows, args.repeat) * 1e3,
            "owner_checks_ms": best(
                lambda: store.owner_writes_to_check(now, limit=1000), args.repeat
            )
            * 1e3,
        }
        store.close()
    results["unresolved_ratio"] = results["unresolved_ms"] / results["unresolved_baseline_ms"]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(
        f"{args.decisions} decisions: unresolved effects {results['unresolved_ms']:.1f} ms "
        f"(GROUP BY baseline {results['unresolved_baseline_ms']:.1f} ms, ratio "
        f"{results['unresolved_ratio']:.3f}); owner writes to read back (1,000) "
        f"{results['owner_checks_ms']:.1f} ms"
    )


if __name__ == "__main__":
    main()
