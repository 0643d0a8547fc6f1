"""client.config is validated at load against schemas/config/<area>.schema.json.

A typo in a case's config is a load error at ``file:line: field.path: <what> — <the fix>``
for every implementation alike (never an ERROR for the reference and a PASS for a
client that ignores the key), and the reference's own parsers name an unknown key.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.case.loader import case_problems, config_areas
from harness.cli import main
from harness.client.realtime import config as realtime_config
from harness.client.realtime.config import RealtimeConfig
from harness.client.responses import config as responses_config
from harness.client.responses.config import ClientConfig
from harness.paths import CASES_DIR, SCHEMAS_DIR


TYPO = """id: responses.typo
title: a config typo
client:
  config:
    responses:
      model: gpt-test
      stream_max_retrys: 2
      transport: websockets
  steps:
    - responses.turn: {input: hello}
server:
  exchanges: []
expect:
  snapshot: false
"""


def _config_errors(file: Path) -> list[str]:
    return [str(p) for p in case_problems(file.read_text(), file=file) if ".config." in f".{p.field}" or p.field.startswith("profile")]


def test_the_config_areas_are_the_schema_files():
    names = {p.name.removesuffix(".schema.json") for p in (SCHEMAS_DIR / "config").glob("*.schema.json")}
    assert set(config_areas()) == names - {"auth"}  # auth: the key inside an area
    assert {"realtime", "responses", "tls"} <= set(config_areas())


def test_every_bundled_case_config_validates():
    files = sorted(CASES_DIR.rglob("*.yaml"))
    assert len(files) > 200
    problems = [e for f in files for e in _config_errors(f)]
    assert problems == []


def test_a_typo_names_file_line_field_and_the_fix(tmp_path: Path, capsys):
    area = tmp_path / "responses"
    area.mkdir()
    case = area / "typo.yaml"
    case.write_text(TYPO)
    assert main(["validate", str(case)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{case}:7: client.config.responses.stream_max_retrys: unknown key 'stream_max_retrys' — did you mean \"stream_max_retries\"? (keys: schemas/config/responses.schema.json)",
        f"{case}:8: client.config.responses.transport: expected one of \"sse\", \"websocket\"; got \"websockets\" — did you mean \"websocket\"?",
    ]


def test_a_typo_is_an_error_for_every_implementation_not_a_run(tmp_path: Path):
    """The case never reaches an adapter: the same ERROR, with its line, whoever runs it."""
    area = tmp_path / "cases" / "responses"
    area.mkdir(parents=True)
    (area / "typo.yaml").write_text(TYPO)
    report = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", "--cases", str(tmp_path / "cases"), "--driver", f"{sys.executable} -m harness.driver", "--report-json", str(report)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (record,) = json.loads(report.read_text())["cases"]
    assert record["outcome"] == "ERROR"
    assert f"{area / 'typo.yaml'}:7: client.config.responses.stream_max_retrys: unknown key" in record["detail"]


@pytest.mark.parametrize(("module", "area"), [(responses_config, "responses"), (realtime_config, "realtime")])
def test_the_reference_parsers_know_exactly_the_schema_keys(module, area: str):
    schema = json.loads((SCHEMAS_DIR / "config" / f"{area}.schema.json").read_text())
    assert set(module._KNOWN) == set(schema["properties"])


def test_the_reference_parsers_refuse_an_unknown_key_by_name():
    with pytest.raises(ValueError, match=r"unknown realtime config keys: verison .*schemas/config/realtime\.schema\.json"):
        RealtimeConfig.from_mapping({"verison": "v1"})
    with pytest.raises(ValueError, match=r"unknown responses config keys: stream_max_retrys .*schemas/config/responses\.schema\.json"):
        ClientConfig.from_mapping({"stream_max_retrys": 2})
