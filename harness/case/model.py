"""The typed model of a case, built by the loader and read by everything after it."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from fake_server.script import Script, Times, script_from_mapping
from harness.layer import Layer


__all__ = ["Case", "ClientStep", "EventAssertion", "EventCheckKind", "TimingCheck", "WireCheck"]


def _holds(revisions: frozenset[str], revision: str) -> bool:
    return not revisions or revision in revisions


@dataclass(frozen=True, slots=True)
class ClientStep:
    """One thing the implementation is asked to do, or a runner step (wait, sleep)."""

    op: str
    args: Mapping[str, Any]
    path: str
    line: int | None = None
    layer: Layer = Layer.PROTOCOL  # of a ``wait``: where its failure is judged
    revisions: frozenset[str] = frozenset()  # only for these revisions (empty: every one)
    repeat: int = 1  # the step asked this many times in a row (e.g. a flood of audio frames)


@dataclass(frozen=True, slots=True)
class WireCheck:
    """A post-hoc check over the requests the server saw (counts, every/nth request)."""

    selector: Mapping[str, Any]
    count: Times | None
    each: Mapping[str, Any] | None
    items: tuple[Mapping[str, Any], ...]
    path: str
    why: str = ""
    same: tuple[str, ...] = ()
    layer: Layer = Layer.PROTOCOL
    revisions: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class TimingCheck:
    """The time from a start (a server mark or a reported event) to an end (the same kinds).

    Exactly one of ``from_mark`` / ``from_event`` and one of ``to_event`` / ``to_mark`` is set.
    """

    within: float
    path: str
    from_mark: str | None = None
    from_event: Any = None
    to_event: Any = None
    to_mark: str | None = None
    why: str = ""
    at_least: float = 0.0
    layer: Layer = Layer.PROTOCOL
    revisions: frozenset[str] = frozenset()


class EventCheckKind(StrEnum):
    """The forms of an event assertion (docs/case-format.md, Event expectations)."""

    SEQUENCE = "sequence"  # these, in this order; others may come between
    EXACT = "exact"  # the events of these types are exactly these, in order
    ABSENT = "absent"  # none matches (in a window)
    COUNT = "count"  # how many match (in a window)


@dataclass(frozen=True, slots=True)
class EventAssertion:
    """One assertion over the reported events, in one layer.

    ``matchers`` holds the sequence / exact items, or the one absent / count matcher;
    ``after`` (``{"event": m}`` or ``{"mark": name}``) and ``within`` narrow the window of
    absent and count. ``non_strict`` are allowed alternatives: when this one fails and an
    alternative holds, the outcome is NON-STRICT with the alternative's ``why``.
    """

    kind: EventCheckKind
    matchers: tuple[Any, ...]
    path: str
    layer: Layer = Layer.PROTOCOL
    why: str = ""
    of: tuple[str, ...] = ()
    after: Mapping[str, Any] | None = None
    within: float | None = None
    n: Times | None = None
    non_strict: tuple[EventAssertion, ...] = ()
    revisions: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Case:
    """One scenario: client steps, server script, expectations."""

    id: str
    title: str
    seed: tuple[str, ...]  # free tags (the bundled suite names the seed behaviour it checks)
    requires: frozenset[str]
    file: Path
    line: int
    config: Mapping[str, Any]
    profile: Mapping[str, Any]
    steps: tuple[ClientStep, ...]
    script: Script  # every exchange and step, whatever its revision, until ``for_revision``
    tls: bool = False
    layer: Layer = Layer.PROTOCOL
    wire: tuple[WireCheck, ...] = ()
    timing: tuple[TimingCheck, ...] = ()
    events: tuple[EventAssertion, ...] = ()
    snapshot: bool = True
    timeout: float = 10.0
    notes: str = ""
    server: Mapping[str, Any] = field(default_factory=dict)  # the validated server section
    endpoint: Mapping[str, str] = field(default_factory=dict)  # client.endpoint: base URLs with placeholders
    revision: str | None = None  # None: as loaded, every revision's items together

    def for_revision(self, revision: str) -> Case:
        """This case as an implementation of ``revision`` meets it: only the exchanges, steps
        and checks that hold for that revision (docs/profiles.md, revision variants)."""
        if self.revision is not None:
            if revision != self.revision:
                raise ValueError(f"{self.id} is already the {self.revision} variant; ask the loaded case for {revision}")
            return self
        return dataclasses.replace(
            self,
            revision=revision,
            script=script_from_mapping(self.server, layer=self.layer.value, revision=revision),
            steps=tuple(s for s in self.steps if _holds(s.revisions, revision)),
            wire=tuple(c for c in self.wire if _holds(c.revisions, revision)),
            timing=tuple(t for t in self.timing if _holds(t.revisions, revision)),
            events=tuple(a for a in self.events if _holds(a.revisions, revision)),
        )

    @property
    def area(self) -> str:
        return self.id.split(".", 1)[0]

    def snapshot_path(self, implementation: str, *, root: Path | None = None) -> Path:
        """One implementation's own event log of this case, one event per line.

        ``<case folder>/__snapshots__/<implementation>/<id>.jsonl``, or under ``root``
        (``<root>/<implementation>/<area>/<id>.jsonl``) when snapshots are kept apart
        from the cases (a suite installed read-only).
        """
        if root is not None:
            return root / implementation / self.area / f"{self.id}.jsonl"
        return self.file.parent / "__snapshots__" / implementation / f"{self.id}.jsonl"
