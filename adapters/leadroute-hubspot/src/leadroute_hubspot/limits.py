"""HubSpot's rate limits and errors: what each response means and what the client does next.

One table (``ERROR_TABLE``) maps a status and HubSpot's ``policyName``/``category`` to an
``Action``; ``classify`` picks the row for a response. ``retry_after`` reads both forms of
the ``Retry-After`` header, and ``Pacer`` spaces requests from the
``X-HubSpot-RateLimit-*`` headers and keeps search at or under four requests a second.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import attrs

__all__ = [
    "ERROR_TABLE",
    "Action",
    "ErrorRule",
    "Pacer",
    "classify",
    "error_body",
    "retry_after",
]


class Action(enum.StrEnum):
    """What the client does with a response or a transport failure."""

    OK = "ok"
    WAIT = "wait"  # a burst limit: wait (Retry-After, or the policy's window) and retry
    BACKOFF = "backoff"  # transient: retry with jittered exponential backoff in a time budget
    REFRESH = "refresh"  # the access token expired: refresh once, then retry
    AUTH = "auth"  # credentials rejected or a scope missing: stop with AuthError
    QUOTA = "quota"  # the daily limit is spent: stop cleanly, the outbox is the checkpoint
    REJECT = "reject"  # this request is wrong for this record: do not retry it


@attrs.frozen(kw_only=True)
class ErrorRule:
    """One row of the error table.

    Attributes:
        status: HTTP status (0: a transport failure, no response).
        key: ``policyName`` for 429s, ``category`` otherwise; ``"*"`` matches any.
        action: What to do.
        wait: Seconds to wait when the response names none (WAIT rows), else 0.
        why: The vendor fact behind the row.
    """

    status: int
    key: str
    action: Action
    wait: float = 0.0
    why: str = ""


ERROR_TABLE: tuple[ErrorRule, ...] = (
    ErrorRule(
        status=429,
        key="TEN_SECONDLY_ROLLING",
        action=Action.WAIT,
        wait=10.0,
        why="burst limit over a rolling 10 s window",
    ),
    ErrorRule(
        status=429,
        key="SECONDLY",
        action=Action.WAIT,
        wait=1.0,
        why="per-second limit (search: 'You have reached your secondly limit.')",
    ),
    ErrorRule(
        status=429,
        key="DAILY",
        action=Action.QUOTA,
        why="daily limit: resets at midnight in the portal's time zone",
    ),
    ErrorRule(
        status=429,
        key="*",
        action=Action.WAIT,
        wait=1.0,
        why="429 without a policyName (HubSpot does not always send Retry-After)",
    ),
    ErrorRule(
        status=401,
        key="*",
        action=Action.REFRESH,
        why="token expired or invalid: refresh once (OAuth), then give up",
    ),
    ErrorRule(
        status=403,
        key="*",
        action=Action.AUTH,
        why="valid token without the scope or feature: never a reason to refresh",
    ),
    ErrorRule(status=423, key="*", action=Action.WAIT, wait=2.0, why="record locked: wait >= 2 s"),
    ErrorRule(
        status=477, key="*", action=Action.WAIT, wait=5.0, why="portal migration in progress"
    ),
    ErrorRule(status=408, key="*", action=Action.BACKOFF, why="request timeout"),
    ErrorRule(status=500, key="*", action=Action.BACKOFF, why="server error"),
    ErrorRule(status=502, key="*", action=Action.BACKOFF, why="bad gateway"),
    ErrorRule(status=503, key="*", action=Action.BACKOFF, why="service unavailable"),
    ErrorRule(status=504, key="*", action=Action.BACKOFF, why="gateway timeout"),
    ErrorRule(status=524, key="*", action=Action.BACKOFF, why="origin timeout (Cloudflare)"),
    ErrorRule(status=0, key="*", action=Action.BACKOFF, why="timeout or connection error"),
    ErrorRule(
        status=400,
        key="VALIDATION_ERROR",
        action=Action.REJECT,
        why="a property value or the request is invalid",
    ),
    ErrorRule(status=404, key="*", action=Action.REJECT, why="object not found"),
    ErrorRule(status=409, key="*", action=Action.REJECT, why="conflict (e.g. duplicate value)"),
    ErrorRule(status=400, key="*", action=Action.REJECT, why="bad request"),
    ErrorRule(status=414, key="*", action=Action.REJECT, why="URI too long"),
)

_BY_KEY = {(r.status, r.key): r for r in ERROR_TABLE}


def error_body(content: bytes) -> Mapping[str, Any]:
    """HubSpot's error body as a mapping; every field is optional and may be absent or not JSON."""
    try:
        body = json.loads(content or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, Mapping) else {}


def classify(status: int, body: Mapping[str, Any]) -> ErrorRule:
    """The table row for a response (``status`` 0 for a transport failure)."""
    if 200 <= status < 300:
        return ErrorRule(status=status, key="*", action=Action.OK)
    key = str(body.get("policyName") or body.get("category") or "")
    if status == 429 and not body.get("policyName") and "secondly" in str(body.get("message", "")):
        key = "SECONDLY"
    rule = _BY_KEY.get((status, key)) or _BY_KEY.get((status, "*"))
    if rule is not None:
        return rule
    if status >= 500:
        return ErrorRule(status=status, key="*", action=Action.BACKOFF, why="server error")
    return ErrorRule(status=status, key="*", action=Action.REJECT, why="client error")


def retry_after(headers: Mapping[str, str], now: datetime) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or an HTTP date); None when absent or unreadable."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


@attrs.define
class Pacer:
    """Spaces requests so the portal's limits are never reached, rather than hit and retried.

    Search gets its own minimum interval (HubSpot allows about 4 search requests a
    second per token); other calls slow down when the rolling window's remaining count
    (``X-HubSpot-RateLimit-Remaining``) falls to ``reserve``.

    Attributes:
        clock: Monotonic seconds.
        sleep: How to wait (injected in tests).
        search_per_second: Search requests allowed per second.
        reserve: Requests left in the window at which the pacer starts spreading calls.
    """

    clock: Callable[[], float]
    sleep: Callable[[float], None]
    search_per_second: float = 4.0
    reserve: int = 10
    _last_search: float | None = None
    _not_before: float = 0.0
    daily_remaining: int | None = None

    def before(self, *, search: bool) -> None:
        """Wait as long as the limits require before the next request."""
        now = self.clock()
        wait = max(0.0, self._not_before - now)
        if search and self._last_search is not None:
            wait = max(wait, self._last_search + 1.0 / self.search_per_second - now)
        if wait > 0:
            self.sleep(wait)
        if search:
            self._last_search = self.clock()

    def observe(self, headers: Mapping[str, str]) -> None:
        """Read the window and daily headers of a response."""
        daily = _int(headers.get("x-hubspot-ratelimit-daily-remaining"))
        if daily is not None:
            self.daily_remaining = daily
        remaining = _int(headers.get("x-hubspot-ratelimit-remaining"))
        limit = _int(headers.get("x-hubspot-ratelimit-max"))
        interval = _int(headers.get("x-hubspot-ratelimit-interval-milliseconds")) or 10_000
        if remaining is None or not limit or remaining > self.reserve:
            return
        # Spread the calls left in this window over what remains of it.
        per_call = interval / 1000 / limit
        self._not_before = self.clock() + per_call * (self.reserve - remaining + 1)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
