"""The events plane: the case's event assertions over what the implementation reported.

Each assertion is judged in its layer, on the timed event log (seconds on the server's
clock). An assertion about an event type the implementation declares it never reports
is not judged, and says so: it cannot fail, so it must not pass either. What the
implementation reported is checked as such too, in every layer: something that is not
an event, a credential, a duration that cannot be one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fake_server.matchers import match, render
from fake_server.redact import redact_json
from fake_server.transcript import Record
from harness.case.model import Case, EventAssertion, EventCheckKind
from harness.layer import Layer
from harness.verdict.finding import Finding, Plane


__all__ = ["EventScope", "EventsVerdict", "Timed", "event_types", "judge_events", "report_problems", "unreported_types"]

Timed = tuple[float, Mapping[str, Any]]
_DURATION_KEYS = re.compile(r"^(.+_ms|duration|elapsed|latency)$")


def _matches(patterns: frozenset[str], event_type: object) -> bool:
    return isinstance(event_type, str) and any(
        event_type == p or (p.endswith(".*") and event_type.startswith(p[:-1])) for p in patterns
    )


@dataclass(frozen=True, slots=True)
class EventScope:
    """What an implementation declares it reports: all but ``unreported``, or only ``reported``.

    Patterns are event types or ``area.*``. An empty scope keeps every event type.
    """

    unreported: frozenset[str] = frozenset()
    reported: frozenset[str] = frozenset()

    def keeps(self, event_type: object) -> bool:
        if self.reported and not _matches(self.reported, event_type):
            return False
        return not _matches(self.unreported, event_type)


def event_types(matcher: Any) -> frozenset[str]:
    """The literal event types a matcher names (``type: x`` or ``type: {$any_of: [x, y]}``)."""
    if not isinstance(matcher, Mapping):
        return frozenset()
    kind = matcher.get("type")
    if isinstance(kind, str):
        return frozenset({kind})
    if isinstance(kind, Mapping) and isinstance(kind.get("$any_of"), list):
        return frozenset(k for k in kind["$any_of"] if isinstance(k, str))
    return frozenset()


def unreported_types(assertion: EventAssertion, scope: EventScope) -> list[str]:
    """The event types an assertion depends on that the implementation never reports.

    A matcher depends on its literal types; one naming alternatives (``$any_of``) is
    satisfiable as long as one of them is reported. The window's anchor event counts
    too. Empty: the assertion can be judged.
    """
    missing: set[str] = {t for t in assertion.of if not scope.keeps(t)}
    anchor = [assertion.after["event"]] if assertion.after and "event" in assertion.after else []
    for m in (*assertion.matchers, *anchor):
        types = event_types(m)
        if types and not any(scope.keeps(t) for t in types):
            missing |= types
    return sorted(missing)


@dataclass(frozen=True, slots=True)
class EventsVerdict:
    """Failures, the layers that had something judged, alternatives taken, what was skipped."""

    findings: tuple[Finding, ...]
    judged: frozenset[Layer]
    non_strict: tuple[tuple[Layer, str], ...] = ()
    not_judged: tuple[str, ...] = ()


def _at(events: Sequence[Timed], i: int) -> str:
    return f"#{i + 1} at {events[i][0] * 1000:.0f} ms"


def _near_misses(want: Any, events: Sequence[Timed], start: int) -> str:
    """The closest candidates: events of the wanted type from ``start``, and why each differs."""
    types = event_types(want)
    misses = [
        f"{_at(events, i)}: {match(want, event)}"
        for i, (_, event) in enumerate(events)
        if i >= start and types and event.get("type") in types
    ]
    if misses:
        return "; the nearest: " + "; ".join(misses[:3])
    seen = [str(e.get("type")) for _, e in events[start:]]
    return "; received from there: " + (", ".join(seen[:12]) + (" ..." if len(seen) > 12 else "") if seen else "nothing")


def _window(a: EventAssertion, events: Sequence[Timed], marks: Mapping[str, float]) -> tuple[float, float] | str:
    start = 0.0
    if a.after:
        if "mark" in a.after:
            if a.after["mark"] not in marks:
                return f"the server never reached mark '{a.after['mark']}', where the window starts"
            start = marks[a.after["mark"]]
        else:
            anchor = next((t for t, e in events if match(a.after["event"], e) is None), None)
            if anchor is None:
                return f"no event matching {render(a.after['event'])}, where the window starts"
            start = anchor
    return start, start + a.within if a.within is not None else math.inf


def _check(a: EventAssertion, events: Sequence[Timed], marks: Mapping[str, float]) -> str | None:
    """Why ``a`` does not hold (None: it holds)."""
    if a.kind is EventCheckKind.SEQUENCE:
        cursor = 0
        for i, want in enumerate(a.matchers):
            hit = next((j for j in range(cursor, len(events)) if match(want, events[j][1]) is None), None)
            if hit is None:
                after = f" after {_at(events, cursor - 1)} (item {i - 1})" if i else ""
                return f"sequence[{i}]: no event matching {render(want)}{after}{_near_misses(want, events, cursor)}"
            cursor = hit + 1
        return None
    if a.kind is EventCheckKind.EXACT:
        types = set(a.of) or set().union(*(event_types(m) for m in a.matchers))
        picked = [(i, e) for i, (_, e) in enumerate(events) if e.get("type") in types]
        if len(picked) != len(a.matchers):
            shown = ", ".join(render(e) for _, e in picked[:6]) or "none"
            return f"exact: expected {len(a.matchers)} event(s) of type {', '.join(sorted(types))}, got {len(picked)}: {shown}"
        for k, (want, (i, event)) in enumerate(zip(a.matchers, picked, strict=True)):
            miss = match(want, event)
            if miss is not None:
                return f"exact[{k}] ({_at(events, i)}): {miss}"
        return None
    window = _window(a, events, marks)
    if isinstance(window, str):
        return f"{a.kind}: {window}"
    lo, hi = window
    (want,) = a.matchers
    hits = [i for i, (t, e) in enumerate(events) if lo <= t < hi and match(want, e) is None]
    where = "" if not a.after and a.within is None else f" in the window ({lo * 1000:.0f} ms .. {'end' if math.isinf(hi) else f'{hi * 1000:.0f} ms'})"
    if a.kind is EventCheckKind.ABSENT:
        if hits:
            return f"absent: {render(want)} was reported{where}: {_at(events, hits[0])} {render(events[hits[0]][1])}"
        return None
    assert a.n is not None
    if len(hits) < a.n.min or (a.n.max is not None and len(hits) > a.n.max):
        return f"count: expected {a.n.describe()} event(s) matching {render(want)}{where}, got {len(hits)}"
    return None


def judge_events(
    case: Case,
    *,
    events: Sequence[Timed],
    records: Sequence[Record],
    layers: frozenset[Layer],
    scope: EventScope,
    implementation: str,
) -> EventsVerdict:
    """Judge every event assertion of ``case`` in a claimed layer and within ``scope``."""
    marks: dict[str, float] = {}
    for r in records:
        if r.kind == "mark":
            marks.setdefault(str(r.data.get("name")), r.t)
    findings: list[Finding] = []
    judged: set[Layer] = set()
    non_strict: list[tuple[Layer, str]] = []
    not_judged: list[str] = []
    for a in case.events:
        if a.layer not in layers:
            continue
        unreported = unreported_types(a, scope)
        if unreported:
            not_judged.append(f"{a.path} [{a.layer}]: not judged, {implementation} does not report {', '.join(unreported)}")
            continue
        judged.add(a.layer)
        problem = _check(a, events, marks)
        if problem is None:
            continue
        alternative = next((alt for alt in a.non_strict if _check(alt, events, marks) is None), None)
        if alternative is not None:
            non_strict.append((a.layer, alternative.why))
            continue
        why = f" ({a.why})" if a.why else ""
        findings.append(Finding(Plane.EVENTS, a.layer, f"{a.path}.{problem}{why}"))
    return EventsVerdict(tuple(findings), frozenset(judged), tuple(non_strict), tuple(not_judged))


def report_problems(events: Sequence[Timed], *, bound: float) -> list[Finding]:
    """What is wrong with what was reported, whatever the case asserts (every layer).

    A credential in an event is a finding of its own: the harness redacts it from
    every output, and the implementation should not have reported it at all. A
    duration is checked before normalisation hides it: a non-negative number below
    the case's bound.
    """
    found: list[Finding] = []
    for i, (_, event) in enumerate(events):
        kind = event.get("type")
        if redact_json(dict(event)) != dict(event):
            found.append(Finding(Plane.EVENTS, None, f"event #{i + 1} ({kind}): the client reported a credential (shown redacted)"))
        for key, value in _durations(event):
            limit = bound * 1000 if key.endswith("_ms") else bound
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < limit
            if not ok:
                found.append(Finding(Plane.EVENTS, None, f"event #{i + 1} ({kind}) field {key}: {value!r} is not a duration (a non-negative number below the case's bound of {bound:g} s)"))
    return found


def _durations(value: Any, key: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, Mapping):
        return [pair for k, v in value.items() for pair in _durations(v, str(k))]
    if isinstance(value, list):
        return [pair for v in value for pair in _durations(v, key)]
    return [(key, value)] if _DURATION_KEYS.match(key) and key != "t_ms" else []
