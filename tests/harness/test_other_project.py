"""The plugin as another project uses it: ``pytest --wireplay-driver CMD`` in a separate folder.

The project has its own extra case and an expectations file; the implementation is the
reference client as a subprocess driver. Its hand-written tests use the exported
fixtures. Runs in real subprocesses, serially and with -n 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest


pytest_plugins = ["pytester"]

DRIVER = f"{Path(sys.executable).parent / 'wireplay'} driver"  # the console command, as a user runs it

EXTRA_CASE = """
id: foundation.myproject.own-case
title: this project's own case, which the reference client fails on purpose
seed: foundation
requires: [responses.sse]
client:
  config:
    responses: {model: gpt-test, api_key: sk-test-project, request_max_retries: 0, stream_max_retries: 0}
  steps:
    - responses.turn: {input: hello}
server:
  exchanges:
    - http: {method: POST, path: /v1/responses}
      expect: {headers: {x-my-project: {$any: string}}}
      respond: {status: 503}
expect: {snapshot: false}
"""

EXPECTATIONS = """
implementation: reference
expectations:
  foundation.myproject.own-case:
    outcome: FAIL
    class: deviation
    why: the reference client sends no x-my-project header (kept visible, CI stays green)
"""

HAND_WRITTEN = '''
import httpx

def test_my_client_against_a_served_case(wireplay_server):
    served = wireplay_server("foundation.sse.status-429")
    r = httpx.post(served.base_url + "/responses", json={"input": "hello"})
    assert r.status_code == 429
    verdict = served.stop()
    assert verdict.ok, verdict.findings

def test_verdict_of_a_bundled_case(wireplay_verdict):
    result = wireplay_verdict("foundation.ws.duplicate-events")
    assert result.outcome.value == "PASS", result.detail
'''


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".toml", pyproject=(
        "[tool.pytest.ini_options]\n"
        'wireplay_cases = ["wireplay_cases"]\n'
        'wireplay_expectations = ["wireplay-expectations.yaml"]\n'
    ))
    (pytester.path / "wireplay_cases" / "foundation").mkdir(parents=True)
    (pytester.path / "wireplay_cases" / "foundation" / "own-case.yaml").write_text(EXTRA_CASE)
    (pytester.path / "wireplay-expectations.yaml").write_text(EXPECTATIONS)
    pytester.makepyfile(test_my_client=HAND_WRITTEN)
    return pytester


def _outcomes(path) -> dict[str, str]:
    return {c["id"]: c["outcome"] for c in json.loads(path.read_text())["cases"]}


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "n2"])
def test_bundled_suite_and_own_cases_through_a_driver(project: pytest.Pytester, workers: list[str]):
    result = project.runpytest_subprocess(
        "-p", "no:cacheprovider", "--wireplay-driver", DRIVER, "-k", "foundation", "--wireplay-report-json", "report.json", *workers,
    )
    outcomes = _outcomes(project.path / "report.json")
    assert outcomes["foundation.myproject.own-case"] == "FAIL"
    assert outcomes["foundation.ws.stalled-close"] == "PASS"
    assert {o for case, o in outcomes.items() if case != "foundation.myproject.own-case"} == {"PASS"}
    report = json.loads((project.path / "report.json").read_text())
    assert report["implementation"] == "reference"  # named by the driver's hello
    parsed = result.parseoutcomes()
    assert parsed.get("xfailed") == 1 and "failed" not in parsed
    assert parsed["passed"] == len(outcomes) - 1


def test_hand_written_tests_use_the_exported_fixtures(project: pytest.Pytester):
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "--wireplay-driver", DRIVER, "test_my_client.py", "-k", "my_client or verdict_of")
    result.assert_outcomes(passed=2)
