"""The typed model of a case, built by the loader and read by everything after it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from fake_server.script import Script, Times
from harness.layer import Layer


__all__ = ["Case", "ClientStep", "EventAssertion", "EventCheckKind", "TimingCheck", "WireCheck"]


@dataclass(frozen=True, slots=True)
class ClientStep:
    """One thing the implementation is asked to do, or a runner step (wait, sleep)."""

    op: str
    args: Mapping[str, Any]
    path: str
    line: int | None = None
    layer: Layer = Layer.PROTOCOL  # of a ``wait``: where its failure is judged


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


@dataclass(frozen=True, slots=True)
class Case:
    """One scenario: client steps, server script, expectations."""

    id: str
    title: str
    seed: str
    requires: frozenset[str]
    file: Path
    line: int
    config: Mapping[str, Any]
    profile: Mapping[str, Any]
    steps: tuple[ClientStep, ...]
    script: Script
    tls: bool = False
    layer: Layer = Layer.PROTOCOL
    wire: tuple[WireCheck, ...] = ()
    timing: tuple[TimingCheck, ...] = ()
    events: tuple[EventAssertion, ...] = ()
    snapshot: bool = True
    timeout: float = 10.0
    notes: str = ""

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
