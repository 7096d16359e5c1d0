"""Checks of what a user wrote in ``leadroute.yaml`` that its structure cannot catch.

Structuring (``policy.py``) knows the shape of the file. These checks know what names
mean: a key written twice, an adapter, a fit contribution, a region or segment in a
``when`` that matches nothing. The rule for a name that matches nothing:

* close to a known name (``hubspott``, ``emae``): a typo, a ``PolicyError`` naming the
  path and the name it is close to;
* unlike any known name: it may be legitimate (an adapter installed elsewhere, a plugin's
  fit contribution, a region the data carries itself), so it is a *warning*, one line
  naming the path, that ``check-policy`` prints and runs log.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import yaml

from leadroute.adapters import AdapterConfig, AdapterRegistry
from leadroute.errors import AuthError, PolicyError

if TYPE_CHECKING:  # policy.py calls check_unique_keys while loading: no import cycle at run time
    from leadroute.policy import Condition, Policy

__all__ = [
    "BUILTIN_CONTRIBUTIONS",
    "check_adapter_options",
    "check_names",
    "check_unique_keys",
]

# The fit contributions the built-in plugin scores (leadroute.builtins.fit).
BUILTIN_CONTRIBUTIONS = ("language", "product", "headroom")
_CUTOFF = 0.75  # how close (0..1, difflib's ratio) a name must be to count as a typo of another


@attrs.define
class _Open:
    """A mapping or sequence being read in the YAML event stream."""

    path: str
    mapping: bool
    keys: dict[str, int] = attrs.field(factory=dict)
    expecting_key: bool = True
    key: str = ""
    index: int = 0

    def child_path(self) -> str:
        if self.mapping:
            return f"{self.path}.{self.key}" if self.path else self.key
        return f"{self.path}[{self.index}]"


def check_unique_keys(text: str, source: str) -> None:
    """Refuse a mapping that names a key twice (two ``routing:`` blocks).

    YAML keeps only the last one, so the first would be dropped without a word. Read from
    the event stream (no recursion, aliases not expanded); text that is not YAML is left
    to the loader to report.
    """
    stack: list[_Open] = []
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if not isinstance(event, yaml.NodeEvent | yaml.CollectionEndEvent):
                continue
            if isinstance(event, yaml.CollectionEndEvent):
                stack.pop()
                _done(stack)
                continue
            parent = stack[-1] if stack else None
            if parent is not None and parent.mapping and parent.expecting_key:
                _key(parent, event, source)
                if isinstance(event, yaml.CollectionStartEvent):
                    stack.append(
                        _Open(path=parent.path, mapping=isinstance(event, yaml.MappingStartEvent))
                    )
                continue
            if isinstance(event, yaml.CollectionStartEvent):
                path = parent.child_path() if parent is not None else ""
                stack.append(_Open(path=path, mapping=isinstance(event, yaml.MappingStartEvent)))
            else:
                _done(stack)
    except yaml.YAMLError:
        return


def _key(parent: _Open, event: yaml.Event, source: str) -> None:
    """Note a key of ``parent``; a scalar key seen before is an error."""
    line = event.start_mark.line + 1 if event.start_mark is not None else 0
    if isinstance(event, yaml.ScalarEvent) and event.value != "<<":
        first = parent.keys.get(event.value)
        parent.key = event.value
        if first is not None:
            raise PolicyError(
                f"appears twice (lines {first} and {line}); YAML would keep only the second "
                "and silently drop the first: merge them into one",
                path=parent.child_path(),
                source=source,
            )
        parent.keys[event.value] = line
    else:
        parent.key = "?"
    if not isinstance(event, yaml.CollectionStartEvent):
        parent.expecting_key = False


def _done(stack: list[_Open]) -> None:
    """A node of the innermost open collection is complete: move to its next slot."""
    if not stack:
        return
    top = stack[-1]
    if top.mapping:
        top.expecting_key = not top.expecting_key
    else:
        top.index += 1


def _near(name: str, known: Collection[str]) -> str:
    lowered = {k.lower(): k for k in known}
    found = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=_CUTOFF)
    return lowered[found[0]] if found else ""


def _unknown_name(
    name: str, known: Collection[str], path: str, what: str, maybe: str, source: str
) -> str:
    """An error for a near miss of a known name; otherwise the warning line to print."""
    close = _near(name, known)
    listed = ", ".join(sorted(known)) or "none"
    if close:
        raise PolicyError(
            f"no {what} is named {name!r}: did you mean {close!r}? (known: {listed})",
            path=path,
            source=source,
        )
    return f"{path}: no {what} is named {name!r} (known: {listed}); {maybe}"


def _whens(policy: Policy) -> Iterator[tuple[str, Mapping[str, tuple[Condition, ...]]]]:
    """Every ``when`` of the policy, with its path."""
    for i, rule in enumerate(policy.routing):
        yield f"routing[{i}].when", rule.when
    for i, skill in enumerate(policy.skills):
        yield f"skills[{i}].when", skill.when
    for i, lead_type in enumerate(policy.lead_types.types):
        yield f"lead_types.types[{i}].when", lead_type.when
    for i, score in enumerate(policy.scoring.rules if policy.scoring else ()):
        yield f"scoring.rules[{i}].when", score.when


def check_names(
    policy: Policy, *, adapters: Collection[str], source: str = "leadroute.yaml"
) -> list[str]:
    """Names that match nothing: ``PolicyError`` for a typo, warning lines for the rest.

    ``adapters`` are the adapter names installed here.
    """
    warnings = [
        _unknown_name(
            name,
            adapters,
            f"adapters.{name}",
            "installed adapter",
            "its settings are unused unless it is installed where the policy runs",
            source,
        )
        for name in policy.adapters
        if name not in adapters
    ]
    contributions = set(BUILTIN_CONTRIBUTIONS) | ({"learned"} if policy.fit.learned else set())
    warnings += [
        _unknown_name(
            name,
            contributions,
            f"fit.weights.{name}",
            "built-in fit contribution",
            "the weight applies only if a plugin scores a contribution by that name",
            source,
        )
        for name in policy.fit.weights
        if name not in contributions
    ]
    named = {
        "region": (set(policy.regions), "region in regions"),
        "segment": ({s.name for s in policy.segments}, "segment in segments"),
    }
    for path, when in _whens(policy):
        for field, (known, what) in named.items():
            lowered = {k.lower() for k in known}
            for condition in when.get(field, ()):
                if condition.op not in ("in", "eq", "not_in", "ne"):
                    continue
                warnings += [
                    _unknown_name(
                        value,
                        known,
                        f"{path}.{field}",
                        what,
                        f"the condition holds only for leads whose data carries {field} "
                        f"{value!r} itself",
                        source,
                    )
                    for value in condition.values
                    if value not in lowered
                ]
    return warnings


def check_adapter_options(
    policy: Policy, registry: AdapterRegistry, workdir: Path, source: str = "leadroute.yaml"
) -> None:
    """Build every installed adapter the policy configures, so a bad option (a column
    mapped to a field that does not exist) is found now, not when a run reads.

    Credentials are not the policy's business: an adapter that stops for missing ones has
    already checked its options (adapters read their settings first).
    """
    for name, options in policy.adapters.items():
        factory = registry.get(name)
        if factory is None:
            continue
        try:
            factory(AdapterConfig(policy=policy, options=dict(options), workdir=workdir))
        except AuthError:
            continue
        except PolicyError as exc:
            if exc.source:
                raise
            raise PolicyError(str(exc), source=source) from None
