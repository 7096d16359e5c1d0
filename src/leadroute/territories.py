"""Territories: named lists of geographic keys and named accounts, in the policy or in CSV.

A territory key is one of:

* ``US``: a country (ISO 3166-1 alpha-2);
* ``EMEA``: a region named in the policy's ``regions``;
* ``US-CA``: a state or province within a country;
* ``US:941``: a postal-code prefix within a country (spaces and hyphens ignored).

A territory may also own **named accounts**: account ids or registrable domains
(``acme.com``). A lead from a named account goes to the reps whose territories name it,
whatever its geography.

A CSV territory table has a header with ``territory`` and any of ``country``, ``state``,
``postal_prefix``, ``region`` and ``account``; each row adds one key (or one named account)
to one territory, so moving a state from one territory to another is a one-line data change.
A bad row is a ``PolicyError`` naming the file and line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

import attrs

from leadroute.errors import PolicyError
from leadroute.policy_files import MAX_TABLE_BYTES, read_bounded

__all__ = [
    "TABLE_COLUMNS",
    "Territory",
    "check_key",
    "lead_geo_keys",
    "merge_territories",
    "normalize_account",
    "normalize_key",
    "normalize_postal",
    "read_territory_table",
    "territory_table",
]

TABLE_COLUMNS = ("territory", "country", "state", "postal_prefix", "region", "account")


@attrs.frozen(kw_only=True)
class Territory:
    """A named territory: geographic keys and named accounts.

    Attributes:
        keys: Countries, regions, ``COUNTRY-STATE`` or ``COUNTRY:POSTAL_PREFIX`` keys.
        accounts: Named accounts (account ids or domains) the territory owns.
    """

    keys: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()


def normalize_postal(raw: str) -> str:
    """A postal code as compared: upper case, without spaces or hyphens (``sw1a 1aa`` -> ``SW1A1AA``)."""
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def normalize_key(raw: str) -> str:
    """A territory key as compared: upper case, postal prefix normalised."""
    text = raw.strip()
    country, colon, postal = text.partition(":")
    if colon:
        return f"{country.strip().upper()}:{normalize_postal(postal)}"
    return text.upper()


def normalize_account(raw: str) -> str:
    """A named account as compared: trimmed, lower case."""
    return raw.strip().lower()


def _country_ok(code: str) -> bool:
    return len(code) == 2 and code.isalpha() and code.isascii()


def check_key(raw: str, regions: Collection[str]) -> str:
    """Why a territory key is malformed, ``""`` when it is fine (``regions`` in upper case)."""
    key = normalize_key(raw)
    if key in regions:
        return ""
    country, colon, postal = key.partition(":")
    if colon:
        if not _country_ok(country):
            return f"{raw!r}: {country!r} is not a two-letter country code"
        return "" if postal else f"{raw!r}: empty postal prefix"
    country, dash, state = key.partition("-")
    if dash:
        if not _country_ok(country):
            return f"{raw!r}: {country!r} is not a two-letter country code"
        return "" if state.isalnum() else f"{raw!r}: {state!r} is not a state or province code"
    if _country_ok(key):
        return ""
    return (
        f"unknown territory key {raw!r} (expected a country code, a region, "
        "COUNTRY-STATE or COUNTRY:POSTAL_PREFIX)"
    )


def lead_geo_keys(country: str, state: str, postal: str, region: str) -> frozenset[str]:
    """Every key a lead's address matches: country, region, state and each postal prefix."""
    country = country.strip().upper()
    keys = {region.strip().upper()}
    if country:
        keys.add(country)
        if state.strip():
            keys.add(f"{country}-{state.strip().upper()}")
        code = normalize_postal(postal)
        keys.update(f"{country}:{code[:n]}" for n in range(1, len(code) + 1))
    keys.discard("")
    return frozenset(keys)


def merge_territories(
    parts: Iterable[Mapping[str, Territory]],
) -> dict[str, Territory]:
    """Union territories of the same name, keeping the first-seen order of keys."""
    keys: dict[str, dict[str, None]] = {}
    accounts: dict[str, dict[str, None]] = {}
    for part in parts:
        for name, territory in part.items():
            keys.setdefault(name, {}).update(
                dict.fromkeys(normalize_key(k) for k in territory.keys)
            )
            accounts.setdefault(name, {}).update(
                dict.fromkeys(normalize_account(a) for a in territory.accounts)
            )
    return {
        name: Territory(keys=tuple(keys[name]), accounts=tuple(accounts[name])) for name in keys
    }


