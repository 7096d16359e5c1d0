"""Reading requests safely: the body under a size limit, API keys in constant time.

The body is read as a stream and refused (413) as soon as it passes the limit, whatever
``Content-Length`` claims, so a client cannot make the service buffer more than the
limit. API keys are compared with ``hmac.compare_digest`` against every configured key,
so the time taken does not tell which key (or how much of one) matched.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from starlette.requests import Request

from leadroute.service.problems import ProblemError

__all__ = ["api_key_scope", "check_api_key", "parse_api_keys", "read_body"]

API_KEYS_ENV = "LEADROUTE_API_KEYS"


def parse_api_keys(text: str) -> tuple[str, ...]:
    """Keys from ``LEADROUTE_API_KEYS``: comma-separated, blanks ignored."""
    return tuple(key.strip() for key in text.split(",") if key.strip())


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, or a 413 problem once it passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> ProblemError:
    return ProblemError(413, "too-large", "Request body too large", f"the limit is {limit} bytes")


def check_api_key(request: Request, keys: Sequence[str]) -> str:
    """The caller's key from ``Authorization: Bearer KEY``; a 401 problem when it is not one."""
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    given = given.strip()
    if scheme.lower() != "bearer" or not given:
        raise ProblemError(
            401,
            "unauthorized",
            "API key required",
            "send Authorization: Bearer <key>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    matched = ""
    for key in keys:
        # Every key is compared, so a match's position does not change the time taken.
        if hmac.compare_digest(key.encode(), given.encode()):
            matched = key
    if not matched:
        raise ProblemError(
            401,
            "unauthorized",
            "API key not accepted",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return matched


def api_key_scope(key: str) -> str:
    """A stable, non-secret name for a key (idempotency keys are scoped by caller)."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]
