"""HubSpot's dates: milliseconds since the epoch or ISO-8601, always read to aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["parse_timestamp"]


def parse_timestamp(value: str | None) -> datetime | None:
    """A HubSpot date: ms since the epoch or ISO-8601 (``Z`` or an offset); None when empty or bad."""
    text = (value or "").strip()
    if not text:
        return None
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
