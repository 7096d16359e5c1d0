"""OAuth 2.0 for a server-to-server integration: JWT bearer or client credentials.

Neither flow has a refresh token: when the session expires (401 ``INVALID_SESSION_ID``)
the adapter simply logs in again. ``Authenticator.refresh`` is single-flight: threads that
saw the same stale session wait on one lock and the first one in logs in, the others reuse
its session, so an expiry costs one token request however many workers noticed it.

The token response's ``instance_url`` is where every data call goes; it must be an
``https`` URL on a Salesforce domain (or one the policy allows), so a tampered or
misconfigured token endpoint cannot send our bearer token elsewhere.

Secrets (the private key, the client secret) are held in fields excluded from ``repr`` and
never appear in a log line or an error message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

import attrs
import httpx
import jwt
import tenacity

from leadroute.errors import AuthError
from leadroute.logs import get_logger
from leadroute.redaction import redact_text

__all__ = [
    "DEFAULT_DOMAINS",
    "JWT_LIFETIME",
    "Authenticator",
    "ClientCredentialsGrant",
    "Grant",
    "JwtBearerGrant",
    "Session",
    "check_instance_url",
]

log = get_logger(__name__)

JWT_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Salesforce rejects assertions that expire more than 3 minutes out; stay inside with margin.
JWT_LIFETIME = timedelta(minutes=2, seconds=30)
DEFAULT_DOMAINS = (".salesforce.com", ".force.com", ".salesforce.mil", ".cloudforce.com")
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


@attrs.frozen(kw_only=True)
class Session:
    """An access token and the instance it is good for.

    Attributes:
        access_token: The bearer token (never shown in ``repr``).
        instance_url: Base URL of the org's instance, from the token response.
        number: How many logins happened before this one (tells stale sessions apart).
    """

    access_token: str = attrs.field(repr=False)
    instance_url: str
    number: int


class Grant(Protocol):
    """A way to obtain a token: the form to post and where to post it."""

    @property
    def token_url(self) -> str:
        """Where the token request goes."""
        ...

    def form(self, now: datetime) -> dict[str, str]:
        """The ``application/x-www-form-urlencoded`` body of the token request."""
        ...


@attrs.frozen(kw_only=True)
class JwtBearerGrant:
    """OAuth 2.0 JWT bearer flow (RS256 assertion signed with the app's certificate key).

    Attributes:
        token_url: ``https://login.salesforce.com/services/oauth2/token`` or the My Domain one.
        client_id: The External Client App's consumer key (``iss``).
        username: The integration user (``sub``); pre-approved for the app.
        audience: ``https://login.salesforce.com`` (``test`` for sandboxes).
        private_key: PEM text of the RSA private key (never shown in ``repr``).
    """

    token_url: str
    client_id: str
    username: str
    audience: str
    private_key: str = attrs.field(repr=False)

    def assertion(self, now: datetime) -> str:
        """The signed JWT: ``iss``, ``sub``, ``aud`` and an ``exp`` under 3 minutes away."""
        claims = {
            "iss": self.client_id,
            "sub": self.username,
            "aud": self.audience,
            "exp": int((now + JWT_LIFETIME).timestamp()),
        }
        try:
            return jwt.encode(claims, self.private_key, algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError):
            # The library's message may quote key material: say what is wrong, not what it saw.
            raise AuthError(
                "Salesforce JWT bearer: the private key is not a PEM-encoded RSA private key "
                "(LEADROUTE_SALESFORCE_PRIVATE_KEY or LEADROUTE_SALESFORCE_PRIVATE_KEY_FILE)"
            ) from None

    def form(self, now: datetime) -> dict[str, str]:
        """``grant_type`` and ``assertion``."""
        return {"grant_type": JWT_GRANT_TYPE, "assertion": self.assertion(now)}


@attrs.frozen(kw_only=True)
class ClientCredentialsGrant:
    """OAuth 2.0 client credentials flow (runs as the app's configured "Run As" user).

    Attributes:
        token_url: Must be the My Domain token URL (login/test hosts refuse this flow).
        client_id: The consumer key.
        client_secret: The consumer secret (never shown in ``repr``).
    """

    token_url: str
    client_id: str
    client_secret: str = attrs.field(repr=False)

    def form(self, now: datetime) -> dict[str, str]:
        """``grant_type``, ``client_id`` and ``client_secret``."""
        return {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }


def check_instance_url(url: str, domains: Sequence[str]) -> str:
    """``url`` without a trailing slash, if it is https on an allowed domain; else ``AuthError``."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    allowed = any(
        host == d.lstrip(".") or host.endswith(d if d.startswith(".") else "." + d) for d in domains
    )
    if parts.scheme != "https" or not allowed or parts.path not in {"", "/"}:
        raise AuthError(
            f"Salesforce returned instance_url {redact_text(url)!r}, which is not an https URL "
            f"on an allowed domain ({', '.join(domains)}); list the domain in "
            "LEADROUTE_SALESFORCE_TRUSTED_ORIGINS (environment) if it is really yours"
        )
    return url.rstrip("/")


class _TokenRetry(Exception):
    """A token request worth repeating (rate limited, server error, network)."""


@attrs.define
class Authenticator:
    """Logs in, keeps the current session, and re-authenticates once per expiry.

    Attributes:
        http: The HTTP client (injected; tests pass one routed to the fake).
        grant: How to log in.
        domains: Allowed instance domains.
        clock: Current UTC time (the JWT ``exp``).
        sleep: How to wait between token retries.
        attempts: Most token requests per login.
        logins: Successful logins so far.
    """

    http: httpx.Client
    grant: Grant
    domains: Sequence[str] = DEFAULT_DOMAINS
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    sleep: Callable[[float], None] = time.sleep
    attempts: int = 4
    logins: int = 0
    _session: Session | None = None
    _lock: threading.Lock = attrs.field(factory=threading.Lock)
    _secrets: list[str] = attrs.field(factory=list, repr=False)

    def secrets(self) -> tuple[str, ...]:
        """Every secret this process sent or received: scrubbed from text Salesforce returns.

        The access tokens, and the client secret or the signed assertions of the logins
        so far (a server or a proxy that echoes the request would quote them).
        """
        return tuple(self._secrets)

    def _remember(self, value: str) -> None:
        if value and value not in self._secrets:
            self._secrets.append(value)

    def session(self) -> Session:
        """The current session, logging in first if there is none."""
        with self._lock:
            if self._session is None:
                self._session = self._login()
            return self._session

    def refresh(self, stale: Session) -> Session:
        """A session newer than ``stale``: the one another thread just got, or a new login."""
        with self._lock:
            if self._session is not None and self._session.number != stale.number:
                return self._session
            log.info("salesforce.auth.reauthenticate", session=stale.number)
            self._session = self._login()
            return self._session

    def _login(self) -> Session:
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_TokenRetry),
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=tenacity.wait_exponential(multiplier=0.5, max=8),
            sleep=self.sleep,
            before_sleep=lambda state: log.warning(
                "salesforce.auth.retry", attempt=state.attempt_number
            ),
            reraise=True,
        )
        try:
            body = retrying(self._token_request)
        except _TokenRetry as exc:
            raise AuthError(
                f"Salesforce token endpoint kept failing ({exc}); try again later"
            ) from None
        instance = check_instance_url(str(body.get("instance_url", "")), self.domains)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise AuthError("Salesforce token response has no access_token")
        self._remember(token)
        self.logins += 1
        log.info("salesforce.auth.logged_in", instance_url=instance, logins=self.logins)
        return Session(access_token=token, instance_url=instance, number=self.logins)

    def _token_request(self) -> dict[str, Any]:
        form = self.grant.form(self.clock())
        for key, value in form.items():
            if key in _SECRET_FORM:
                self._remember(value)
        try:
            response = self.http.post(
                self.grant.token_url, data=form, headers={"Accept": "application/json"}
            )
        except httpx.TransportError as exc:
            raise _TokenRetry(type(exc).__name__) from None
        if response.status_code in _RETRY_STATUS:
            raise _TokenRetry(f"HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if response.status_code != 200:
            # Salesforce's words, scrubbed: an echoing server or proxy may quote the request.
            error = redact_text(str(body.get("error", "")), self.secrets()) or (
                f"HTTP {response.status_code}"
            )
            description = redact_text(str(body.get("error_description", "")), self.secrets())
            hint = _HINTS.get(error, "")
            raise AuthError(
                f"Salesforce refused the login: {error}"
                + (f" ({description})" if description else "")
                + (f"; {hint}" if hint else "")
            )
        return body


# Form fields of a token request that are secrets.
_SECRET_FORM = frozenset({"client_secret", "assertion"})

_HINTS = {
    "invalid_grant": "check the username, that the user is pre-authorized for the app, the "
    "certificate, and the login URL (production vs sandbox)",
    "invalid_client_id": "check LEADROUTE_SALESFORCE_CLIENT_ID (the consumer key)",
    "invalid_client": "check the consumer key and secret and that the flow is enabled on the app",
}
