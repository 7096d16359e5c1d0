"""What to do about each Salesforce answer, and how much of the daily allocation is left.

``ACTIONS`` is the one table from (HTTP status, error code) to an ``Action``; the client
and the writer both consult it through ``classify``, and the tests walk it row by row.
Per-record results inside a 200 (sObject Collections) use the status ``RECORD``.

``Sforce-Limit-Info: api-usage=USED/ALLOCATION`` comes back on every REST response.
``UsageGuard`` keeps the latest reading, paces calls once the org has used
``slow_down_at`` of its allocation, and stops (checkpoint, resume later) when only
``reserve`` is left, so leadroute never spends the last calls other integrations need.
"""

from __future__ import annotations

import enum
import re
import time
from collections.abc import Callable, Collection

import attrs

__all__ = [
    "ACTIONS",
    "ANY",
    "RECORD",
    "Action",
    "ActionRow",
    "LimitInfo",
    "UsageGuard",
    "classify",
    "parse_limit_info",
]

from leadroute.logs import get_logger

log = get_logger(__name__)

ANY = -1  # matches every status / used as a wildcard in the table
RECORD = 0  # a per-record result inside a 200 response (no HTTP status of its own)


class Action(enum.StrEnum):
    """What the adapter does about an answer."""

    RETRY = "retry"  # transient: back off and try again within the retry budget
    REAUTH = "reauth"  # the session expired: re-authenticate once, then retry
    STOP = "stop"  # the daily allocation is spent: checkpoint and stop, resume later
    FAIL_AUTH = "fail_auth"  # credentials refused: stop with an AuthError
    FAIL = "fail"  # the request itself is wrong or forbidden: stop with an AdapterError
    REROUTE = "reroute"  # the owner was refused (inactive, no access): decide the lead again
    REJECT = "reject"  # this record cannot be written (validation): exception report
    SKIP = "skip"  # the record left routing (converted): nothing to write, nothing to retry


@attrs.frozen
class ActionRow:
    """One row: status (``ANY``, ``RECORD`` or a code), error code (``""`` = any), action.

    ``message_contains`` narrows a row to messages holding that text (case-insensitive);
    ``field`` to errors that name that field in their ``fields`` list.
    """

    status: int
    code: str
    action: Action
    message_contains: str = ""
    field: str = ""

    def matches(self, status: int, code: str, message: str, fields: Collection[str] = ()) -> bool:
        """Whether this row applies to an answer."""
        return (
            self.status in (ANY, status)
            and (not self.code or self.code == code)
            and (not self.message_contains or self.message_contains.lower() in message.lower())
            and (not self.field or self.field in fields)
        )


ACTIONS: tuple[ActionRow, ...] = (
    ActionRow(401, "INVALID_SESSION_ID", Action.REAUTH),
    ActionRow(401, "", Action.FAIL_AUTH),
    # Too many long-running requests at once: a concurrency limit, gone in seconds.
    ActionRow(403, "REQUEST_LIMIT_EXCEEDED", Action.RETRY, "ConcurrentPerOrgLongTxn"),
    # TotalRequests: the rolling 24-hour allocation. Sleeping would take hours.
    ActionRow(ANY, "REQUEST_LIMIT_EXCEEDED", Action.STOP),
    ActionRow(403, "", Action.FAIL),
    # A 400 or a per-record error that succeeds when the other transaction commits.
    ActionRow(ANY, "UNABLE_TO_LOCK_ROW", Action.RETRY),
    # Owner refusals: the owner, not the record, is the problem, so another owner can take
    # the lead. Deactivated since the decision; no Read on Lead ("You cannot assign the record
    # to the specified User because the user does not have read permission", StatusCode
    # reference), which is also how a user whose licence has no Lead access is refused (a
    # licence without Lead grants no Read on it); no access to the owner record itself (the
    # only cross-reference leadroute writes on a Lead is OwnerId); any other integrity or
    # reference error Salesforce pins on OwnerId (an owner of the wrong kind of user).
    ActionRow(RECORD, "INACTIVE_OWNER_OR_USER", Action.REROUTE),
    ActionRow(RECORD, "TRANSFER_REQUIRES_READ", Action.REROUTE),
    ActionRow(RECORD, "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY", Action.REROUTE),
    ActionRow(RECORD, "FIELD_INTEGRITY_EXCEPTION", Action.REROUTE, field="OwnerId"),
    ActionRow(RECORD, "INVALID_CROSS_REFERENCE_KEY", Action.REROUTE, field="OwnerId"),
    # Converted between the read and the write: the lead became a contact (and maybe an
    # opportunity) with owners of its own; there is nothing left to route.
    ActionRow(RECORD, "CANNOT_UPDATE_CONVERTED_LEAD", Action.SKIP),
    # A blocking duplicate rule: any owner hits it, so rerouting is pointless; a person must
    # merge the records (the writer names them). Alert-only rules never get here: writes
    # carry ``Sforce-Duplicate-Rule-Header: allowSave=true``.
    ActionRow(RECORD, "DUPLICATES_DETECTED", Action.REJECT),
    ActionRow(RECORD, "", Action.REJECT),
    ActionRow(400, "", Action.FAIL),
    ActionRow(404, "", Action.FAIL),
    # Edge and gateway answers seen in production (Airbyte's rate_limiting.py).
    ActionRow(406, "", Action.RETRY),
    ActionRow(420, "", Action.RETRY),
    ActionRow(429, "", Action.RETRY),
    ActionRow(500, "", Action.RETRY),
    ActionRow(502, "", Action.RETRY),
    ActionRow(503, "", Action.RETRY),
    ActionRow(504, "", Action.RETRY),
    ActionRow(ANY, "", Action.FAIL),
)


