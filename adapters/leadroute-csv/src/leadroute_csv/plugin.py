"""Registers the ``csv`` adapter with leadroute (entry point ``csv`` in group ``leadroute``)."""

from __future__ import annotations

from collections.abc import Callable

from leadroute import hookimpl
from leadroute.adapters import AdapterFactory
from leadroute_csv.adapter import CsvAdapter


@hookimpl
def leadroute_register_adapters(register: Callable[[str, AdapterFactory], None]) -> None:
    """Offer the CSV adapter under the name ``csv``."""
    register("csv", CsvAdapter.from_config)
