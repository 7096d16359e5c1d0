"""Reading the policy file, and the files it names, within bounds.

A policy may come from anyone who can edit it, so reading it must not be a way to stop
leadroute: a 1 KB "billion laughs" file (aliases of aliases) expands to gigabytes, a
recursive alias never ends, a 5,000-deep nesting overflows the parser's stack, and
``territory_files: [/dev/zero]`` never stops reading. Here:

* files are read only when they are regular files, and only up to a size limit;
* the YAML event stream is checked before anything is built from it (no recursion, so
  depth cannot overflow it): nesting depth, recursive aliases, and the number of nodes the
  document would hold once every alias is expanded are all bounded;
* mapping keys become text: whole numbers (an owner id ``101:``) are read as their
  digits; other keys (``true``, ``null``, ``1.5``, a date) are refused with their path,
  as are two keys that read the same.

Every refusal is a ``PolicyError``: one line, exit 2.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from leadroute.errors import PolicyError

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_POLICY_BYTES",
    "MAX_TABLE_BYTES",
    "load_yaml",
    "read_bounded",
]

MAX_POLICY_BYTES = 1 << 20  # 1 MiB: a policy with every section filled in is a few KB
MAX_TABLE_BYTES = 64 << 20  # 64 MiB: a territory table with every postal code of a country
MAX_DEPTH = 64  # the policy's own structure is under 10 levels deep
MAX_NODES = 250_000  # nodes after alias expansion (a 1 MiB file without aliases has fewer)


def read_bounded(path: Path, limit: int, *, what: str, source: str) -> bytes:
    """The bytes of a regular file no larger than ``limit``; ``PolicyError`` otherwise.

    ``what`` names the file's role in messages (``policy file``, ``territory table``).
    Opening never blocks (a FIFO is refused, not waited on) and a device such as
    ``/dev/zero`` is refused before a byte is read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise PolicyError(f"{what} not found", source=source) from None
    except OSError as exc:
        raise PolicyError(f"cannot read {what}: {exc.strerror}", source=source) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise PolicyError(f"{what} is not a regular file", source=source)
    with os.fdopen(fd, "rb") as file:
        try:
            data = file.read(limit + 1)
        except OSError as exc:
            raise PolicyError(f"cannot read {what}: {exc.strerror}", source=source) from None
    if len(data) > limit:
        raise PolicyError(f"{what} is larger than {limit // 1024:,} KB", source=source)
    return data


def _line(event: yaml.Event) -> str:
    mark = event.start_mark
    return f"line {mark.line + 1}: " if mark is not None else ""


def _alias_size(
    event: yaml.AliasEvent, open_nodes: list[list[Any]], sizes: dict[str, int], source: str
) -> int:
    """The expanded size an alias adds; a recursive alias is refused."""
    if any(anchor == event.anchor for anchor, _ in open_nodes):
        raise PolicyError(
            f"{_line(event)}alias *{event.anchor} refers to a node that contains it",
            source=source,
        )
    # An undefined alias is left for the loader to report with its position.
    return sizes.get(str(event.anchor), 1)


def _check_events(text: str, source: str) -> None:
    """Bound depth and expanded size, refuse recursive aliases, from the event stream."""
    open_nodes: list[list[Any]] = []  # [anchor, expanded size] of each open collection
    sizes: dict[str, int] = {}  # expanded size of each closed anchor
    total = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            if len(open_nodes) >= MAX_DEPTH:
                raise PolicyError(
                    f"{_line(event)}nested deeper than {MAX_DEPTH} levels", source=source
                )
            open_nodes.append([event.anchor, 1])
            size = 1
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, closed = open_nodes.pop()
            if anchor is not None:
                sizes[anchor] = closed
            if open_nodes:
                open_nodes[-1][1] += closed
            continue
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                sizes[event.anchor] = 1
            size = 1
        elif isinstance(event, yaml.AliasEvent):
            size = _alias_size(event, open_nodes, sizes, source)
        else:
            continue
        total += size
        if total > MAX_NODES:
            raise PolicyError(
                f"{_line(event)}the file expands to more than {MAX_NODES:,} values "
                "(aliases that repeat aliases); write it out or use fewer aliases",
                source=source,
            )
        if open_nodes and not isinstance(event, yaml.CollectionStartEvent):
            open_nodes[-1][1] += size


def _key_text(key: Any, path: str, source: str) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)
    shown = "null" if key is None else str(key).lower() if isinstance(key, bool) else repr(key)
    hint = (
        "; YAML reads unquoted yes/no/on/off (and the country code NO) as booleans"
        if isinstance(key, bool)
        else ""
    )
    kind = {bool: "boolean", float: "number", type(None): "null"}.get(type(key), "value")
    kind = "date" if isinstance(key, date) else kind
    raise PolicyError(
        f"key {shown} is a {kind}, not text: quote it{hint}", path=path or "(top)", source=source
    )


def _text_keys(value: Any, path: str, source: str) -> Any:
    """``value`` with every mapping key as text (depth is already bounded)."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            text = _key_text(key, path, source)
            where = f"{path}.{text}" if path else text
            if text in out:
                raise PolicyError(f"key {text!r} appears twice", path=where, source=source)
            out[text] = _text_keys(item, where, source)
        return out
    if isinstance(value, list):
        return [_text_keys(item, f"{path}[{i}]", source) for i, item in enumerate(value)]
    return value


def load_yaml(text: str, *, source: str) -> Any:
    """The document in ``text``, bounded and with text keys; ``PolicyError`` on any problem."""
    try:
        _check_events(text, source)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PolicyError(f"{where}invalid YAML: {problem}", source=source) from None
    return _text_keys(data, "", source)
