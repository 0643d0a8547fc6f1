"""Per-session plugin state, kept in ``config.stash`` (never in globals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harness.case.catalog import Entry
from harness.shard import Shard


__all__ = ["STATE", "PluginState"]


@dataclass(slots=True)
class PluginState:
    """Options read once, the catalog loaded once, results gathered (controller side)."""

    case_specs: list[str]
    impl: str
    driver: str | None
    report_json: str | None
    expectation_files: list[Path] = field(default_factory=list)
    snapshots: bool = False  # --wireplay-snapshots: lock this implementation's own event logs too
    snapshot_dir: Path | None = None  # --wireplay-snapshot-dir: keep them apart from the cases
    snapshot_impl: str | None = None  # whose snapshots this session asserts (None: nobody's)
    shard: Shard | None = None  # --wireplay-shard: only the cases of this shard
    entries: list[Entry] | None = None
    results: list[dict[str, Any]] = field(default_factory=list)
    orphans: list[Path] = field(default_factory=list)  # kept snapshots of no case (reported, removed on update)


STATE = pytest.StashKey[PluginState]()
