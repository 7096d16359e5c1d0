"""Cells that are safe to open in a spreadsheet (CSV formula injection)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from leadroute.files import write_text_atomic

__all__ = ["FORMULA_PREFIXES", "safe_cell", "write_csv_atomic"]

# Spreadsheet apps run a cell starting with these as a formula (OWASP CSV injection),
# including the full-width forms some apps normalise.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def safe_cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading quote; numbers pass as is."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    text = "" if value is None else str(value)
    if text.lstrip(" ").startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def write_csv_atomic(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Write a formula-safe CSV through a private temporary file and a rename (``leadroute.files``)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([safe_cell(h) for h in header])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    write_text_atomic(path, buffer.getvalue())
