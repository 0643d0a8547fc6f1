"""The JSON report of a run: per case and implementation, outcome, verdicts, diff, wire log."""

from __future__ import annotations

import json
import platform
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fake_server.redact import redact_json
from harness.report.wire_log import bounded_wire_log


__all__ = ["REPORT_VERSION", "write_report"]

REPORT_VERSION = 2  # 2: per-layer outcomes, event assertions, known classes, timed events


def write_report(path: Path, *, results: Sequence[dict[str, Any]], implementation: str, version: str = "") -> None:
    """Write the report atomically (a crash mid-write never leaves half a file)."""
    totals = Counter(r["outcome"] for r in results)
    by_layer = {
        layer: dict(sorted(Counter(o for r in results if (o := (r.get("layers") or {}).get(layer))).items()))
        for layer in ("protocol", "codex")
    }
    body = {
        "wireplay_report": REPORT_VERSION,
        "implementation": implementation,
        "implementation_version": version,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": platform.python_version(),
        "totals": dict(sorted(totals.items())),
        "layer_totals": by_layer,
        "cases": [{**r, "wire_log": bounded_wire_log(r["wire_log"])} if r.get("wire_log") else r for r in results],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(redact_json(body), indent=1, ensure_ascii=False) + "\n")
    tmp.replace(path)
