"""The fake portal's clock and canned faults."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

__all__ = ["FakeClock", "Fault"]


@attrs.define
class FakeClock:
    """Monotonic and wall time that only move when someone sleeps (or a test advances them).

    Attributes:
        t: Monotonic seconds.
        start: The wall-clock instant at ``t == 0``.
        slept: Every sleep, in order.
    """

    t: float = 0.0
    start: datetime = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    slept: list[float] = attrs.field(factory=list)

    def monotonic(self) -> float:
        """Monotonic seconds."""
        return self.t

    def sleep(self, seconds: float) -> None:
        """Advance time instead of waiting."""
        self.slept.append(seconds)
        self.t += max(0.0, seconds)

    def now(self) -> datetime:
        """Wall-clock UTC."""
        return self.start + timedelta(seconds=self.t)


@attrs.define
class Fault:
    """A canned failure for the next matching requests.

    Attributes:
        status: HTTP status to answer (0: raise a timeout instead).
        body: JSON body.
        headers: Extra response headers.
        times: How many requests it applies to.
        after_commit: For a timeout: apply the request first, then time out (ambiguous outcome).
        skip: Matching requests served normally before the fault starts (a quota that runs
            out part-way through a run).
    """

    status: int
    body: Mapping[str, Any] = attrs.field(factory=dict)
    headers: Mapping[str, str] = attrs.field(factory=dict)
    times: int = 1
    after_commit: bool = False
    skip: int = 0
