"""Exception-report rows of leads validation rejected (the adapter reports bad records,
``leadroute.fallbacks`` the queue, ``EffectFailure.as_problem`` unresolved effects)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from leadroute.models import InputProblem, Lead

__all__ = ["rejection_problems"]


def _origin(lead: Lead) -> tuple[str, int | None]:
    file, _, line = lead.origin.rpartition(":")
    if file and line.isdigit():
        return file, int(line)
    return lead.origin or "input", None


def rejection_problems(lead: Lead, problems: Iterable[Any]) -> list[InputProblem]:
    """Validation problems of a rejected lead as exception-report rows."""
    file, line = _origin(lead)
    return [
        InputProblem(
            file=file,
            line=line,
            record_id=lead.id,
            kind="lead",
            field=p.field,
            code=p.code,
            message=p.message,
        )
        for p in problems
    ]
