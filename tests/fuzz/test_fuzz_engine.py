"""The fuzzing loop end to end, on the reference client and a deliberately fragile driver.

The reference must come out clean (no finding, no harness fault). The fragile driver
(tests/fuzz/fragile_driver.py: it crashes on an event type it does not know) must get a
finding, shrunk to one mutation, written as a case that validates and replays as ERROR
with that driver and PASSes with a client that handles unknown events (the reference).
Budgets are small; the 500-example run is in the issue's closing note.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from harness.case.loader import analyse_case_text
from harness.fuzz.bases import select_bases
from harness.fuzz.engine import Fuzzer, FuzzOptions
from harness.implementations import adapter_for
from harness.runner import judge, run_case_async
from harness.verdict.outcome import Outcome


FRAGILE = Path(__file__).with_name("fragile_driver.py")
ROOT = Path(__file__).resolve().parents[2]


def fragile(*flags: str) -> str:
    return " ".join([sys.executable, str(FRAGILE), *flags])


def fuzz(adapter, tmp_path: Path, *, examples: int, seed: int, specs: tuple[str, ...] = ()):
    bases, _ = select_bases(list(specs), adapter)
    lines: list[str] = []
    summary = Fuzzer(adapter, bases, FuzzOptions(examples=examples, seed=seed, out_dir=tmp_path / "findings", shrink_seconds=60),
                     out=lines.append).run()
    return summary, lines


def replay(file: Path, root: Path, adapter):
    loaded, problems = analyse_case_text(file.read_text(), file=file, cases_root=root)
    assert problems == [] and loaded is not None
    return judge(asyncio.run(run_case_async(loaded, adapter=adapter)))


def test_the_reference_client_runs_clean(tmp_path):
    summary, lines = fuzz(adapter_for(impl="reference"), tmp_path, examples=30, seed=19)
    assert summary.harness_faults == [], lines
    assert summary.findings == [], "\n".join(summary.lines())
    assert summary.examples >= 25 and summary.exit_code == 0
    assert len(summary.bases) == 5


def test_a_fragile_driver_gets_a_shrunk_finding_that_replays_as_a_failing_case(tmp_path):
    adapter = adapter_for(impl=None, driver=fragile())
    summary, lines = fuzz(adapter, tmp_path, examples=60, seed=3)
    assert summary.harness_faults == [], lines
    assert summary.exit_code == 1
    (found,) = summary.findings
    assert found.finding.signature == "crash: process died (exit code 1)"
    assert len(found.plan) == 1 and found.plan[0].op in ("unknown_type", "arbitrary", "wrong_type")  # shrunk to one mutation
    assert found.replay == "ERROR" and found.reproduced and found.exact
    root = tmp_path / "findings"
    assert found.path.parent == root / "responses"
    assert replay(found.path, root, adapter_for(impl=None, driver=fragile())).outcome is Outcome.ERROR
    # A client that ignores an unknown event passes the same case.
    assert replay(found.path, root, adapter_for(impl="reference")).outcome is Outcome.PASS
    check = subprocess.run([sys.executable, "-m", "harness.cli", "validate", str(root)], capture_output=True, text=True, timeout=120, check=False)
    assert check.returncode == 0, check.stdout + check.stderr


def test_an_escaped_exception_is_a_finding_that_replays_as_a_fail(tmp_path):
    summary, lines = fuzz(adapter_for(impl=None, driver=fragile("--escape")), tmp_path, examples=60, seed=3)
    assert summary.harness_faults == [], lines
    (found,) = summary.findings
    assert found.finding.signature == "escaped: KeyError"
    assert found.replay == "FAIL" and found.reproduced


@pytest.mark.parametrize("seed", [5])
def test_the_command(tmp_path, seed):
    """``wireplay fuzz`` prints the summary and exits 1 on a finding; ``wireplay run`` replays it."""
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "fuzz", "--driver", fragile(), "--examples", "40", "--seed", str(seed),
                           "-o", str(out)], capture_output=True, text=True, timeout=600, cwd=ROOT, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "fuzz summary: fragile 0, seed 5" in proc.stdout and "examples/s" in proc.stdout and "findings: 1" in proc.stdout
    assert "not fuzzed: realtime.inbound-v2.response-lifecycle: fragile lacks realtime.v2" in proc.stdout
    assert len(list(out.rglob("*.yaml"))) == 1
    run = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--driver", fragile(), "--cases", str(out)],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path, check=False)
    assert run.returncode != 0 and "ERROR" in run.stdout, run.stdout + run.stderr


def test_usage_errors(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "fuzz", "--impl", "nope"], capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
    assert proc.returncode == 2 and "unknown implementation 'nope'" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "fuzz", "--driver", fragile(), "--cases", "realtime.inbound-v2.*"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
    assert proc.returncode == 2 and "no base case" in proc.stderr
