"""The reps of one run, with indexes that plugins build once per run and reuse per lead."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, TypeVar

import attrs

from leadroute.errors import PolicyError
from leadroute.models import InputProblem, Rep

__all__ = ["Team", "unknown_rep"]

T = TypeVar("T")


@attrs.define
class Team:
    """Every rep of a run, what ``leadroute_exclude_reps`` sees besides the reps considered.

    Attributes:
        reps: Rep id to rep.
    """

    reps: Mapping[str, Rep]
    _memo: dict[Hashable, Any] = attrs.field(factory=dict, init=False, repr=False)

    def memo(self, key: Hashable, build: Callable[[], T]) -> T:
        """The value stored under ``key``, built by ``build()`` the first time it is asked for.

        Use a key of your own (your plugin's name) for an index over the team, so a hook
        called for every lead pays for the index once per run.
        """
        try:
            value: T = self._memo[key]
        except KeyError:
            value = self._memo[key] = build()
        return value


def unknown_rep(rep_id: str, path: str, problems: Iterable[InputProblem] = ()) -> PolicyError:
    """The error for a policy reference (``path``) to a rep the run does not have.

    When the source had the rep but left it out for bad cells (``problems``, the input
    problems of the read), the error says so and why, instead of "unknown rep".
    """
    why = [p for p in problems if p.kind == "rep" and p.record_id == rep_id and p.field != "backup"]
    if not why:
        return PolicyError(f"unknown rep {rep_id!r}", path=path)
    where = f"{why[0].file}:{why[0].line}" if why[0].line is not None else why[0].file
    reasons = "; ".join(p.message for p in why)
    return PolicyError(f"rep {rep_id!r} is unusable: {where}: {reasons}", path=path)
