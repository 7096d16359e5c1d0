"""Credentials for HubSpot, from the environment only: a static token or OAuth with refresh.

Every call carries ``Authorization: Bearer <token>``, whether the token is a private-app
token, a service key or an OAuth access token. OAuth tokens are refreshed ahead of
``expires_in`` (HubSpot: a 401 is "not a valid indicator" that a new token is needed),
once more on a 401, never on a 403, and one thread refreshes while the others wait.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Protocol

import attrs
import httpx

from leadroute.errors import AuthError
from leadroute.logs import get_logger

__all__ = [
    "ENV_ACCESS_TOKEN",
    "ENV_CLIENT_ID",
    "ENV_CLIENT_SECRET",
    "ENV_REFRESH_TOKEN",
    "Auth",
    "OAuthRefresh",
    "StaticToken",
    "auth_from_env",
]

log = get_logger(__name__)

# Names of environment variables, not secrets (hence the noqa).
ENV_ACCESS_TOKEN = "HUBSPOT_ACCESS_TOKEN"  # noqa: S105  (private-app token or service key)
ENV_CLIENT_ID = "HUBSPOT_CLIENT_ID"
ENV_CLIENT_SECRET = "HUBSPOT_CLIENT_SECRET"  # noqa: S105  (also signs webhooks)
ENV_REFRESH_TOKEN = "HUBSPOT_REFRESH_TOKEN"  # noqa: S105

# Refresh this long before the token says it expires (a run can outlast a 30-minute token).
REFRESH_MARGIN = 300.0


class Auth(Protocol):
    """What the client needs from credentials."""

    def token(self) -> str:
        """A bearer token valid now."""
        ...

    def expired(self, rejected: str) -> bool:
        """HubSpot rejected ``rejected`` with a 401: get a new token; False when none can be had."""
        ...

    def secrets(self) -> tuple[str, ...]:
        """Every secret value held, so error messages can be scrubbed of them."""
        ...


@attrs.define
class StaticToken:
    """A private-app token or service key: it cannot be refreshed.

    Attributes:
        value: The token.
    """

    value: str = attrs.field(repr=False)

    def token(self) -> str:
        """The token."""
        return self.value

    def expired(self, rejected: str) -> bool:
        """A static token cannot be renewed."""
        return False

    def secrets(self) -> tuple[str, ...]:
        """The token."""
        return (self.value,)


@attrs.define
class OAuthRefresh:
    """OAuth access tokens from a refresh token, renewed ahead of expiry (single flight).

    Attributes:
        http: The client used for the token endpoint.
        client_id: The app's client id.
        client_secret: The app's client secret.
        refresh_token: The portal's refresh token.
        token_url: The token endpoint (``/oauth/v1/token``; v3 and 2026-03 take the same form).
        clock: Monotonic seconds.
    """

    http: httpx.Client
    client_id: str
    client_secret: str = attrs.field(repr=False)
    refresh_token: str = attrs.field(repr=False)
    token_url: str = "https://api.hubapi.com/oauth/v1/token"  # noqa: S105  (a URL)
    clock: Callable[[], float] = attrs.field(factory=lambda: _monotonic)
    _access: str = attrs.field(default="", repr=False)
    _expires_at: float = 0.0
    _lock: threading.Lock = attrs.field(factory=threading.Lock, repr=False)

    def token(self) -> str:
        """The current access token, refreshed first when it is within the margin of expiry."""
        with self._lock:
            if not self._access or self.clock() >= self._expires_at - REFRESH_MARGIN:
                self._refresh()
            return self._access

    def expired(self, rejected: str) -> bool:
        """Refresh after a 401 unless another thread already replaced the rejected token."""
        with self._lock:
            if self._access == rejected:
                self._refresh()
        return True

    def secrets(self) -> tuple[str, ...]:
        """Client secret, refresh token and the current access token."""
        return tuple(s for s in (self.client_secret, self.refresh_token, self._access) if s)

    def _refresh(self) -> None:
        try:
            response = self.http.post(
                self.token_url,
                data={
                    "grant_type": "refresh_token",
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "refresh_token": self.refresh_token,
                },
            )
        except httpx.HTTPError as exc:
            raise AuthError(f"HubSpot token refresh failed: {type(exc).__name__}") from None
        if response.status_code != 200:
            # BAD_REFRESH_TOKEN / invalid_grant are terminal: no retry, a clear line.
            raise AuthError(
                f"HubSpot token refresh failed with HTTP {response.status_code}; "
                f"check {ENV_CLIENT_ID}, {ENV_CLIENT_SECRET} and {ENV_REFRESH_TOKEN}"
            )
        body = response.json()
        self._access = str(body["access_token"])
        self._expires_at = self.clock() + float(body.get("expires_in", 1800))
        if body.get("refresh_token"):
            self.refresh_token = str(body["refresh_token"])
        log.info("hubspot.token_refreshed", expires_in=body.get("expires_in"))


def _monotonic() -> float:
    import time  # noqa: PLC0415

    return time.monotonic()


def auth_from_env(
    env: Mapping[str, str], http: httpx.Client, token_url: str, clock: Callable[[], float]
) -> Auth:
    """A static token when ``HUBSPOT_ACCESS_TOKEN`` is set, else OAuth from the three OAuth variables."""
    if env.get(ENV_ACCESS_TOKEN):
        return StaticToken(env[ENV_ACCESS_TOKEN])
    oauth = (ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_REFRESH_TOKEN)
    if all(env.get(name) for name in oauth):
        return OAuthRefresh(
            http=http,
            client_id=env[ENV_CLIENT_ID],
            client_secret=env[ENV_CLIENT_SECRET],
            refresh_token=env[ENV_REFRESH_TOKEN],
            token_url=token_url,
            clock=clock,
        )
    missing = [name for name in oauth if not env.get(name)]
    raise AuthError(
        f"no HubSpot credentials: set {ENV_ACCESS_TOKEN} (private-app token or service key), "
        f"or {', '.join(oauth)} for OAuth (missing: {', '.join(missing)})"
    )
