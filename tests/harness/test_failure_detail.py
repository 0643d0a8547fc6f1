"""Every failure shows what happened: the step that was running and the events so far, with their times.

A failed wait, a failed timing check, a TIMEOUT and an ERROR each carry, in the detail the
console and JUnit print: the client steps with when each started and ended (the one the
case stopped in marked), the server's time marks, and the events received with ``t_ms``.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from harness.adapters.mock import MockAdapter
from harness.adapters.reference import ReferenceAdapter
from harness.case.loader import parse_case_text
from harness.runner import judge, run_case
from harness.verdict.outcome import Outcome


CASE = """
id: foundation.detail.sample
title: one request, then an event the client reports late
timeout: {timeout}
client:
  steps:
    - x.go: {{}}
    - wait: {{event: {{type: turn.completed}}, timeout: {wait}}}
server:
  exchanges:
    - http: {{method: POST, path: /v1/responses}}
      respond:
        sse:
          - mark: sent
          - event: {{type: response.completed, response: {{id: resp_1}}}}
expect:
  snapshot: false
  timing:
    - {{from_mark: sent, to_event: {{type: turn.completed}}, within: 0.05}}
"""


def load(*, timeout: float = 3, wait: float = 1):
    return parse_case_text(CASE.format(timeout=timeout, wait=wait), file=Path("cases/foundation/detail.yaml"))


def client(*, delay: float = 0.0, report: bool = True, hang: bool = False, crash: bool = False):
    async def go(op, args, ctx):
        import httpx

        ctx.emit({"type": "turn.started", "turn_id": "t1"})
        async with httpx.AsyncClient() as http:
            await http.post(f"{ctx.endpoint.base_url}/responses", json={})
        if crash:
            raise RuntimeError("the client fell over")
        if hang:
            await asyncio.sleep(60)
        await asyncio.sleep(delay)
        if report:
            ctx.emit({"type": "turn.completed", "status": "completed"})

    return MockAdapter(go)


def _timed_events(detail: str) -> list[str]:
    after = detail.split("events received:\n", 1)[1]
    return re.findall(r"^\s+\d+\.\d ms  (\{.*\})$", after, re.M)


def test_a_failed_wait_shows_the_wait_and_the_events_so_far():
    result = judge(run_case(load(wait=0.3), adapter=client(report=False)))
    assert result.outcome is Outcome.FAIL
    detail = result.detail
    assert 'client.steps[1].wait: no event matching {"type": "turn.completed"} within 0.3s' in detail
    assert re.search(r"^\s+\d+\.\d → \s*\d+\.\d ms  client\.steps\[0\] \(x\.go\)$", detail, re.M)
    assert re.search(r"client\.steps\[1\] \(wait\)  ◀ the case stopped here$", detail, re.M)
    assert re.search(r"^server marks: sent at \d+\.\d ms$", detail, re.M)
    assert _timed_events(detail) == ['{"type": "turn.started", "turn_id": "t1"}']


def test_a_failed_timing_check_shows_the_steps_marks_and_event_times():
    result = judge(run_case(load(), adapter=client(delay=0.2)))
    assert result.outcome is Outcome.FAIL
    detail = result.detail
    assert "expect.timing[0]" in detail
    assert "  all 2 step(s) ran" in detail
    assert "◀" not in detail  # nothing stopped the case: the steps and times tell when each ran
    assert re.search(r"^server marks: sent at \d+\.\d ms$", detail, re.M)
    assert _timed_events(detail) == ['{"type": "turn.started", "turn_id": "t1"}', '{"type": "turn.completed", "status": "completed"}']


def test_a_timeout_names_the_running_step_and_shows_the_events_so_far():
    result = judge(run_case(load(timeout=0.5), adapter=client(hang=True)))
    assert result.outcome is Outcome.TIMEOUT
    detail = result.detail
    assert "the case did not finish within its bound of 0.5s while running client.steps[0] (x.go)" in detail
    assert re.search(r"→        … ms  client\.steps\[0\] \(x\.go\)  ◀ running when the case stopped$", detail, re.M)
    assert _timed_events(detail) == ['{"type": "turn.started", "turn_id": "t1"}']


def test_an_error_names_the_running_step_and_shows_the_events_so_far():
    result = judge(run_case(load(), adapter=client(crash=True)))
    assert result.outcome is Outcome.ERROR
    detail = result.detail
    assert detail.startswith("while running client.steps[0] (x.go):\nTraceback")
    assert "RuntimeError: the client fell over" in detail
    assert re.search(r"client\.steps\[0\] \(x\.go\)  ◀ running when the case stopped$", detail, re.M)
    assert _timed_events(detail) == ['{"type": "turn.started", "turn_id": "t1"}']


def test_the_example_at_the_top_of_the_case_format_passes_on_the_reference():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "case-format.md").read_text()
    example = re.search(r"```yaml\n(.*?)```", doc, re.S)
    assert example is not None
    case = parse_case_text(example.group(1), file=Path("cases/responses/example.yaml"))
    result = judge(run_case(case, adapter=ReferenceAdapter()))
    assert result.outcome is Outcome.PASS, result.detail
