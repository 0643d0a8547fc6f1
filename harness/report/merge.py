"""Shards' JSON reports merged: one report per implementation, every case once.

CI jobs that ran `wireplay run --shard i/n` each write a JSON report; merged, they are the
report of one whole run (the same cases, outcomes and totals), and the HTML matrix shows one
column per implementation instead of one per shard.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


__all__ = ["MergeError", "merge_reports"]


class MergeError(ValueError):
    """Reports that cannot be one: the same case twice for one implementation."""


def merge_reports(reports: Sequence[Mapping[str, Any]], *, sources: Sequence[Path]) -> list[dict[str, Any]]:
    """One report per implementation (in first-seen order), its cases sorted by id.

    Raises:
        MergeError: a case appears in two reports of one implementation (two shards
            overlapped, or one report was given twice); the message names both files.
    """
    merged: dict[str, dict[str, Any]] = {}
    seen: dict[tuple[str, str], Path] = {}
    for report, source in zip(reports, sources, strict=True):
        impl = str(report.get("implementation") or source.stem)
        target = merged.setdefault(impl, {**report, "implementation": impl, "cases": []})
        if not target.get("implementation_version") and report.get("implementation_version"):
            target["implementation_version"] = report["implementation_version"]
        for record in report.get("cases", []):
            key = (impl, str(record["id"]))
            if key in seen:
                raise MergeError(f"{source}: case {record['id']} of {impl} is also in {seen[key]}; each case may come from one report only (overlapping shards, or a report given twice)")
            seen[key] = source
            target["cases"].append(record)
    for report in merged.values():
        report["cases"].sort(key=lambda r: r["id"])
    return list(merged.values())
