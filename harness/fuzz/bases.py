"""Which cases a fuzz run starts from: by default a few bundled ones covering each protocol
(a Responses SSE stream, a tool-call turn, a Responses websocket, realtime v2 and v1),
else those ``--cases`` names (ids with shell wildcards, files, folders or globs); only
those the implementation can run (its capabilities, a server script to mutate, something
judged in the layers it claims)."""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.adapters.base import Adapter
from harness.case.catalog import load_catalog
from harness.case.model import Case
from harness.fuzz.case import Base, example_case, make_base
from harness.runner import adapter_layers, adapter_revision, adapter_scope, judged_layers


__all__ = ["DEFAULT_BASES", "select_bases"]

DEFAULT_BASES = (
    "responses.events.sse-mapping",
    "responses.events.sse-function-call",
    "responses.events.ws-mapping",
    "realtime.inbound-v2.response-lifecycle",
    "realtime.inbound-v1.items",
)


def _is_path(spec: str) -> bool:
    return "/" in spec or spec.endswith((".yaml", ".yml")) or Path(spec).exists()


def _cases(specs: Sequence[str]) -> list[Case]:
    paths = [s for s in specs if _is_path(s)]
    ids = [s for s in specs if not _is_path(s)] or ([] if paths else list(DEFAULT_BASES))
    found: dict[str, Case] = {}
    if paths:
        for entry in load_catalog(paths):
            if entry.case is not None:
                found.setdefault(entry.case.id, entry.case)
    if ids:
        for entry in load_catalog(None):
            if entry.case is not None and any(fnmatch.fnmatchcase(entry.case.id, pattern) for pattern in ids):
                found.setdefault(entry.case.id, entry.case)
    order = {pattern: i for i, pattern in enumerate(ids)}
    return sorted(found.values(), key=lambda c: (order.get(c.id, len(order)), c.id))


def _raw(case: Case) -> Any:
    yaml = importlib.import_module("yaml")
    return yaml.safe_load(case.file.read_text(encoding="utf-8"))


def select_bases(specs: Sequence[str], adapter: Adapter) -> tuple[list[Base], list[str]]:
    """(the bases, why the other named cases were left out)."""
    revision, scope, layers = adapter_revision(adapter), adapter_scope(adapter), adapter_layers(adapter)
    bases: list[Base] = []
    skipped: list[str] = []
    for case in _cases(specs):
        missing = case.requires - adapter.capabilities
        if missing:
            skipped.append(f"{case.id}: {adapter.name} lacks {', '.join(sorted(missing))}")
            continue
        base = make_base(case, _raw(case), revision=revision, scope=scope)
        if not base.server.get("exchanges"):
            skipped.append(f"{case.id}: no server exchange to mutate for revision {revision}")
            continue
        if not judged_layers(example_case(base, []), layers=layers, scope=scope):
            skipped.append(f"{case.id}: nothing would be judged for {adapter.name}")
            continue
        bases.append(base)
    return bases, skipped
