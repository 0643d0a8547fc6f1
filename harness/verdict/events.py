"""The events plane: reported events (normalised) against the snapshot or an allowed alternative."""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from harness.case.model import Case
from harness.verdict.normalise import normalise_events, snapshot_text


__all__ = ["EventScope", "EventsVerdict", "judge_events"]


@dataclass(frozen=True, slots=True)
class EventsVerdict:
    """``ok`` for the snapshot, ``non_strict`` names the alternative that matched instead."""

    ok: bool
    actual: str
    expected: str | None
    non_strict: str | None = None
    problems: tuple[str, ...] = ()

    @property
    def diff(self) -> str:
        if self.ok or self.expected is None:
            return ""
        return "".join(
            difflib.unified_diff(
                self.expected.splitlines(keepends=True),
                self.actual.splitlines(keepends=True),
                fromfile="expected (snapshot)",
                tofile="received",
            )
        )


def _matches(patterns: frozenset[str], event_type: object) -> bool:
    return isinstance(event_type, str) and any(
        event_type == p or (p.endswith(".*") and event_type.startswith(p[:-1])) for p in patterns
    )


@dataclass(frozen=True, slots=True)
class EventScope:
    """What an implementation declares it reports: all but ``unreported``, or only ``reported``.

    Patterns are event types or ``area.*``. An empty scope keeps every event.
    """

    unreported: frozenset[str] = frozenset()
    reported: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.unreported or self.reported)

    def keeps(self, event_type: object) -> bool:
        if self.reported and not _matches(self.reported, event_type):
            return False
        return not _matches(self.unreported, event_type)

    def apply(self, text: str) -> str:
        return "".join(line + "\n" for line in text.splitlines() if self.keeps(json.loads(line).get("type")))

    def describe(self) -> str:
        if self.reported:
            return "only the event types this implementation reports are compared: " + ", ".join(sorted(self.reported))
        return "matches once the event types this implementation does not report are set aside: " + ", ".join(sorted(self.unreported))


def judge_events(
    case: Case,
    *,
    actual: str,
    expected: str | None,
    snapshot_ok: bool | None = None,
    problems: Sequence[str] = (),
    scope: EventScope | None = None,
) -> EventsVerdict:
    """Compare; ``snapshot_ok`` lets syrupy's own comparison (and --snapshot-update) decide.

    ``scope`` is what the implementation declares it reports (all but some types, or
    only some): when the events match once both sides are narrowed to that scope, the
    outcome is NON-STRICT with that reason, instead of a FAIL that only says "these
    events are missing".
    """
    if not case.snapshot:
        return EventsVerdict(ok=not problems, actual=actual, expected=None, problems=tuple(problems))
    ok = snapshot_ok if snapshot_ok is not None else (expected is not None and expected == actual)
    if problems:
        return EventsVerdict(ok=False, actual=actual, expected=expected, problems=tuple(problems))
    if ok:
        return EventsVerdict(ok=True, actual=actual, expected=expected)
    for alt in case.non_strict:
        if snapshot_text(normalise_events(alt.events)) == actual:
            return EventsVerdict(ok=True, actual=actual, expected=expected, non_strict=alt.why)
    if scope and expected is not None and scope.apply(expected) == scope.apply(actual):
        return EventsVerdict(ok=True, actual=actual, expected=expected, non_strict=scope.describe())
    missing = () if expected is not None else (f"missing snapshot {case.snapshot_path}: run with --snapshot-update and review it",)
    return EventsVerdict(ok=False, actual=actual, expected=expected, problems=missing)
