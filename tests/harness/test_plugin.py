"""The pytest plugin, driven with pytester from a separate temporary project.

The project's conftest overrides the ``wireplay_adapter`` fixture with a MockAdapter,
so these tests exercise collection, outcomes, snapshots, the summary, the JSON report
and xdist without a real client.
"""

from __future__ import annotations

import json

import pytest


pytest_plugins = ["pytester"]

CONFTEST = '''
import httpx, asyncio, pytest
from harness.adapters.mock import MockAdapter

async def handler(op, args, ctx):
    if op == "x.crash":
        raise RuntimeError("client crashed")
    if op == "x.hang":
        await asyncio.Event().wait()
    async with httpx.AsyncClient() as client:
        r = await client.post(ctx.endpoint.base_url + "/responses", json=dict(args))
    ctx.emit({"type": "turn.completed", "status": r.status_code})

@pytest.fixture(scope="session")
def wireplay_adapter():
    return MockAdapter(handler, capabilities=frozenset({"responses.sse"}))
'''

SUITE = '''
from harness.suite.test_wireplay import test_case  # noqa: F401  (the bundled suite's one test)
'''


def case(case_id: str, *, op: str = "responses.turn", status: int = 200, requires: str = "responses.sse", timeout: float = 5) -> str:
    return f"""
id: {case_id}
title: {case_id}
seed: foundation
requires: [{requires}]
timeout: {timeout}
client:
  steps:
    - {op}: {{input: hi}}
server:
  exchanges:
    - http: {{method: POST, path: /v1/responses}}
      times: {{min: 0, max: 1}}
      expect: {{body: {{input: hi}}}}
      respond: {{status: {status}}}
expect:
  events:
    - sequence: [{{type: turn.completed, status: 200}}]
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_suite=SUITE)
    cases = pytester.path / "cases" / "foundation"
    cases.mkdir(parents=True)
    (cases / "pass.yaml").write_text(case("foundation.p.pass"))
    (cases / "fail.yaml").write_text(case("foundation.p.fail", status=500))
    (cases / "crash.yaml").write_text(case("foundation.p.crash", op="x.crash"))
    (cases / "hang.yaml").write_text(case("foundation.p.hang", op="x.hang", timeout=0.5))
    (cases / "unsupported.yaml").write_text(case("foundation.p.unsupported", requires="responses.ws"))
    (cases / "broken.yaml").write_text("id: foundation.p.broken\ntitle: [\n")
    return pytester


def outcomes(report_path) -> dict[str, str]:
    report = json.loads(report_path.read_text())
    return {c["id"]: c["outcome"] for c in report["cases"]}


def test_every_outcome_through_pytest(project: pytest.Pytester):
    result = project.runpytest("-p", "no:cacheprovider", "--wireplay-cases", "cases", "--wireplay-report-json", "report.json")
    result.assert_outcomes(passed=1, failed=4, skipped=1)
    assert outcomes(project.path / "report.json") == {
        "foundation.p.broken": "ERROR",
        "foundation.p.crash": "ERROR",
        "foundation.p.fail": "FAIL",
        "foundation.p.hang": "TIMEOUT",
        "foundation.p.pass": "PASS",
        "foundation.p.unsupported": "UNSUPPORTED",
    }
    text = result.stdout.str()
    assert "broken.yaml:3: invalid YAML" in text
    assert "RuntimeError: client crashed" in text
    assert 'events [protocol]: expect.events[0].sequence[0]: no event matching {"status": 200, "type": "turn.completed"}' in text
    assert "foundation" in text and "wireplay summary" in text and "layer protocol: 4 case(s) judged" in text
    assert not (project.path / "cases" / "foundation" / "__snapshots__").exists()  # nobody asked for snapshots


def test_own_snapshots_lock_the_event_log_but_never_decide_the_outcome(project: pytest.Pytester):
    args = ("-p", "no:cacheprovider", "--wireplay-cases", "cases", "--wireplay-snapshots", "-k", "pass")
    project.runpytest(*args, "--snapshot-update").assert_outcomes(passed=1)
    snap = project.path / "cases" / "foundation" / "__snapshots__" / "mock" / "foundation.p.pass.jsonl"
    assert snap.read_text() == '{"type": "turn.completed", "status": 200}\n'
    project.runpytest(*args).assert_outcomes(passed=1)

    snap.write_text('{"type": "turn.completed", "status": 200}\n{"type": "warning", "message": "was there"}\n')
    result = project.runpytest(*args, "--wireplay-report-json", "report.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*PASS, but*"])
    (record,) = json.loads((project.path / "report.json").read_text())["cases"]
    assert record["outcome"] == "PASS" and record["snapshot"]["ok"] is False
    assert '-{"type": "warning", "message": "was there"}' in record["snapshot"]["diff"]


def test_serial_and_parallel_give_the_same_outcomes(project: pytest.Pytester):
    serial = project.runpytest("-p", "no:cacheprovider", "--wireplay-cases", "cases", "--wireplay-report-json", "serial.json")
    parallel = project.runpytest_subprocess("-p", "no:cacheprovider", "--wireplay-cases", "cases", "-n", "2", "--wireplay-report-json", "parallel.json")
    serial.assert_outcomes(passed=1, failed=4, skipped=1)
    parallel.assert_outcomes(passed=1, failed=4, skipped=1)
    assert outcomes(project.path / "serial.json") == outcomes(project.path / "parallel.json")


def test_the_shards_together_give_the_outcomes_of_one_run(project: pytest.Pytester):
    args = ("-p", "no:cacheprovider", "--wireplay-cases", "cases")
    project.runpytest(*args, "--wireplay-report-json", "whole.json")
    parts = {}
    for i in (1, 2, 3):
        project.runpytest(*args, "--wireplay-shard", f"{i}/3", "--wireplay-report-json", f"shard{i}.json")
        parts[i] = outcomes(project.path / f"shard{i}.json")
    assert sum(len(p) for p in parts.values()) == len(outcomes(project.path / "whole.json"))  # each case once
    assert {k: v for p in parts.values() for k, v in p.items()} == outcomes(project.path / "whole.json")


def test_a_bad_shard_is_a_usage_error(project: pytest.Pytester):
    result = project.runpytest("-p", "no:cacheprovider", "--wireplay-cases", "cases", "--wireplay-shard", "3/2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--shard '3/2': expected i/n with 1 <= i <= n*"])


def test_k_selects_cases_by_id_and_junit_names_them(project: pytest.Pytester):
    result = project.runpytest("-p", "no:cacheprovider", "--wireplay-cases", "cases", "-k", "unsupported", "--junitxml", "junit.xml")
    result.assert_outcomes(skipped=1)
    assert 'name="test_case[foundation.p.unsupported]"' in (project.path / "junit.xml").read_text()


def test_snapshots_of_no_case_are_reported_and_removed_on_update_of_a_whole_run(project: pytest.Pytester):
    args = ("-p", "no:cacheprovider", "--wireplay-cases", "cases", "--wireplay-snapshots")
    project.runpytest(*args, "--snapshot-update", "-k", "pass")
    orphan = project.path / "cases" / "foundation" / "__snapshots__" / "mock" / "foundation.p.gone.jsonl"
    orphan.write_text('{"type": "x"}\\n')
    project.runpytest(*args).stdout.fnmatch_lines(["*snapshots of no case (1) (--snapshot-update removes them)*foundation.p.gone.jsonl*"])
    project.runpytest(*args, "--snapshot-update", "-k", "pass")
    assert orphan.exists()  # a -k run never removes what it did not run
    one_file = next(f for f in (project.path / "cases" / "foundation").glob("*.yaml") if "pass" in f.read_text())
    project.runpytest("-p", "no:cacheprovider", "--wireplay-cases", str(one_file), "--wireplay-snapshots", "--snapshot-update")
    assert orphan.exists()  # nor does a run of one case file: the rest of its folder was not run
    project.runpytest(*args, "--snapshot-update")
    assert not orphan.exists()  # a whole run's update removes it (syrupy's rule)


RESPX_TESTS = """
import httpx

