"""``HubSpotClient``: one HTTP call to HubSpot, with auth, pacing and retries (tenacity, here only).

Paths follow the configured API version: ``v3`` gives the legacy ``/crm/v3/objects/...``
and ``/crm/v3/owners``; a date (``2026-03``) gives ``/crm/objects/2026-03/...`` and
``/crm/owners/2026-03``. Errors leave as leadroute errors, scrubbed of every secret.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import attrs
import httpx
import tenacity

from leadroute.errors import AdapterError, AuthError, QuotaExhaustedError, RateLimitedError
from leadroute.logs import get_logger
from leadroute_hubspot.auth import Auth
from leadroute_hubspot.limits import Action, ErrorRule, Pacer, classify, error_body, retry_after

__all__ = ["DEFAULT_BASE_URL", "HubSpotClient", "Rejected"]

log = get_logger(__name__)

DEFAULT_BASE_URL = "https://api.hubapi.com"
_DATE_VERSION = re.compile(r"^\d{4}-\d{2}$")


class _Transient(Exception):
    """A failed attempt worth another try, with the wait the response asked for (None: backoff)."""

    def __init__(self, rule: ErrorRule, detail: str, wait: float | None) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail
        self.wait = wait


@attrs.frozen(kw_only=True)
class Rejected:
    """A request HubSpot refused for what it asked (4xx other than auth and limits).

    Attributes:
        status: HTTP status.
        category: HubSpot's ``category`` (``VALIDATION_ERROR``...), ``""`` when absent.
        message: HubSpot's message, scrubbed of secrets.
        body: The whole error body.
    """

    status: int
    category: str
    message: str
    body: Mapping[str, Any] = attrs.field(factory=dict)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@attrs.define
class HubSpotClient:
    """HubSpot's CRM API over an injected ``httpx.Client``.

    Attributes:
        http: The HTTP client (tests inject one routed to the fake HubSpot).
        auth: Where bearer tokens come from.
        base_url: ``https://api.hubapi.com`` unless a proxy sits in front.
        api_version: ``v3`` (legacy paths) or a date version such as ``2026-03``.
        budget: Seconds one request may spend retrying before it gives up.
        max_wait: The longest single wait honoured; a longer ``Retry-After`` stops the run.
        max_attempts: Attempts per request.
        clock: Monotonic seconds (injected in tests).
        sleep: How to wait (injected in tests, which never sleep).
        now: Wall-clock UTC, for ``Retry-After`` dates.
        pacer: Spaces requests from the rate-limit headers.
    """

    http: httpx.Client
    auth: Auth
    base_url: str = DEFAULT_BASE_URL
    api_version: str = "v3"
    budget: float = 120.0
    max_wait: float = 60.0
    max_attempts: int = 8
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = _utcnow
    pacer: Pacer = attrs.field()

    @pacer.default
    def _pacer(self) -> Pacer:
        return Pacer(clock=self.clock, sleep=self.sleep)

    # ----------------------------------------------------------------- paths

    @property
    def dated(self) -> bool:
        """Whether the client uses date-versioned paths."""
        return bool(_DATE_VERSION.match(self.api_version))

    def objects(self, kind: str) -> str:
        """The collection path of an object type (``contacts``, ``companies``, ``tasks``)."""
        if self.dated:
            return f"/crm/objects/{self.api_version}/{kind}"
        return f"/crm/{self.api_version}/objects/{kind}"

    def owners(self) -> str:
        """The owners path."""
        return (
            f"/crm/owners/{self.api_version}" if self.dated else f"/crm/{self.api_version}/owners"
        )

    def properties(self, kind: str, name: str) -> str:
        """The path of one property's definition."""
        if self.dated:
            return f"/crm/properties/{self.api_version}/{kind}/{name}"
        return f"/crm/{self.api_version}/properties/{kind}/{name}"

    def associate_default(self, from_kind: str, to_kind: str) -> str:
        """The batch path creating default (unlabeled) associations."""
        if self.dated:
            return f"/crm/associations/{self.api_version}/{from_kind}/{to_kind}/batch/associate/default"
        return f"/crm/v4/associations/{from_kind}/{to_kind}/batch/associate/default"

    def associations(self, from_kind: str, to_kind: str) -> str:
        """The batch-read path of associations between two object types."""
        if self.dated:
            return f"/crm/associations/{self.api_version}/{from_kind}/{to_kind}/batch/read"
        return f"/crm/v4/associations/{from_kind}/{to_kind}/batch/read"

    # ----------------------------------------------------------------- calls

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        search: bool = False,
    ) -> Any:
        """A call whose rejection is a bug or a set-up problem: the JSON body, or AdapterError."""
        result = self.request(method, path, json=json, params=params, search=search)
        if isinstance(result, Rejected):
            raise AdapterError(
                f"HubSpot rejected {method} {path}: HTTP {result.status} "
                f"{result.category or 'error'}: {result.message}"
            )
        return result.json() if result.content else {}

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        search: bool = False,
        idempotent: bool = True,
    ) -> httpx.Response | Rejected:
        """Send one request, retrying what the error table says to; a 4xx rejection is returned.

        A non-``idempotent`` request (a create) is not retried after a timeout or a 5xx:
        HubSpot may have applied it, so the caller checks before trying again. Limits
        (429, 423) are still retried: HubSpot did not process those requests.

        Raises ``AuthError`` (401 after a refresh, 403), ``QuotaExhaustedError`` (daily
        limit), ``RateLimitedError`` (a burst limit outlasting the budget or ``max_wait``)
        and ``AdapterError`` (server errors or timeouts outlasting the budget).
        """
        started = self.clock()
        refreshed: list[str] = []  # the token refreshed after a 401 (at most once per request)

        def attempt() -> httpx.Response | Rejected:
            self.pacer.before(search=search)
            if self.pacer.daily_remaining == 0:
                raise QuotaExhaustedError(
                    "HubSpot daily API limit reached (X-HubSpot-RateLimit-Daily-Remaining: 0); "
                    "stopped cleanly, pending writes stay in the outbox for the next run"
                )
            token = self.auth.token()
            try:
                response = self.http.request(
                    method,
                    self.base_url + path,
                    json=json,
                    params=params,
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.TransportError as exc:
                detail = f"{type(exc).__name__} on {method} {path}"
                if not idempotent:
                    raise AdapterError(f"HubSpot outcome unknown: {detail}") from None
                raise _Transient(classify(0, {}), detail, None) from None
            self.pacer.observe(response.headers)
            try:
                return self._verdict(response, f"{method} {path}", token, refreshed)
            except _Transient as exc:
                if not idempotent and exc.rule.action is Action.BACKOFF:
                    raise AdapterError(f"HubSpot outcome unknown: {exc.detail}") from None
                raise

        backoff = tenacity.wait_random_exponential(multiplier=0.5, max=30)

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Transient) and exc.wait is not None:
                return exc.wait
            return float(backoff(state))

        def stop(state: tenacity.RetryCallState) -> bool:
            return state.attempt_number >= self.max_attempts or (
                self.clock() - started >= self.budget
            )

        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.info(
                "adapter.retry",
                adapter="hubspot",
                attempt=state.attempt_number,
                wait=round(state.upcoming_sleep, 3),
                reason=str(exc),
            )

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Transient),
            wait=wait,
            stop=stop,
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Transient as exc:
            if exc.rule.status == 429:
                raise RateLimitedError(f"HubSpot rate limit outlasted the retries: {exc}") from None
            raise AdapterError(f"HubSpot kept failing: {exc}") from None

    def _verdict(
        self, response: httpx.Response, call: str, token: str, refreshed: list[str]
    ) -> httpx.Response | Rejected:
        """Return the response or the rejection; raise what the error table says otherwise."""
        body = error_body(response.content) if response.status_code >= 300 else {}
        rule = classify(response.status_code, body)
        message = self._scrub(str(body.get("message", "")))
        detail = f"HTTP {response.status_code} {rule.key} on {call}: {message}"
        if rule.action is Action.OK:
            return response
        if rule.action is Action.REJECT:
            return Rejected(
                status=response.status_code,
                category=str(body.get("category", "")),
                message=message,
                body=body,
            )
        if rule.action is Action.QUOTA:
            raise QuotaExhaustedError(
                "HubSpot daily API limit reached (policy DAILY, resets at midnight in the "
                "portal's time zone); stopped cleanly, pending writes stay in the outbox"
            )
        if rule.action is Action.AUTH:
            raise AuthError(
                f"HubSpot refused {call} (HTTP 403 {body.get('category', '')}): "
                f"{message}; check the app's scopes"
            )
        if rule.action is Action.REFRESH:
            if refreshed or not self.auth.expired(token):
                raise AuthError(f"HubSpot rejected the credentials (HTTP 401) on {call}: {message}")
            refreshed.append(token)
            raise _Transient(rule, detail, 0.0)
        if rule.action is Action.WAIT:
            raise _Transient(rule, detail, self._wait_for(rule, response, call))
        raise _Transient(rule, detail, None)  # BACKOFF

    def _wait_for(self, rule: ErrorRule, response: httpx.Response, call: str) -> float:
        """How long a WAIT row waits: Retry-After, the window's length, or the row's default."""
        wait = retry_after(response.headers, self.now())
        if wait is None and rule.key == "TEN_SECONDLY_ROLLING":
            interval = response.headers.get("x-hubspot-ratelimit-interval-milliseconds", "")
            wait = float(interval) / 1000 if interval.isdigit() else None
        wait = rule.wait if wait is None else wait
        if wait > self.max_wait:
            raise RateLimitedError(
                f"HubSpot asked to wait {wait:.0f}s on {call}, longer than "
                f"{self.max_wait:.0f}s; stopped, pending writes stay in the outbox"
            )
        return wait

    def _scrub(self, text: str) -> str:
        for secret in self.auth.secrets():
            text = text.replace(secret, "***")
        return text
