"""The ``wireplay`` command line: validate, list, run (in a subprocess), serve."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from harness.cli import main
from harness.implementations import IMPLEMENTATIONS


GOOD = """id: foundation.cli.good
title: a valid case
seed: foundation
client:
  steps:
    - sleep: 0
server:
  exchanges:
    - http: {path: /v1/responses}
      times: {min: 0, max: 1}
      respond: {status: 200, json: {ok: true}}
expect:
  snapshot: false
"""


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    area = tmp_path / "cases" / "foundation"
    area.mkdir(parents=True)
    (area / "good.yaml").write_text(GOOD)
    return tmp_path / "cases"


def test_validate_accepts_a_valid_suite(suite: Path, capsys):
    assert main(["validate", str(suite)]) == 0
    assert capsys.readouterr().out.strip() == "1 case file(s), 0 invalid"


def test_validate_rejects_a_broken_case_naming_file_line_and_field(suite: Path, capsys):
    broken = suite / "foundation" / "broken.yaml"
    broken.write_text(GOOD.replace("id: foundation.cli.good", "id: foundation.cli.broken").replace("path: /v1/responses", "pth: /v1/responses"))
    assert main(["validate", str(suite)]) == 1
    err = capsys.readouterr().err
    assert f"{broken}:9: server.exchanges[0].http.pth: unknown field 'pth'; expected one of: method, path" in err


def test_validate_reports_missing_and_orphan_snapshots(suite: Path, capsys):
    good = suite / "foundation" / "good.yaml"
    good.write_text(GOOD.replace("expect:\n  snapshot: false\n", ""))
    snaps = suite / "foundation" / "__snapshots__"
    (snaps / "codex-cli").mkdir(parents=True)
    (snaps / "codex-cli" / "foundation.cli.gone.jsonl").write_text("")
    assert main(["validate", str(suite)]) == 1
    err = capsys.readouterr().err
    assert f"expect.snapshot: missing snapshot {snaps / 'reference' / 'foundation.cli.good.jsonl'}" in err
    assert f"{snaps / 'codex-cli' / 'foundation.cli.gone.jsonl'}: snapshot of no case (no case has id 'foundation.cli.gone')" in err


def test_validate_a_missing_path(capsys):
    assert main(["validate", "/nonexistent/cases"]) == 1
    assert "/nonexistent/cases: no such file or folder" in capsys.readouterr().err


def test_list_json(suite: Path, capsys):
    assert main(["list", "--cases", str(suite), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows == [{"id": "foundation.cli.good", "title": "a valid case", "seed": ["foundation"], "requires": [], "file": str(suite / "foundation" / "good.yaml")}]


def test_run_prints_a_summary_and_writes_the_report(suite: Path, tmp_path: Path):
    report = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", "--cases", str(suite), "--report-json", str(report)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "wireplay summary" in proc.stdout
    data = json.loads(report.read_text())
    assert data["implementation"] == "reference"
    assert [(c["id"], c["outcome"]) for c in data["cases"]] == [("foundation.cli.good", "PASS")]


def test_run_exits_non_zero_on_failure(suite: Path, tmp_path: Path):
    (suite / "foundation" / "good.yaml").write_text(GOOD.replace("times: {min: 0, max: 1}", "times: 2"))
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--cases", str(suite)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 1
    assert "expected exactly 2 request(s), got 0" in proc.stdout


def test_serve_prints_the_base_url_and_the_wire_verdict_on_interrupt(suite: Path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "serve", str(suite / "foundation" / "good.yaml")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        first = proc.stdout.readline()
        assert first.startswith("serving foundation.cli.good at http://127.0.0.1:")
        origin = first.split(" at ")[1].split(" ")[0]
        with urllib.request.urlopen(origin + "/v1/responses", data=b"{}", timeout=5) as r:
            assert json.loads(r.read()) == {"ok": True}
        time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert "wire verdict: PASS" in out
    assert "POST /v1/responses" in out and "transcript written to " in out  # a line per request; the transcript in its file


def _wireplay(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_version_and_an_unknown_implementation_in_one_line(tmp_path: Path):
    version = _wireplay("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("wireplay ")
    unknown = _wireplay("run", "--impl", "nope", cwd=tmp_path)
    assert unknown.returncode == 3
    assert unknown.stderr.strip().splitlines() == [
        "wireplay: unknown implementation 'nope'; expected one of: " + ", ".join(IMPLEMENTATIONS) + " (or --driver CMD)"
    ]


def test_a_selection_that_matches_nothing_says_so(tmp_path: Path):
    proc = _wireplay("run", "-k", "no_case_has_this_id", cwd=tmp_path)
    assert proc.returncode == 5
    assert "wireplay: no case matched -k 'no_case_has_this_id' (" in proc.stdout


def test_run_and_list_read_the_current_folders_ini(suite: Path, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\nwireplay_cases = ["cases"]\n')
    listed = _wireplay("list", "--json", cwd=tmp_path)
    assert "foundation.cli.good" in [row["id"] for row in json.loads(listed.stdout)]
    ran = _wireplay("run", "-k", "cli.good", "--report-json", "r.json", cwd=tmp_path)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert [c["id"] for c in json.loads((tmp_path / "r.json").read_text())["cases"]] == ["foundation.cli.good"]


def test_any_folder_is_a_suite_and_one_file_is_validated_alone(tmp_path: Path, capsys):
    suite = tmp_path / "my_suite" / "foundation"
    (suite / "__snapshots__" / "reference").mkdir(parents=True)
    good = suite / "good.yaml"
    good.write_text(GOOD)
    (suite / "__snapshots__" / "reference" / "foundation.cli.gone.jsonl").write_text("")
    assert main(["validate", str(good)]) == 0  # the orphan beside it is not this file's business
    assert main(["validate", str(tmp_path / "my_suite")]) == 1
    assert "snapshot of no case (no case has id 'foundation.cli.gone')" in capsys.readouterr().err


def test_a_real_client_that_is_not_installed_names_the_command_that_installs_it(tmp_path: Path):
    env = {**os.environ, "WIREPLAY_IMPLS_DIR": str(tmp_path / "none"), "WIREPLAY_CODEX_BIN": ""}
    env.pop("WIREPLAY_OPENAI_PYTHON_VENV", None)
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--impl", "openai-python"], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert proc.returncode == 3
    assert proc.stderr.strip().splitlines() == ["wireplay: openai-python 3.57.0 is not installed: run `wireplay install openai-python`"]
