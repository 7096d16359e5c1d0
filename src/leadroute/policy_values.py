"""How policy values are read: the type a key needs, said in plain words.

cattrs on its own turns ``max_per_batch: 2.5`` into 2, ``members: rep-1`` into the
letters ``r, e, p, -, 1``, ``keep_current_owner: maybe`` into ``true``, and answers
``max_employees: lots`` with "invalid value for type, expected int | None". These hooks
accept exactly what the key means and otherwise say what was expected and what was
found (``expected a whole number, got 'lots'``).
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from typing import Any

import cattrs
from cattrs.cols import homogenous_tuple_structure_factory, mapping_structure_factory

__all__ = ["ValueProblem", "install_value_hooks", "shown"]


class ValueProblem(ValueError):
    """A policy value of the wrong kind; the message is shown as is, after its path."""


def shown(value: Any) -> str:
    """A value as a message quotes it: text in quotes, YAML's words for the rest."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "nothing (null)"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return repr(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().replace("_", ""))
        except ValueError:
            return None
    return None


def _structure_int(value: Any, _: Any) -> int:
    number = _number(value)
    if number is None or not number.is_integer():
        raise ValueProblem(f"expected a whole number, got {shown(value)}")
    return int(number)


def _structure_float(value: Any, _: Any) -> float:
    number = _number(value)
    if number is None:
        raise ValueProblem(f"expected a number, got {shown(value)}")
    return number


def _structure_bool(value: Any, _: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueProblem(f"expected true or false, got {shown(value)}")
    return value


def _is_list_type(type_: Any) -> bool:
    args = typing.get_args(type_)
    return typing.get_origin(type_) is tuple and len(args) == 2 and args[1] is Ellipsis


def _is_mapping_type(type_: Any) -> bool:
    return typing.get_origin(type_) in (Mapping, dict)


def install_value_hooks(converter: cattrs.Converter, *, except_types: tuple[Any, ...] = ()) -> None:
    """Register the plain-words hooks on ``converter``.

    ``except_types`` keep their own hooks (``tuple[Condition, ...]`` reads a scalar as a
    one-item condition). Register this before those hooks: cattrs tries later ones first.
    """
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(float, _structure_float)
    converter.register_structure_hook(bool, _structure_bool)

    def list_hook(type_: Any) -> Callable[[Any, Any], Any]:
        inner = homogenous_tuple_structure_factory(type_, converter)

        def structure(value: Any, _: Any) -> Any:
            if not isinstance(value, list | tuple):
                raise ValueProblem(f"expected a list (like [a, b]), got {shown(value)}")
            return inner(value, type_)

        return structure

    def mapping_hook(type_: Any) -> Callable[[Any, Any], Any]:
        inner = mapping_structure_factory(type_, converter)

        def structure(value: Any, _: Any) -> Any:
            if not isinstance(value, Mapping):
                raise ValueProblem(f"expected a mapping (key: value), got {shown(value)}")
            return inner(value, type_)

        return structure

    converter.register_structure_hook_factory(
        lambda t: _is_list_type(t) and t not in except_types, list_hook
    )
    converter.register_structure_hook_factory(
        lambda t: _is_mapping_type(t) and t not in except_types, mapping_hook
    )
