"""The demo's live intake: each lead decided at its own arrival, activity written from owners."""

from __future__ import annotations

import csv
import random
from collections import Counter
from datetime import timedelta

from leadroute.adapters import AdapterConfig
from leadroute.demo import write_demo
from leadroute.demo.activity import DECLINED_LEAD
from leadroute.demo.generate import DEFAULT_NOW
from leadroute.demo.live import DELAYS, intake_delay, simulate_live_intake
from leadroute.host import make_host
from leadroute.policy import load_policy
from leadroute.store import Store
from leadroute.store.outcomes import decision_history
from leadroute_csv.adapter import CsvAdapter


def test_intake_delays_follow_the_documented_mix():
    """Most delays are seconds, some minutes, none beyond the slowest band."""
    rng = random.Random(1)
    delays = [intake_delay(rng) for _ in range(2000)]
    under_minute = sum(1 for d in delays if d < timedelta(minutes=1)) / len(delays)
    assert abs(under_minute - DELAYS[0][0]) < 0.03
    assert max(delays) <= timedelta(seconds=DELAYS[-1][2])


def test_leads_are_decided_at_arrival_and_activity_follows_owners(tmp_path):
    """Each decision is taken within 30 min of its lead's latest request (creation or a later
    event; never after now), and every activity row names the lead's owner, happens after
    assignment and before now."""
    files = write_demo(tmp_path, now=DEFAULT_NOW)
    policy = load_policy(files.policy)
    host = make_host(load_entrypoints=False)
    adapter = CsvAdapter.from_config(
        AdapterConfig(policy=policy, options={"input_dir": str(tmp_path)}, workdir=tmp_path)
    )
    requested = {
        lead.id: max([lead.created_at, *(e.at for e in lead.events if e.at <= DEFAULT_NOW)])
        for lead in adapter.read().leads
    }
    store_path = tmp_path / "store.db"
    result, _ = simulate_live_intake(
        policy,
        store_path,
        host,
        adapter,
        activity=tmp_path / "activity.csv",
        now=DEFAULT_NOW,
        seed=7,
    )
    with Store.open(store_path) as store:
        history = decision_history(store)
    decisions = {d.lead_id: d for d in history}
    epochs: dict[str, list] = {}
    for h in history:
        epochs.setdefault(h.lead_id, []).append(h)
    assert len(result.new_ids) == len(decisions) > 250
    for lead_id, d in decisions.items():
        # An earlier record that followed a duplicate was decided when that duplicate came.
        follows = d.duplicate.lead_id if d.duplicate and d.duplicate.role == "follower" else ""
        waited = d.decided_at - requested[follows or lead_id]
        assert timedelta(0) <= waited <= timedelta(minutes=30) and d.decided_at <= DEFAULT_NOW
    with (tmp_path / "activity.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        # The owner at the row's time: a lead's person may have moved it to a later epoch.
        at = row["at"].replace("Z", "+00:00")
        d = max(
            (h for h in epochs[row["lead_id"]] if h.decided_at.isoformat() <= at),
            key=lambda h: h.epoch,
        )
        assert row["rep_id"] in ("", d.owner_id)
        assert d.decided_at.isoformat() <= at <= DEFAULT_NOW.isoformat()
    kinds = Counter(r["kind"] for r in rows)
    assert kinds["rejected"] == 1 and [r["lead_id"] for r in rows if r["kind"] == "rejected"] == [
        DECLINED_LEAD
    ]
