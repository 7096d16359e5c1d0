"""A fake portal per test, a routing policy over its owners, and adapters/clients built against it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from leadroute.adapters import AdapterConfig
from leadroute.policy import Policy, parse_policy
from leadroute_hubspot.adapter import HubSpotAdapter
from leadroute_hubspot.auth import StaticToken
from leadroute_hubspot.client import HubSpotClient
from leadroute_hubspot.testing import TOKEN, FakeHubSpot

POLICY_TEXT = """
version: "hs1"
regions: {NA: [US, CA], EMEA: [DE, GB, FR]}
pools:
  - {name: na, strategy: round_robin}
  - {name: emea, strategy: round_robin}
routing:
  - {name: na, when: {region: NA}, pool: na}
  - {name: emea, when: {region: EMEA}, pool: emea}
fallback: {owner: "900", queue: unrouted, escalate_after: 4h}
"""


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    """The CLI tests configure logging; put structlog back the way the library leaves it."""
    yield
    structlog.reset_defaults()


@pytest.fixture
def policy() -> Policy:
    """Two team pools (the HubSpot teams na and emea) and the ops owner as fallback."""
    return parse_policy(POLICY_TEXT)


@pytest.fixture
def fake() -> FakeHubSpot:
    """A small realistic portal: 60 contacts to route, 20 owned, archived and queue owners."""
    return FakeHubSpot.portal(contacts=60, owned=20)


@pytest.fixture
def client_for() -> Callable[..., HubSpotClient]:
    """A client talking to a fake portal with its clock (no real sleep)."""

    def build(fake: FakeHubSpot, **kwargs: Any) -> HubSpotClient:
        kwargs.setdefault("auth", StaticToken(TOKEN))
        return HubSpotClient(
            http=fake.http_client(),
            clock=fake.clock.monotonic,
            sleep=fake.clock.sleep,
            now=fake.clock.now,
            **kwargs,
        )

    return build


@pytest.fixture
def adapter_for(policy: Policy, tmp_path: Path) -> Callable[..., HubSpotAdapter]:
    """An adapter built by its factory against a fake portal (purpose and options given)."""

    def build(fake: FakeHubSpot, purpose: str = "route", **options: Any) -> HubSpotAdapter:
        with fake.installed():
            return HubSpotAdapter.from_config(
                AdapterConfig(policy=policy, options=options, workdir=tmp_path, purpose=purpose)  # type: ignore[arg-type]
            )

    return build
