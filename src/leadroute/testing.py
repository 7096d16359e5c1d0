"""Testing a leadroute plugin: builders, a host with only your plugins, and ``route_one``.

Public and stable (everything in ``__all__``), and registered as a pytest plugin (the
``pytest11`` entry point), so its fixtures are there in any project that has leadroute
installed::

    from leadroute.testing import make_lead, make_team, make_policy, route_one
    import training_guard

    def test_guard_keeps_enterprise_leads_away():
        (decision,) = route_one(
            make_policy(), [make_lead(employees=5000)], make_team(2), plugins=[training_guard]
        )
        assert "IN_TRAINING" in {e.code for e in decision.all_exclusions()}

``route_one`` runs the real router (every built-in stage, your plugins, the strategy, the
rotation ledger) over a throwaway store, so what it returns is what ``leadroute route``
would decide. Entry-point plugins installed beside yours are never loaded.

Fixtures: ``leadroute_policy`` (``make_policy()``), ``leadroute_team`` (``make_team()``)
and ``leadroute_host`` (a factory: ``leadroute_host(my_plugin)``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from leadroute.host import PluginHost, make_host
from leadroute.models import Account, Capacity, Decision, Lead, Rep, Snapshot
from leadroute.policy import Policy, parse_policy
from leadroute.router import Router
from leadroute.store import Store

__all__ = [
    "AT",
    "POOL",
    "QUEUE_OWNER",
    "leadroute_host",
    "leadroute_policy",
    "leadroute_team",
    "make_lead",
    "make_policy",
    "make_rep",
    "make_team",
    "plugin_host",
    "route_one",
]

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
"""The default decision time of ``route_one`` (a Monday, 09:00 UTC)."""

POOL = "team"
"""The pool ``make_policy`` routes every lead to and ``make_team`` puts reps in."""

QUEUE_OWNER = "queue-owner"
"""The fallback queue's owner in ``make_policy``; ``make_team`` adds this rep."""

_POLICY = f"""
version: test
regions: {{NA: [US, CA], EMEA: [GB, DE, FR, NL, IE, ES, IT], APAC: [AU, JP, SG, IN]}}
segments: [{{name: smb, max_employees: 199}}, {{name: enterprise, min_employees: 200}}]
pools: [{{name: {POOL}, strategy: round_robin}}]
routing: [{{name: everyone, pool: {POOL}}}]
fallback: {{owner: {QUEUE_OWNER}, queue: unrouted, escalate_after: 4h}}
"""


def make_policy(extra: str = "", *, text: str | None = None) -> Policy:
    """A small valid policy: every lead to pool ``team`` (round robin), a fallback queue.

    :param extra: YAML appended to the default policy (``"fit: {weights: {mine: 2}}"``).
    :param text: A whole policy instead of the default.
    """
    return parse_policy((text if text is not None else _POLICY) + "\n" + extra + "\n")


def make_lead(lead_id: str = "L1", **fields: Any) -> Lead:
    """A lead with a business email and a US address unless ``fields`` say otherwise.

    Any ``Lead`` field can be given (``employees=5000``, ``attributes={"tier": "gold"}``).
    """
    fields.setdefault("email", f"{lead_id.lower()}@example-{lead_id.lower()}.com")
    fields.setdefault("country", "US")
    fields.setdefault("created_at", AT)
    return Lead(id=lead_id, **fields)


def make_rep(
    rep_id: str, *, pools: Sequence[str] = (POOL,), cap: int | None = None, **fields: Any
) -> Rep:
    """A rep in pool ``team`` (unless ``pools`` says otherwise), optionally capped at ``cap``
    open leads; any other ``Rep`` field can be given."""
    return Rep(
        id=rep_id,
        name=fields.pop("name", rep_id.replace("-", " ").title()),
        pools=tuple(pools),
        capacity=fields.pop("capacity", Capacity(max_open=cap)),
        **fields,
    )


def make_team(size: int = 3, *, pool: str = POOL, **fields: Any) -> list[Rep]:
    """``rep-1`` .. ``rep-N`` in one pool (same ``fields`` each), plus the fallback queue's owner."""
    return [
        *(make_rep(f"rep-{i}", pools=(pool,), **fields) for i in range(1, size + 1)),
        make_rep(QUEUE_OWNER, pools=()),
    ]


def plugin_host(*plugins: object) -> PluginHost:
    """A fresh host with the built-in plugins and only these (no installed entry points)."""
    return make_host(load_entrypoints=False, plugins=plugins, env={})


def route_one(
    policy: Policy,
    leads: Iterable[Lead],
    reps: Sequence[Rep],
    *,
    plugins: Sequence[object] = (),
    accounts: Sequence[Account] = (),
    at: datetime = AT,
    batch: bool = False,
) -> list[Decision]:
    """Route leads in one run, as ``leadroute route`` would, and return the decisions.

    Leads the policy rejects (validation) get no decision and are left out; a plugin
    that breaks the hook contract raises ``PluginError``. Nothing is kept afterwards.

    :param plugins: Your plugin modules or objects (with the built-ins, nothing else).
    :param at: The decision time.
    :param batch: Assign pool leads jointly with the optimizer (``route --batch``).
    """
    snapshot = Snapshot(leads=tuple(leads), reps=tuple(reps), accounts=tuple(accounts))
    with tempfile.TemporaryDirectory(prefix="leadroute-test-") as folder:
        store = Store.open(Path(folder) / "store.db")
        with Router(policy, store=store, host=plugin_host(*plugins), clock=lambda: at) as router:
            return list(router.route(snapshot, batch=batch).decisions)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def leadroute_policy() -> Policy:
    """``make_policy()``: every lead to pool ``team``, round robin."""
    return make_policy()


@pytest.fixture
def leadroute_team() -> list[Rep]:
    """``make_team()``: three reps in pool ``team`` and the queue owner."""
    return make_team()


@pytest.fixture
def leadroute_host() -> Callable[..., PluginHost]:
    """A factory: ``leadroute_host(my_plugin)`` is a host with the built-ins and your plugin."""
    return plugin_host
