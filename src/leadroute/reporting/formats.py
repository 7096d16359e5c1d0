"""How reports write durations and shares for people (``12 min``, ``95.0%``)."""

from __future__ import annotations

__all__ = ["fmt_pct", "fmt_seconds"]


def fmt_seconds(seconds: float | None) -> str:
    """``45 s``, ``12 min``, ``3.2 h``, ``1.4 d``; an em dash for no data."""
    if seconds is None:
        return "—"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def fmt_pct(share: float | None) -> str:
    """``95.0%``; an em dash for no data."""
    return "—" if share is None else f"{share * 100:.1f}%"
