"""Stable placeholders for values that change from run to run, and the snapshot text.

Generated ids keep their identity (the first uuid seen is ``<uuid-1>`` wherever it
appears again), durations become ``<duration>``, the fake server's port ``<port>`` and
the run's CA bundle folder ``<tls>``, so snapshots compare what matters and stay readable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from fake_server.redact import redact_json


__all__ = ["event_line", "normalise_events", "snapshot_text"]

_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_TLS_DIR = re.compile(r"(?:/private)?/\S*?/wireplay-tls-[A-Za-z0-9_]+")  # per-run CA bundle folder
_PORT = re.compile(r"\b(127\.0\.0\.1|localhost|\[::1\]):\d+")
_DURATION_KEYS = re.compile(r"^(.*_ms|duration|elapsed|latency|timestamp|ts)$")


def normalise_events(events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Normalised, redacted copies of the events, in order."""
    uuids: dict[str, str] = {}

    def text(value: str) -> str:
        value = _PORT.sub(lambda m: f"{m.group(1)}:<port>", value)
        value = _TLS_DIR.sub("<tls>", value)
        return _UUID.sub(lambda m: uuids.setdefault(m.group(0).lower(), f"<uuid-{len(uuids) + 1}>"), value)

    def walk(value: Any, key: str = "") -> Any:
        if isinstance(value, Mapping):
            return {k: walk(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        if isinstance(value, (int, float)) and not isinstance(value, bool) and _DURATION_KEYS.match(key):
            return "<duration>"
        if isinstance(value, str):
            return text(value)
        return value

    return [walk(redact_json(dict(e))) for e in events]


def _sorted(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def event_line(event: Mapping[str, Any]) -> str:
    """One event as one JSON line: ``type`` first, every other key sorted at every depth.

    Key order carries no meaning in JSON, so it must not decide a comparison: two
    implementations building the same object in different orders write the same line.
    """
    ordered = {"type": event.get("type")} | {k: _sorted(event[k]) for k in sorted(event) if k != "type"}
    return json.dumps(ordered, ensure_ascii=False, sort_keys=False, separators=(", ", ": "))


def snapshot_text(events: Iterable[Mapping[str, Any]]) -> str:
    """The snapshot file content for these (already normalised) events."""
    return "".join(event_line(e) + "\n" for e in events)