def test_an_httpx_client_in_process(wireplay_respx):
    served = wireplay_respx("foundation.sse.status-429")
    with served.mock():
        r = httpx.post(served.base_url + "/responses", json={"model": "m", "input": "hi"})
    assert r.status_code == 429 and r.headers["x-request-id"] == "req_429"
    assert r.json()["error"]["type"] == "usage_limit_reached"
    verdict = served.stop()
    assert verdict.ok, verdict.findings
    assert served.unavailable == []

def test_an_sse_stream_in_process_and_a_wrong_request(wireplay_respx):
    served = wireplay_respx("foundation.sse.retry-5xx")
    with served.mock():
        r = httpx.post(served.base_url + "/responses", json={})
        r2 = httpx.get(served.base_url + "/models")
    assert r.status_code == 500 and r2.status_code == 404
    messages = [f.message for f in served.stop().findings]
    assert "no scripted exchange matches GET /v1/models (answered 404)" in messages

def test_what_needs_a_socket_is_unavailable(wireplay_respx):
    served = wireplay_respx("foundation.sse.slow-server")
    with served.mock():
        r = httpx.post(served.base_url + "/responses", json={})
    assert r.status_code == 200 and "response.completed" in r.text
    assert served.unavailable and "needs a socket" in served.unavailable[0]
"""


def test_the_respx_fixture_serves_http_cases_in_process(pytester: pytest.Pytester):
    pytester.makepyfile(test_respx=RESPX_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider", "test_respx.py")
    result.assert_outcomes(passed=3)
