"""Errors as ``application/problem+json`` (RFC 9457): type, title, status, detail, field.

Every error the service returns goes through ``problem``; an unexpected exception is
logged with its type only and answered with a bare 500 problem, never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.responses import Response

__all__ = ["PROBLEM_TYPE", "FieldProblem", "ProblemError", "problem"]

PROBLEM_TYPE = "https://leadroute.dev/problems/"
MEDIA_TYPE = "application/problem+json"


class FieldProblem(Exception):
    """A field of the request is wrong (answered 422 naming the field)."""

    def __init__(self, field: str, detail: str, code: str = "INVALID_FIELD") -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail
        self.code = code


class ProblemError(Exception):
    """Stop handling a request and answer with this problem."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str = "",
        *,
        field: str = "",
        headers: Mapping[str, str] | None = None,
        errors: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        super().__init__(detail or title)
        self.response = problem(
            status, kind, title, detail, field=field, headers=headers, errors=errors
        )


def problem(
    status: int,
    kind: str,
    title: str,
    detail: str = "",
    *,
    field: str = "",
    headers: Mapping[str, str] | None = None,
    errors: Sequence[Mapping[str, Any]] = (),
) -> Response:
    """A problem+json response; ``kind`` is the last part of the ``type`` URI."""
    body: dict[str, Any] = {"type": PROBLEM_TYPE + kind, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if field:
        body["field"] = field
    if errors:
        body["errors"] = list(errors)
    return Response(
        json.dumps(body, sort_keys=True),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=dict(headers or {}),
    )
