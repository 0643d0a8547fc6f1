"""The typed model of a case, built by the loader and read by everything after it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fake_server.script import Script, Times


__all__ = ["Case", "ClientStep", "NonStrict", "TimingCheck", "WireCheck"]


@dataclass(frozen=True, slots=True)
class ClientStep:
    """One thing the implementation is asked to do, or a runner step (wait, sleep)."""

    op: str
    args: Mapping[str, Any]
    path: str
    line: int | None = None


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


@dataclass(frozen=True, slots=True)
class TimingCheck:
    """An event must be reported within ``within`` seconds of a server mark."""

    from_mark: str
    to_event: Any
    within: float
    path: str
    why: str = ""
    at_least: float = 0.0


@dataclass(frozen=True, slots=True)
class NonStrict:
    """An allowed alternative event sequence (outcome NON-STRICT), with its reason."""

    why: str
    events: tuple[Mapping[str, Any], ...]


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
    wire: tuple[WireCheck, ...] = ()
    timing: tuple[TimingCheck, ...] = ()
    snapshot: bool = True
    non_strict: tuple[NonStrict, ...] = field(default_factory=tuple)
    timeout: float = 10.0
    notes: str = ""

    @property
    def area(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def snapshot_path(self) -> Path:
        """Events snapshot: ``<case folder>/__snapshots__/<id>.jsonl``, one event per line."""
        return self.file.parent / "__snapshots__" / f"{self.id}.jsonl"
