"""``wireplay run --cases A B`` and ``--shard i/n``, and ``wireplay report --json`` merging the shards."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from harness.cli import main


CASE = """id: {id}
title: a valid case
client:
  steps:
    - sleep: 0
server:
  exchanges:
    - http: {{path: /v1/responses}}
      times: {{min: 0, max: 1}}
      respond: {{status: 200, json: {{ok: true}}}}
expect:
  snapshot: false
"""


def _suite(root: Path, folder: str, ids: list[str]) -> Path:
    area = root / folder / "foundation"
    area.mkdir(parents=True)
    for case_id in ids:
        (area / f"{case_id.split('.')[-1]}.yaml").write_text(CASE.format(id=case_id))
    return root / folder


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", "run", *args], capture_output=True, text=True, timeout=180, cwd=cwd)


def _ids(report: Path) -> dict[str, str]:
    return {c["id"]: c["outcome"] for c in json.loads(report.read_text())["cases"]}


def test_cases_takes_several_paths(tmp_path: Path):
    one = _suite(tmp_path, "one", ["foundation.cli.a"])
    two = _suite(tmp_path, "two", ["foundation.cli.b"])
    proc = _run("--cases", str(one), str(two), "--report-json", str(tmp_path / "r.json"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _ids(tmp_path / "r.json") == {"foundation.cli.a": "PASS", "foundation.cli.b": "PASS"}


def test_the_shards_merged_are_the_whole_run(tmp_path: Path, capsys):
    suite = _suite(tmp_path, "cases", [f"foundation.cli.c{i}" for i in range(8)])
    assert _run("--cases", str(suite), "--report-json", str(tmp_path / "whole.json"), cwd=tmp_path).returncode == 0
    shards = []
    for i in (1, 2):
        shards.append(tmp_path / f"shard{i}.json")
        proc = _run("--cases", str(suite), "--shard", f"{i}/2", "--report-json", str(shards[-1]), cwd=tmp_path)
        assert proc.returncode in (0, 5), proc.stdout + proc.stderr  # 5: a shard that holds no case
    shards = [s for s in shards if s.exists()]
    assert main(["report", *map(str, shards), "-o", str(tmp_path / "m.html"), "--json", str(tmp_path / "merged.json")]) == 0
    assert _ids(tmp_path / "merged.json") == _ids(tmp_path / "whole.json")
    assert json.loads((tmp_path / "merged.json").read_text())["totals"] == {"PASS": 8}
    assert main(["report", str(shards[0]), str(shards[0]), "-o", str(tmp_path / "x.html")]) == 1
    assert "each case may come from one report only" in capsys.readouterr().err
