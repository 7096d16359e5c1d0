"""A fake org per test, throwaway RSA keys, and settings wired to them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from leadroute.models import Effect
from leadroute_salesforce.adapter import SalesforceAdapter
from leadroute_salesforce.settings import Settings, load_settings
from leadroute_salesforce.testing import FakeSalesforce, make_key_pair


@pytest.fixture(scope="session")
def key_pair() -> tuple[str, str]:
    """One RSA key pair per test session, generated here and never written to the repository."""
    return make_key_pair()


@pytest.fixture
def fake(key_pair: tuple[str, str]) -> FakeSalesforce:
    """An empty fake org that accepts JWTs signed with the session's key."""
    return FakeSalesforce(public_key=key_pair[1], client_secret="cs-" + "x" * 20)


@pytest.fixture
def jwt_env(fake: FakeSalesforce, key_pair: tuple[str, str]) -> dict[str, str]:
    """Environment for the JWT bearer flow against the fake."""
    return {
        "LEADROUTE_SALESFORCE_CLIENT_ID": fake.client_id,
        "LEADROUTE_SALESFORCE_USERNAME": fake.username,
        "LEADROUTE_SALESFORCE_PRIVATE_KEY": key_pair[0],
    }


@pytest.fixture
def settings_for(jwt_env: dict[str, str], tmp_path: Path) -> Callable[..., Settings]:
    """Settings from options (JWT credentials from the environment fixture)."""

    def build(env: dict[str, str] | None = None, **options: Any) -> Settings:
        return load_settings(options, workdir=tmp_path, env=jwt_env if env is None else env)

    return build


@pytest.fixture
def adapter_for(
    fake: FakeSalesforce, settings_for: Callable[..., Settings]
) -> Callable[..., SalesforceAdapter]:
    """An adapter talking to the fake, with no real sleeping."""

    def build(purpose: str = "route", **options: Any) -> SalesforceAdapter:
        return SalesforceAdapter.build(
            settings_for(**options),
            http=fake.http(),
            purpose=purpose,  # type: ignore[arg-type]
            sleep=lambda _: None,
        )

    return build


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    """CLI tests configure logging; put structlog back the way the library leaves it."""
    yield
    structlog.reset_defaults()


def _effect(lead_id: str, owner_id: str, n: int = 0, *, epoch: int = 1) -> Effect:
    decision = f"decision-{lead_id}-{epoch}"
    return Effect(
        kind="owner_write",
        decision_id=decision,
        lead_id=lead_id,
        idem_key=Effect.key_for(decision, "owner_write"),
        payload={
            "lead_id": lead_id,
            "owner_id": owner_id,
            "decided_at": "2026-11-02T09:00:00+00:00",
            "reason": "test",
            "epoch": epoch,
        },
    )


@pytest.fixture
def effect() -> Callable[..., Effect]:
    """Build an owner_write effect as the router would (decided 2026-11-02 09:00 UTC)."""
    return _effect