def classify(
    status: int, code: str = "", message: str = "", fields: Collection[str] = ()
) -> Action:
    """The action of the first row of ``ACTIONS`` that matches."""
    return next(row.action for row in ACTIONS if row.matches(status, code, message, fields))


_USAGE = re.compile(r"(?:^|[;\s])api-usage=(\d+)/(\d+)")


@attrs.frozen
class LimitInfo:
    """API calls used and allocated in the org's rolling 24 hours."""

    used: int
    allocation: int

    @property
    def used_fraction(self) -> float:
        """Share of the allocation used (1.0 when the allocation is 0)."""
        return self.used / self.allocation if self.allocation else 1.0


def parse_limit_info(header: str | None) -> LimitInfo | None:
    """Parse ``api-usage=18/5000[; per-app-api-usage=...]``; ``None`` when absent or garbled."""
    if not header:
        return None
    match = _USAGE.search(header)
    if match is None:
        return None
    return LimitInfo(used=int(match.group(1)), allocation=int(match.group(2)))


@attrs.define
class UsageGuard:
    """Paces calls as the daily allocation runs low and says when to stop.

    Attributes:
        slow_down_at: Share of the allocation after which calls are paced.
        reserve: Share of the allocation left untouched for other integrations.
        max_pause: Longest pause between calls, reached at the reserve line (seconds).
        sleep: How to wait (injected in tests).
        latest: The last reading, if any.
    """

    slow_down_at: float = 0.8
    reserve: float = 0.05
    max_pause: float = 2.0
    sleep: Callable[[float], None] = time.sleep
    latest: LimitInfo | None = None

    def observe(self, header: str | None) -> None:
        """Record the ``Sforce-Limit-Info`` of a response."""
        info = parse_limit_info(header)
        if info is not None:
            self.latest = info

    @property
    def exhausted(self) -> bool:
        """Whether only the reserve is left."""
        info = self.latest
        return info is not None and info.used_fraction >= 1.0 - self.reserve

    def pause(self) -> float:
        """Seconds to wait before the next call (0 until ``slow_down_at``)."""
        info = self.latest
        if info is None or info.used_fraction < self.slow_down_at:
            return 0.0
        stop = 1.0 - self.reserve
        span = max(stop - self.slow_down_at, 1e-9)
        return round(self.max_pause * min(1.0, (info.used_fraction - self.slow_down_at) / span), 3)

    def before_call(self) -> None:
        """Wait as long as the reading says (logged once per pause)."""
        seconds = self.pause()
        if seconds > 0 and self.latest is not None:
            log.info(
                "salesforce.limit.slow_down",
                seconds=seconds,
                used=self.latest.used,
                allocation=self.latest.allocation,
            )
            self.sleep(seconds)
