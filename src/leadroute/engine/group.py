"""``CommitGroup``: decisions staged in the engine's state, written to the store in groups.

Staging a decision takes it into the engine's state at once (the next lead sees its load,
its turn, its owner for duplicates), builds its ``CommitUnit`` (effects, turns, identity
rows, the person's other records that follow it) and holds the unit until the group is
full; ``flush`` writes the held units in one transaction. A unit another process wrote
first (its ``(lead_id, epoch)`` is taken) is undone in the state, its rotation turn given
back, and the winner's decision stands in its place. If the write fails, or the caller
stops with an exception, every held unit is undone: the state is what the store holds.

The live path stages one decision and flushes it (``size=1``); the command line groups
hundreds, so one transaction carries many decisions. A crash loses at most the group not
yet written, and the next run decides those leads again, identically, from the store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Protocol

import attrs

from leadroute.logs import get_logger
from leadroute.models import Decision
from leadroute.pipeline import Decided
from leadroute.store import CommitUnit

__all__ = ["CommitGroup", "Committed", "Staged", "Stager"]

log = get_logger(__name__)


@attrs.frozen(kw_only=True)
class Committed:
    """What became of one staged decision once its group was written.

    Attributes:
        decision: The lead's decision that stands: the staged one, or the decision another
            process committed first (then ``new`` is False).
        new: The staged decision was written.
        followers: The person's other records that moved with it (empty when not new).
        replaced: The lead's decision before this one (None for a first decision).
    """

    decision: Decision
    new: bool
    followers: tuple[Decision, ...] = ()
    replaced: Decision | None = None


@attrs.frozen(kw_only=True)
class Staged:
    """A decision taken into the state and waiting for its group's transaction.

    Attributes:
        unit: What it writes.
        previous: The lead's decision before it.
        followers: Each follower with the decision it replaced.
        applied: Whether staging changed the state (a planned decision no newer than the
            lead's latest does not, and there is nothing to undo).
    """

    unit: CommitUnit
    previous: Decision | None
    followers: tuple[tuple[Decision, Decision], ...] = ()
    applied: bool = True


OnCommit = Callable[[Committed], None]


class Stager(Protocol):
    """What a group needs of its engine (``leadroute.engine.Engine`` is one)."""

    def stage(self, decided: Decided, *, moved: bool = False, planned: bool = False) -> Staged:
        """Take a decision into the state and build what it writes."""
        ...

    def write(self, units: Sequence[CommitUnit]) -> tuple[bool, ...]:
        """Commit units in one group; True for each written."""
        ...

    def unstage(self, staged: Sequence[Staged]) -> None:
        """Undo staged decisions in the state."""
        ...

    def catch_up(self) -> int:
        """Take in what other processes committed."""
        ...

    def committed(self, staged: Staged, *, written: bool) -> Committed:
        """The outcome of a staged decision once its group was written."""
        ...


class CommitGroup:
    """Staged decisions of one engine, written ``size`` at a time (use as a context manager)."""

    def __init__(self, engine: Stager, *, size: int, on_commit: OnCommit | None = None) -> None:
        self._engine = engine
        self._size = max(1, size)
        self._on_commit = on_commit
        self._held: list[Staged] = []

    def add(self, decided: Decided, *, moved: bool = False, planned: bool = False) -> None:
        """Stage a decision; write the group when it is full.

        :param moved: The lead was moved (rebalance, reassign, reroute): the person's other
            records follow its new owner.
        :param planned: The decision was made on a plan (``Engine.planner``), not on the
            engine's own state, so its load and turns are taken in now.
        """
        self._held.append(self._engine.stage(decided, moved=moved, planned=planned))
        if len(self._held) >= self._size:
            self.flush()

    def flush(self) -> None:
        """Write the held units in one transaction and report each through ``on_commit``."""
        held, self._held = self._held, []
        if not held:
            return
        try:
            result = self._engine.write([s.unit for s in held])
        except BaseException:
            self._engine.unstage(held)
            raise
        lost = [s for s, written in zip(held, result, strict=True) if not written]
        if lost:
            self._engine.unstage(lost)
            self._engine.catch_up()
        for staged, written in zip(held, result, strict=True):
            committed = self._engine.committed(staged, written=written)
            if self._on_commit is not None:
                self._on_commit(committed)

    def abandon(self) -> None:
        """Undo every held unit in the state, writing nothing."""
        held, self._held = self._held, []
        self._engine.unstage(held)

    def __enter__(self) -> CommitGroup:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None:
            self.flush()
        else:
            self.abandon()
