"""A wire log bounded for reports: a flood of frames must not make a report of megabytes.

The transcript keeps everything while the case is judged; what a report (JSON, HTML) shows
is its head and tail, long strings cut with their length said, so a reader still sees where
the flood began and how it ended.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


__all__ = ["MAX_RECORDS", "MAX_TEXT", "bounded_wire_log"]

MAX_RECORDS = 500  # the first 300 and the last 200
MAX_TEXT = 1024
_HEAD = 300


def _cut(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return f"{value[:MAX_TEXT]}… ({len(value)} chars)"
    if isinstance(value, Mapping):
        return {k: _cut(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cut(v) for v in value]
    return value


def bounded_wire_log(log: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``log`` with at most :data:`MAX_RECORDS` records (an ``elided`` record between head
    and tail says how many were left out) and no string longer than :data:`MAX_TEXT`."""
    records = [dict(_cut(dict(r))) for r in log] if len(log) <= MAX_RECORDS else [
        *(dict(_cut(dict(r))) for r in log[:_HEAD]),
        {"kind": "elided", "records": len(log) - MAX_RECORDS},
        *(dict(_cut(dict(r))) for r in log[len(log) - (MAX_RECORDS - _HEAD):]),
    ]
    return records
