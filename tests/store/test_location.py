"""Store locations: a SQLite path or a PostgreSQL URL, read from one string."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadroute.errors import UserInputError
from leadroute.store.location import parse_location


def test_a_plain_string_is_a_sqlite_path():
    """A string without ``://`` is a SQLite file, kept as written."""
    where = parse_location("stores/leadroute.db")
    assert (where.backend, where.path, where.display) == (
        "sqlite",
        Path("stores/leadroute.db"),
        "stores/leadroute.db",
    )


def test_a_postgres_url_keeps_its_slashes():
    """``postgresql+psycopg://`` is a URL, not a path whose ``//`` collapses."""
    where = parse_location("postgresql+psycopg://app@db.internal:5432/routing")
    assert where.backend == "postgresql" and where.path is None
    assert (where.url.host, where.url.port, where.url.database) == ("db.internal", 5432, "routing")


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg"])
def test_every_postgres_spelling_means_psycopg_3(scheme):
    """``postgresql://`` and ``postgres://`` use psycopg 3, the driver the extra installs."""
    where = parse_location(f"{scheme}://app@localhost/routing")
    assert where.url.drivername == "postgresql+psycopg"


def test_a_sqlite_url_is_its_path():
    """``sqlite:///PATH`` opens the same file as ``PATH`` (four slashes: an absolute path)."""
    assert parse_location("sqlite:///stores/x.db").path == Path("stores/x.db")
    assert parse_location("sqlite:////tmp/x.db").path == Path("/tmp/x.db")


def test_the_password_never_shows():
    """A URL's password is replaced by ``***`` wherever the location is shown."""
    where = parse_location("postgresql://app:s3cret-canary@localhost/routing")
    assert "s3cret-canary" not in where.display and "***" in where.display
    assert where.url.password == "s3cret-canary"  # the engine still gets it


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("mysql://app:pw@localhost/routing", "not mysql"),
        ("sqlite://", "not sqlite"),
        ("postgresql://app:pw@localhost:notaport/x", "is not a database URL"),
    ],
)
def test_other_databases_are_refused_in_one_line(text, says):
    """A URL for another database, or not a URL at all, is one line naming --store, no password."""
    with pytest.raises(UserInputError) as caught:
        parse_location(text)
    message = str(caught.value)
    assert message.startswith("--store: ") and says in message
    assert "\n" not in message and ":pw@" not in message
