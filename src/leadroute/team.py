"""The reps of one run, with indexes that plugins build once per run and reuse per lead."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any, TypeVar

import attrs

from leadroute.models import Rep

__all__ = ["Team"]

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
