"""Where a store lives: a SQLite file path or a PostgreSQL URL, read from one string.

``--store`` (and ``Store.open``) take either. A string with ``://`` is a SQLAlchemy URL;
anything else is a path to a SQLite file. ``postgresql://`` and ``postgres://`` mean
psycopg 3 (the ``postgres`` extra); ``sqlite:///PATH`` is the same as ``PATH``. Every
other database is refused with one line: the schema and the locking are written for
these two.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import sqlalchemy as sa

from leadroute.errors import UserInputError

__all__ = ["StoreLocation", "parse_location"]

POSTGRES_DRIVER = "postgresql+psycopg"
_POSTGRES_NAMES = {"postgres", "postgresql", POSTGRES_DRIVER}


@attrs.frozen(kw_only=True)
class StoreLocation:
    """A parsed store location.

    Attributes:
        backend: ``sqlite`` or ``postgresql``.
        url: The SQLAlchemy URL the engine is created from.
        path: The SQLite file (None for PostgreSQL).
    """

    backend: str
    url: sa.URL
    path: Path | None = None

    @property
    def display(self) -> str:
        """The location as a user wrote it, any password replaced by ``***``."""
        if self.path is not None:
            return str(self.path)
        return self.url.render_as_string(hide_password=True)


def parse_location(location: str | Path) -> StoreLocation:
    """Read a store path or URL; ``UserInputError`` (naming ``--store``) when it is neither."""
    if isinstance(location, Path) or "://" not in location:
        path = Path(location)
        return StoreLocation(
            backend="sqlite", url=sa.URL.create("sqlite", database=str(path)), path=path
        )
    try:
        url = sa.make_url(location)
    except (sa.exc.ArgumentError, ValueError):
        raise UserInputError(f"--store: {_scrubbed(location)} is not a database URL") from None
    name = url.drivername
    if name in _POSTGRES_NAMES:
        return StoreLocation(backend="postgresql", url=url.set(drivername=POSTGRES_DRIVER))
    if name == "sqlite" and url.database:
        path = Path(url.database)
        return StoreLocation(
            backend="sqlite", url=sa.URL.create("sqlite", database=str(path)), path=path
        )
    shown = url.render_as_string(hide_password=True)
    raise UserInputError(
        f"--store: {shown}: leadroute stores live in a SQLite file (a path) or in PostgreSQL "
        f"({POSTGRES_DRIVER}://...), not {name}"
    )


def _scrubbed(text: str) -> str:
    """A URL-ish string with whatever sits between ``://`` and ``@`` (credentials) hidden."""
    scheme, sep, rest = text.partition("://")
    if sep and "@" in rest:
        return f"{scheme}://***@{rest.rpartition('@')[2]}"
    return text
