"""Matchers for volatile values in expectations: few, named, pure.

A case compares what the client sent with what it expected. Most values are
literal; the few that cannot be (generated ids, timestamps, a header that must be
missing, a text a client prefixes, an array a client adds its own items to) use one
of seven named matchers, written as one-key JSON objects so the case format stays
plain JSON/YAML that any language can read:

``{"$any": "<json type>"}``
    any value of that JSON type: ``string``, ``number``, ``integer``, ``boolean``,
    ``object``, ``array``, ``null``, or ``value`` (anything present).
``{"$regex": "<pattern>"}``
    a string the pattern matches in full (Python ``re.fullmatch``).
``{"$absent": true}``
    the key (object member or header) must not be there.
``{"$any_of": [<expected>, ...]}``
    at least one alternative matches (alternatives may be matchers).
``{"$exact": <object>}``
    the object must have exactly these keys; by default objects match partially
    (extra keys are allowed), which keeps cases focused on what they check.
``{"$contains": "<text>"}`` / ``{"$contains": [<expected>, ...]}``
    a string with this substring; or an array holding items that match these, in
    this order, other items allowed before, between and after them.
``{"$prefix": "<text>"}``
    a string that starts with this text.

Arrays always match element by element and must have the same length. Everything
else compares by JSON equality (``1 == 1.0``, but ``true != 1``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


__all__ = ["MATCHER_KEYS", "Mismatch", "check_matcher_syntax", "match", "render"]

MATCHER_KEYS = frozenset({"$any", "$regex", "$absent", "$any_of", "$exact", "$contains", "$prefix"})
_JSON_TYPES = frozenset(
    {"string", "number", "integer", "boolean", "object", "array", "null", "value"}
)


@dataclass(frozen=True, slots=True)
class Mismatch:
    """Where and why an actual value differs from the expected one."""

    path: str
    expected: str
    actual: str

    def __str__(self) -> str:
        where = self.path or "<root>"
        return f"{where}: expected {self.expected}, got {self.actual}"


_MISSING = object()


def _is_matcher(value: object) -> bool:
    return isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in MATCHER_KEYS


def render(value: object) -> str:
    """Render an expected or actual value compactly for messages."""
    if value is _MISSING:
        return "absent"
    if _is_matcher(value):
        ((key, arg),) = value.items()  # type: ignore[union-attr]
        if key == "$absent":
            return "absent"
        if key == "$any":
            return f"any {arg}"
        if key == "$regex":
            return f"a string matching /{arg}/"
        if key == "$any_of":
            return "one of " + ", ".join(render(a) for a in arg)
        if key == "$contains":
            if isinstance(arg, list):
                return "an array containing, in order, " + ", ".join(render(a) for a in arg)
            return f"a string containing {render(arg)}"
        if key == "$prefix":
            return f"a string starting with {render(arg)}"
        return f"exactly {render(arg)}"
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 200 else text[:197] + "..."


def _type_ok(kind: str, value: object) -> bool:
    if kind == "value":
        return True
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "object":
        return isinstance(value, Mapping)
    if kind == "array":
        return isinstance(value, list)
    return value is None  # "null"


def _equal(a: object, b: object) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def match(expected: object, actual: object, *, path: str = "") -> Mismatch | None:
    """Return the first mismatch of ``actual`` against ``expected``, or None."""
    if _is_matcher(expected):
        return _match_matcher(expected, actual, path=path)  # type: ignore[arg-type]
    if actual is _MISSING:
        return Mismatch(path, render(expected), "absent")
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return Mismatch(path, "an object", render(actual))
        return _match_object(expected, actual, path=path, exact=False)
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return Mismatch(path, "an array", render(actual))
        if len(expected) != len(actual):
            return Mismatch(path, f"{len(expected)} item(s)", f"{len(actual)}: {render(actual)}")
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            found = match(e, a, path=f"{path}[{i}]")
            if found:
                return found
        return None
    if not _equal(expected, actual):
        return Mismatch(path, render(expected), render(actual))
    return None


def _match_object(
    expected: Mapping[str, Any], actual: Mapping[str, Any], *, path: str, exact: bool
) -> Mismatch | None:
    for key, want in expected.items():
        sub = f"{path}.{key}" if path else str(key)
        found = match(want, actual.get(key, _MISSING), path=sub)
        if found:
            return found
    if exact:
        extra = sorted(set(actual) - set(expected))
        if extra:
            return Mismatch(path, "no other keys", "extra key(s) " + ", ".join(extra))
    return None


def _match_matcher(expected: Mapping[str, Any], actual: object, *, path: str) -> Mismatch | None:
    (key, arg), = expected.items()
    if key == "$absent":
        if actual is _MISSING:
            return None
        return Mismatch(path, "absent", render(actual))
    if actual is _MISSING:
        return Mismatch(path, render(expected), "absent")
    if key == "$any":
        return None if _type_ok(arg, actual) else Mismatch(path, f"any {arg}", render(actual))
    if key == "$regex":
        if isinstance(actual, str) and re.fullmatch(arg, actual):
            return None
        return Mismatch(path, render(expected), render(actual))
    if key == "$any_of":
        if any(match(alt, actual, path=path) is None for alt in arg):
            return None
        return Mismatch(path, render(expected), render(actual))
    if key == "$prefix":
        if isinstance(actual, str) and actual.startswith(arg):
            return None
        return Mismatch(path, render(expected), render(actual))
    if key == "$contains":
        return _match_contains(arg, actual, path=path)
    # "$exact"
    if isinstance(arg, Mapping):
        if not isinstance(actual, Mapping):
            return Mismatch(path, "an object", render(actual))
        return _match_object(arg, actual, path=path, exact=True)
    return match(arg, actual, path=path)


def _match_contains(arg: Any, actual: object, *, path: str) -> Mismatch | None:
    if isinstance(arg, str):
        if isinstance(actual, str) and arg in actual:
            return None
        return Mismatch(path, render({"$contains": arg}), render(actual))
    if not isinstance(actual, list):
        return Mismatch(path, "an array", render(actual))
    start = 0
    for i, want in enumerate(arg):
        found = next((j for j in range(start, len(actual)) if match(want, actual[j]) is None), None)
        if found is None:
            return Mismatch(f"{path}[$contains {i}]", f"an item matching {render(want)} after the earlier ones", render(actual[start:]))
        start = found + 1
    return None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def check_matcher_syntax(value: object, *, path: str = "") -> list[str]:
    """Return problems with matcher objects inside ``value`` (for case validation)."""
    problems: list[str] = []
    if isinstance(value, Mapping):
        dollar = [k for k in value if isinstance(k, str) and k.startswith("$")]
        if dollar and (len(value) != 1 or dollar[0] not in MATCHER_KEYS):
            problems.append(
                f"{path or '<root>'}: unknown matcher {sorted(value)!r}; a matcher is one key "
                f"of {', '.join(sorted(MATCHER_KEYS))}"
            )
            return problems
        if dollar:
            key, arg = dollar[0], value[dollar[0]]
            if key == "$any" and arg not in _JSON_TYPES:
                problems.append(
                    f"{_join(path, '$any')}: expected one of {', '.join(sorted(_JSON_TYPES))}, got {arg!r}"
                )
            elif key == "$regex":
                if not isinstance(arg, str):
                    problems.append(f"{_join(path, '$regex')}: expected a pattern string, got {arg!r}")
                else:
                    try:
                        re.compile(arg)
                    except re.error as exc:
                        problems.append(f"{_join(path, '$regex')}: invalid regular expression: {exc}")
            elif key == "$absent" and arg is not True:
                problems.append(f"{_join(path, '$absent')}: expected true, got {arg!r}")
            elif key == "$any_of":
                if not isinstance(arg, list) or not arg:
                    problems.append(f"{_join(path, '$any')}_of: expected a non-empty list, got {arg!r}")
                else:
                    for i, alt in enumerate(arg):
                        problems += check_matcher_syntax(alt, path=f"{_join(path, '$any')}_of[{i}]")
            elif key == "$exact":
                problems += check_matcher_syntax(arg, path=f"{_join(path, '$exact')}")
            elif key == "$prefix" and not isinstance(arg, str):
                problems.append(f"{_join(path, '$prefix')}: expected a string, got {arg!r}")
            elif key == "$contains":
                if isinstance(arg, list) and arg:
                    for i, item in enumerate(arg):
                        problems += check_matcher_syntax(item, path=f"{_join(path, '$contains')}[{i}]")
                elif not isinstance(arg, str):
                    problems.append(f"{_join(path, '$contains')}: expected a string or a non-empty list, got {arg!r}")
            return problems
        for k, v in value.items():
            problems += check_matcher_syntax(v, path=_join(path, str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            problems += check_matcher_syntax(v, path=f"{path}[{i}]")
    return problems