def _row_key(cells: Mapping[str, str], regions: Collection[str]) -> tuple[str, str]:
    """("key", value) or ("account", value) for one row; ValueError says what is wrong."""
    country, state = cells["country"], cells["state"]
    postal, region, account = cells["postal_prefix"], cells["region"], cells["account"]
    if account:
        if country or state or postal or region:
            raise ValueError("an account row names only the territory and the account")
        return "account", normalize_account(account)
    if region:
        if country or state or postal:
            raise ValueError("a region row names only the territory and the region")
        if region.upper() not in regions:
            raise ValueError(f"unknown region {region!r} (not in the policy's regions)")
        return "key", region.upper()
    return "key", _address_key(cells["country"], state, postal)


def _address_key(raw_country: str, state: str, postal: str) -> str:
    country = raw_country.upper()
    if not country:
        if state or postal:
            raise ValueError(f"{'state' if state else 'postal_prefix'} needs a country")
        raise ValueError("row names no country, region or account")
    if not _country_ok(country):
        raise ValueError(f"country {raw_country!r} is not a two-letter country code")
    if state and postal:
        raise ValueError("give a state or a postal prefix, not both")
    if postal:
        if not normalize_postal(postal):
            raise ValueError(f"postal_prefix {postal!r} has no letters or digits")
        return f"{country}:{normalize_postal(postal)}"
    if state:
        if not state.isalnum():
            raise ValueError(f"state {state!r} is not a state or province code")
        return f"{country}-{state.upper()}"
    return country


def read_territory_table(
    path: Path, display: str, regions: Collection[str]
) -> dict[str, Territory]:
    """Territories from one CSV table; ``display`` names the file in errors (``territories.csv:7``).

    The file must be a regular file of at most ``MAX_TABLE_BYTES`` (not ``/dev/zero``).
    """
    data = read_bounded(path, MAX_TABLE_BYTES, what="territory table", source=display)
    return territory_table(data, display, regions)


def territory_table(data: bytes, display: str, regions: Collection[str]) -> dict[str, Territory]:
    """Territories from the bytes of one CSV table (see ``read_territory_table``)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PolicyError(
            f"cannot read territory table: not UTF-8 (byte {exc.start + 1})", source=display
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    if "territory" not in header:
        raise PolicyError("no 'territory' column in the header", source=f"{display}:1")
    unknown = [h for h in header if h not in TABLE_COLUMNS]
    if unknown:
        raise PolicyError(
            f"unknown column(s) {', '.join(map(repr, unknown))} "
            f"(expected: {', '.join(TABLE_COLUMNS)})",
            source=f"{display}:1",
        )
    keys: dict[str, list[str]] = {}
    accounts: dict[str, list[str]] = {}
    previous_end = reader.line_num
    try:
        for row in reader:
            line, previous_end = previous_end + 1, reader.line_num
            if not any(c.strip() for c in row):
                continue
            if len(row) > len(header):
                raise PolicyError(
                    f"row has {len(row)} cells but the header has {len(header)}",
                    source=f"{display}:{line}",
                )
            cells = dict.fromkeys(TABLE_COLUMNS, "")
            cells.update({h: c.strip() for h, c in zip(header, row, strict=False)})
            name = cells["territory"]
            if not name:
                raise PolicyError("territory is empty", source=f"{display}:{line}")
            try:
                kind, value = _row_key(cells, regions)
            except ValueError as exc:
                raise PolicyError(str(exc), source=f"{display}:{line}") from None
            (accounts if kind == "account" else keys).setdefault(name, []).append(value)
            keys.setdefault(name, [])
    except csv.Error as exc:
        raise PolicyError(f"unreadable CSV: {exc}", source=f"{display}:{reader.line_num}") from None
    return {
        name: Territory(keys=tuple(keys[name]), accounts=tuple(accounts.get(name, ())))
        for name in keys
    }
