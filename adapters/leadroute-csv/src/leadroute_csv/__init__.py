"""leadroute-csv: the reference adapter, over leads.csv, reps.csv and accounts.csv."""

from __future__ import annotations

from leadroute_csv.adapter import CsvAdapter
from leadroute_csv.cells import safe_cell

__all__ = ["CsvAdapter", "safe_cell"]
