"""``wireplay soak``: the suite many times, serial and parallel; a case whose outcome
differs between runs is a flake and is reported by id.

Bounded in time: no new run starts after ``max_seconds``; the runs done are counted.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any


__all__ = ["run_soak"]


def _one_run(*, workers: int | None, extra: list[str], folder: Path, index: int) -> dict[str, str]:
    report = folder / f"run-{index}.json"
    cmd = [sys.executable, "-P", "-m", "harness.cli", "run", "--report-json", str(report), *extra]
    if workers:
        cmd += ["-n", str(workers)]
    subprocess.run(cmd, capture_output=True, text=True, timeout=1800, cwd=folder, check=False)
    if not report.is_file():
        return {"<run>": "ERROR: the run wrote no report"}
    return {c["id"]: c["outcome"] for c in json.loads(report.read_text())["cases"]}


def run_soak(*, runs: int, max_seconds: float, extra: list[str] | None = None) -> dict[str, Any]:
    """Alternate serial and ``-n 2`` runs until ``runs`` of each or the time bound."""
    deadline = time.monotonic() + max_seconds
    outcomes: dict[str, set[str]] = defaultdict(set)
    done = {"serial": 0, "parallel": 0}
    with tempfile.TemporaryDirectory(prefix="wireplay-soak-") as tmp:
        folder = Path(tmp)
        for i in range(runs):
            for mode, workers in (("serial", None), ("parallel", 2)):
                if time.monotonic() > deadline:
                    break
                for case_id, outcome in _one_run(workers=workers, extra=extra or [], folder=folder, index=2 * i + (workers or 0)).items():
                    outcomes[case_id].add(outcome)
                done[mode] += 1
    flakes = sorted(case_id for case_id, seen in outcomes.items() if len(seen) > 1)
    return {"runs": done["serial"], "parallel_runs": done["parallel"], "cases": len(outcomes), "flakes": flakes,
            "flake_outcomes": {case_id: sorted(outcomes[case_id]) for case_id in flakes}}
