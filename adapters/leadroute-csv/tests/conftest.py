"""Small CSV folders written per test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from leadroute.adapters import AdapterConfig
from leadroute.policy import parse_policy
from leadroute_csv.adapter import CsvAdapter

REPS = "id,name,active,backup\nr1,Ann,true,\nr2,Bo,false,r1\n"
POLICY = parse_policy("version: '1'\nfallback: {owner: r1}\n")

Folder = Callable[..., Path]


@pytest.fixture
def folder(tmp_path: Path) -> Folder:
    """Write leads/reps/accounts files (reps default to two reps) and return the folder."""

    def write(leads: str | bytes, reps: str = REPS, accounts: str | None = None) -> Path:
        data = leads if isinstance(leads, bytes) else leads.encode("utf-8")
        (tmp_path / "leads.csv").write_bytes(data)
        (tmp_path / "reps.csv").write_text(reps, encoding="utf-8")
        if accounts is not None:
            (tmp_path / "accounts.csv").write_text(accounts, encoding="utf-8")
        return tmp_path

    return write


@pytest.fixture
def adapter_for() -> Callable[..., CsvAdapter]:
    """Build an adapter over a folder with extra options."""

    def build(path: Path, **options: object) -> CsvAdapter:
        return CsvAdapter.from_config(
            AdapterConfig(policy=POLICY, options={"input_dir": str(path), **options}, workdir=path)
        )

    return build


@pytest.fixture
def policy() -> object:
    """A minimal valid policy."""
    return POLICY
