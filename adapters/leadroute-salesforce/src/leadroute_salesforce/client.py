"""``SalesforceClient``: every REST call of the adapter, with retries, re-auth and limits.

Each call: wait if the daily allocation is running low (``UsageGuard``), send with the
current session, read ``Sforce-Limit-Info``, then act on the answer through the one table
in ``limits``: retry transient failures with tenacity inside a time budget, re-authenticate
once on ``INVALID_SESSION_ID``, stop with ``QuotaExhaustedError`` on the daily limit, and
turn anything else into an ``AdapterError`` carrying Salesforce's own message.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import attrs
import httpx
import tenacity

from leadroute.errors import AdapterError, AuthError, QuotaExhaustedError, RateLimitedError
from leadroute.logs import get_logger
from leadroute.redaction import redact_text
from leadroute_salesforce.auth import Authenticator, Session
from leadroute_salesforce.limits import Action, UsageGuard, classify

__all__ = ["ApiError", "SalesforceClient", "TransientError", "error_of"]

log = get_logger(__name__)

DEFAULT_API_VERSION = "67.0"
CURSOR_RESTARTS = 2


class TransientError(AdapterError):
    """A transient failure (5xx, timeout, lock) that outlasted the retry budget.

    Attributes:
        code: Salesforce's error code, or the transport error's name.
    """

    def __init__(self, message: str, *, code: str = "") -> None:
        self.code = code
        super().__init__(message)


class ApiError(AdapterError):
    """Salesforce refused a request for good (bad query, missing permission...).

    Attributes:
        status: HTTP status.
        code: Salesforce's ``errorCode``.
    """

    def __init__(self, message: str, *, status: int, code: str) -> None:
        self.status = status
        self.code = code
        super().__init__(message)


class _Retry(Exception):
    """Internal: this attempt failed transiently."""

    def __init__(self, code: str, message: str, *, rate: bool = False) -> None:
        self.code = code
        self.message = message
        self.rate = rate
        super().__init__(f"{code}: {message}" if code else message)


def error_of(response: httpx.Response) -> tuple[str, str]:
    """``(errorCode, message)`` of an error response (a JSON array, an object, or text)."""
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:200].strip()
    first = body[0] if isinstance(body, list) and body else body
    if isinstance(first, Mapping):
        code = str(first.get("errorCode") or first.get("error") or "")
        message = str(first.get("message") or first.get("error_description") or "")
        return code, message
    return "", str(body)[:200]


@attrs.define
class SalesforceClient:
    """REST calls against the org's instance.

    Attributes:
        http: The HTTP client (injected; never follows redirects).
        auth: Logs in and re-authenticates.
        api_version: REST API version, ``67.0`` by default.
        guard: Daily-allocation pacing and stop.
        attempts: Most attempts per call for transient failures.
        budget: Most seconds spent retrying one call.
        sleep: How to wait between retries (injected in tests).
        calls: HTTP calls made (token requests excluded).
    """

    http: httpx.Client
    auth: Authenticator
    api_version: str = DEFAULT_API_VERSION
    guard: UsageGuard = attrs.field(factory=UsageGuard)
    attempts: int = 5
    budget: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    calls: int = 0

    @property
    def base_path(self) -> str:
        """``/services/data/vNN.N``."""
        return f"/services/data/v{self.api_version}"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send ``method path`` (relative to the API base, or an absolute ``/services/`` path)."""
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Retry),
            stop=tenacity.stop_after_attempt(self.attempts)
            | tenacity.stop_after_delay(self.budget),
            wait=tenacity.wait_exponential_jitter(multiplier=0.5, max=20),
            sleep=self.sleep,
            before_sleep=lambda state: log.warning(
                "adapter.retry",
                adapter="salesforce",
                method=method,
                path=_loggable(path),
                attempt=state.attempt_number,
                error=str(state.outcome.exception()) if state.outcome else "",
            ),
            reraise=True,
        )
        try:
            return retrying(self._send, method, path, params, json, headers)
        except _Retry as exc:
            detail = f"Salesforce {method} {_loggable(path)} kept failing: {exc}"
            if exc.rate:
                raise RateLimitedError(detail) from None
            raise TransientError(detail, code=exc.code) from None

    def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        json: Any,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        session = self.auth.session()
        response = self._once(session, method, path, params, json, headers)
        if response.status_code == 401:
            code, message = error_of(response)
            if classify(401, code, message) is Action.REAUTH:
                session = self.auth.refresh(session)
                response = self._once(session, method, path, params, json, headers)
        if response.is_success or response.status_code == 300:
            return response
        code, message = error_of(response)
        action = classify(response.status_code, code, message)
        # Classified on Salesforce's words, then scrubbed: a server or a proxy that echoes
        # the request would put the session id into every message built from here.
        code, message = self.scrub(code), self.scrub(message)
        text = f"{code}: {message}" if code else f"HTTP {response.status_code}: {message}"
        if action is Action.RETRY:
            raise _Retry(code or f"HTTP {response.status_code}", message, rate=_is_rate(response))
        if action is Action.STOP:
            raise QuotaExhaustedError(_quota_message(self.guard, text))
        if action in (Action.REAUTH, Action.FAIL_AUTH):
            raise AuthError(f"Salesforce refused the session after re-authenticating ({text})")
        raise ApiError(
            f"Salesforce {method} {_loggable(path)}: {text}",
            status=response.status_code,
            code=code,
        )

    def scrub(self, text: str) -> str:
        """``text`` without this session's secrets, tokens, emails or phone numbers."""
        return redact_text(text, self.auth.secrets())

    def _once(
        self,
        session: Session,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        json: Any,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        if self.guard.exhausted:
            raise QuotaExhaustedError(
                _quota_message(
                    self.guard, "only the reserve (adapters.salesforce.limits.reserve) is left"
                )
            )
        self.guard.before_call()
        url = session.instance_url + (path if path.startswith("/") else f"{self.base_path}/{path}")
        all_headers = {
            "Authorization": f"Bearer {session.access_token}",
            "Accept": "application/json",
            **(headers or {}),
        }
        self.calls += 1
        try:
            response = self.http.request(method, url, params=params, json=json, headers=all_headers)
        except httpx.TransportError as exc:
            raise _Retry(type(exc).__name__, "network error or timeout") from None
        self.guard.observe(response.headers.get("Sforce-Limit-Info"))
        log.debug(
            "salesforce.call", method=method, path=_loggable(path), status=response.status_code
        )
        if response.status_code == 200 and method == "GET" and "json" in all_headers["Accept"]:
            _check_json(response)
        return response

    # ----------------------------------------------------------------- resources

    def query(
        self,
        soql: str,
        *,
        batch_size: int = 2000,
        bulk_over: int | None = None,
        bulk: Callable[[str], Iterator[dict[str, Any]]] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every record of a SOQL query, following ``nextRecordsUrl`` until ``done``.

        When the first page says the query matches more than ``bulk_over`` records, the
        rest of the read is ``bulk(soql)`` (a Bulk API 2.0 query job) instead of hundreds
        of pages. A query cursor that expired mid-read (``INVALID_QUERY_LOCATOR``: unused
        for 15 minutes, or released when the user opened more than 10) is run again from
        the start, skipping the records already returned, at most ``CURSOR_RESTARTS``
        times.
        """
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"}
        returned: set[str] = set()
        for restart in range(CURSOR_RESTARTS + 1):
            response = self.request("GET", "query", params={"q": soql}, headers=headers)
            first = response.json()
            large = bulk_over is not None and int(first.get("totalSize") or 0) > bulk_over
            if bulk is not None and large and not first.get("done", True):
                log.info("salesforce.query.bulk", records=first.get("totalSize"))
                yield from (bulk(soql) if not returned else _fresh(bulk(soql), returned))
                return
            try:
                yield from _fresh(self._pages(response, headers), returned)
                return
            except ApiError as exc:
                if exc.code != "INVALID_QUERY_LOCATOR" or restart == CURSOR_RESTARTS:
                    raise
                log.warning("salesforce.query.cursor_expired", returned=len(returned))

    def _pages(
        self, response: httpx.Response, headers: Mapping[str, str]
    ) -> Iterator[dict[str, Any]]:
        seen: set[str] = set()
        while True:
            body = response.json()
            yield from body.get("records", [])
            next_url = body.get("nextRecordsUrl")
            if body.get("done", True) or not next_url:
                return
            if next_url in seen or not str(next_url).startswith("/services/data/"):
                raise AdapterError(
                    f"Salesforce query paging went wrong at {self.scrub(str(next_url))!r}"
                )
            seen.add(next_url)
            response = self.request("GET", str(next_url), headers=headers)

    def update_collection(
        self, records: Sequence[Mapping[str, Any]], *, headers: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        """``PATCH composite/sobjects`` (≤200 records, ``allOrNone=false``): SaveResults in order."""
        response = self.request(
            "PATCH",
            "composite/sobjects",
            json={"allOrNone": False, "records": list(records)},
            headers=headers,
        )
        return _save_results(response, len(records))

    def upsert_collection(
        self, sobject: str, external_id: str, records: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        """``PATCH composite/sobjects/{sobject}/{external_id}``: upsert by an external id field."""
        response = self.request(
            "PATCH",
            f"composite/sobjects/{sobject}/{external_id}",
            json={"allOrNone": False, "records": list(records)},
        )
        return _save_results(response, len(records))


def _fresh(records: Iterator[dict[str, Any]], returned: set[str]) -> Iterator[dict[str, Any]]:
    """The records not returned yet (by ``Id``; a record without one always passes)."""
    for record in records:
        record_id = record.get("Id")
        if record_id:
            if record_id in returned:
                continue
            returned.add(str(record_id))
        yield record


def _save_results(response: httpx.Response, expected: int) -> list[dict[str, Any]]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, list) or len(body) != expected:
        # A 200 is never "all succeeded": without one result per record we know nothing.
        raise TransientError(
            f"Salesforce answered a collection of {expected} with "
            f"{len(body) if isinstance(body, list) else 'no'} results"
        )
    return [r if isinstance(r, dict) else {} for r in body]


def _check_json(response: httpx.Response) -> None:
    """A truncated or non-JSON 200 is transient (seen in production), not a crash."""
    try:
        response.json()
    except ValueError:
        raise _Retry("BAD_JSON", "response body is not JSON") from None


def _is_rate(response: httpx.Response) -> bool:
    return response.status_code in (403, 420, 429)


def _loggable(path: str) -> str:
    """A path without its query string (SOQL may hold company names)."""
    return path.split("?", 1)[0]


def _quota_message(guard: UsageGuard, text: str) -> str:
    info = guard.latest
    usage = f" ({info.used}/{info.allocation} API calls used)" if info else ""
    return (
        f"Salesforce daily API allocation reached{usage}: {text}. Stopped cleanly: decisions "
        "are saved and unsent writes stay in the outbox; run again when the allocation recovers"
    )
