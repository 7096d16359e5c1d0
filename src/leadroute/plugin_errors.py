"""One-line messages for plugins that break the hook contract, naming plugin, hook and lead.

Worked out only after something went wrong, so the hot path (``leadroute.dispatch`` calling
plain implementations directly) pays nothing for them:

* ``call_failure``: an implementation raised. The plugin is the one whose implementation's
  code object is on the traceback.
* ``wrong_type``: a hook returned something its contract forbids (a lone model instead of
  a list, a dict, a tuple). Each implementation is asked again, in pluggy's order, and the
  first whose answer breaks the contract is named. Only per-lead hooks without side
  effects are checked this way (broadcast hooks return nothing).
* ``unknown_hook_hint``: the nearest hook name for a misspelt one.

Values are described by their type only: a lead's fields never reach an error message.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

import pluggy

from leadroute import hookspecs

__all__ = [
    "HOOK_NAMES",
    "call_failure",
    "describe",
    "subject_of",
    "unknown_hook_hint",
    "wrong_type",
]

HOOK_NAMES: tuple[str, ...] = tuple(
    sorted(name for name in vars(hookspecs) if name.startswith("leadroute_"))
)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def subject_of(kwargs: Mapping[str, Any]) -> str:
    """`` for lead L-1`` (or the outcome's or decision's lead), ``""`` when the call has none."""
    for key, attr in (("lead", "id"), ("outcome", "lead_id"), ("decision", "lead_id")):
        found: Any = getattr(kwargs.get(key), attr, "")
        if found:
            return f" for lead {found}"
    return ""


def _raiser(caller: pluggy.HookCaller, tb: TracebackType | None) -> str:
    """The plugin whose implementation is on the traceback, ``""`` when none is."""
    codes = {}
    for impl in caller.get_hookimpls():
        code = getattr(impl.function, "__code__", None)
        if code is not None:
            codes[code] = impl.plugin_name
    while tb is not None:
        name = codes.get(tb.tb_frame.f_code)
        if name is not None:
            return name
        tb = tb.tb_next
    return ""


def call_failure(caller: pluggy.HookCaller, kwargs: Mapping[str, Any], exc: BaseException) -> str:
    """``plugin 'x' failed in hook leadroute_score_fit for lead L-1: ValueError: boom``."""
    plugin = _raiser(caller, exc.__traceback__)
    who = f"plugin {plugin!r} failed in hook" if plugin else "hook"
    tail = "" if plugin else " failed"
    return _one_line(f"{who} {caller.name}{tail}{subject_of(kwargs)}: {type(exc).__name__}: {exc}")


def describe(value: Any) -> str:
    """A value's shape for an error: ``a dict``, ``a list holding a str``, never its content."""
    if isinstance(value, list | tuple | set | frozenset):
        wrong = next((type(v).__name__ for v in value), "")
        return (
            f"a {type(value).__name__} holding a {wrong}"
            if wrong
            else f"an empty {type(value).__name__}"
        )
    return f"a {type(value).__name__}"


def _breaks(value: Any, kind: type, single: bool) -> bool:
    """Whether one implementation's answer breaks the contract of a hook returning ``kind``
    (``single``: one value or None; otherwise an iterable of ``kind``, a mapping when
    ``kind`` is ``Mapping``)."""
    if value is None:
        return False
    if single or kind is Mapping:
        return not isinstance(value, kind)
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        return True
    return any(not isinstance(item, kind) for item in value)


def wrong_type(caller: pluggy.HookCaller, kwargs: Mapping[str, Any], kind: type) -> str:
    """The one-line message for a hook whose answer is not what its contract says."""
    single = bool(caller.spec and caller.spec.opts.get("firstresult"))
    expected = (
        f"{_a(kind.__name__)} {kind.__name__} or None"
        if single or kind is Mapping
        else f"a list of {kind.__name__} or None"
    )
    for impl in reversed(caller.get_hookimpls()):
        try:
            value = impl.function(*(kwargs[name] for name in impl.argnames))
        except Exception as exc:  # asking again raised: that is the plugin's error then
            return call_failure(caller, kwargs, exc)
        if _breaks(value, kind, single):
            return _one_line(
                f"plugin {impl.plugin_name!r}: hook {caller.name} returned {describe(value)}"
                f"{subject_of(kwargs)}; expected {expected}"
            )
    return _one_line(
        f"hook {caller.name} returned a wrong type{subject_of(kwargs)}; expected {expected}"
    )


def _a(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def unknown_hook_hint(name: str) -> str:
    """`` (did you mean leadroute_score_fit?)`` for a near miss, ``""`` otherwise."""
    close = difflib.get_close_matches(name, HOOK_NAMES, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""
