"""Every outcome class, produced through the adapter seam with plain-function adapters."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

from fake_server.redact import fingerprint
from harness.adapters.mock import MockAdapter
from harness.case.loader import parse_case_text
from harness.runner import judge, run_case
from harness.verdict.outcome import Outcome


CASE = """
id: foundation.runner.sample
title: one SSE request and one event
seed: foundation
requires: [responses.sse]
timeout: 3
client:
  steps:
    - responses.turn: {input: hi}
    - wait: {event: {type: turn.completed}, timeout: 1}
server:
  exchanges:
    - http: {method: POST, path: /v1/responses}
      expect: {body: {input: hi}}
      respond:
        sse:
          - mark: sent
          - event: {type: response.completed, response: {id: resp_1}}
expect:
  wire:
    - of: {kind: http, path: /v1/responses}
      count: 1
  timing:
    - {from_mark: sent, to_event: {type: turn.completed}, within: 1}
  events:
    non_strict:
      - why: a client may report the id it generated instead
        events: [{type: turn.completed, response_id: other}]
"""

CAPS = frozenset({"responses.sse"})
EXPECTED = '{"type": "turn.completed", "response_id": "resp_1"}\n'


def load(text: str = CASE):
    return parse_case_text(text, file=Path("cases/foundation/sample.yaml"))


async def good_client(op, args, ctx):
    async with httpx.AsyncClient() as client:
        r = await client.post(ctx.endpoint.base_url + "/responses", json={"input": args["input"]})
    for line in r.text.splitlines():
        if line.startswith("data: "):
            ctx.emit({"type": "turn.completed", "response_id": json.loads(line[6:])["response"]["id"]})


def test_pass():
    run = run_case(load(), adapter=MockAdapter(good_client, capabilities=CAPS))
    result = judge(run, expected=EXPECTED)
    assert result.outcome is Outcome.PASS, result.detail
    assert result.wire.ok and result.events.ok


def test_fail_on_events_with_a_readable_diff():
    run = run_case(load(), adapter=MockAdapter(good_client, capabilities=CAPS))
    result = judge(run, expected='{"type": "turn.completed", "response_id": "resp_2"}\n')
    assert result.outcome is Outcome.FAIL
    assert '-{"type": "turn.completed", "response_id": "resp_2"}' in result.detail
    assert '+{"type": "turn.completed", "response_id": "resp_1"}' in result.detail


def test_missing_snapshot_fails_and_says_how_to_fix():
    run = run_case(load(), adapter=MockAdapter(good_client, capabilities=CAPS))
    result = judge(run, expected=None)
    assert result.outcome is Outcome.FAIL
    assert "missing snapshot cases/foundation/__snapshots__/foundation.runner.sample.jsonl: run with --snapshot-update" in result.detail


def test_non_strict_alternative():
    async def other_id(op, args, ctx):
        async with httpx.AsyncClient() as client:
            await client.post(ctx.endpoint.base_url + "/responses", json={"input": "hi"})
        ctx.emit({"type": "turn.completed", "response_id": "other"})

    result = judge(run_case(load(), adapter=MockAdapter(other_id, capabilities=CAPS)), expected=EXPECTED)
    assert result.outcome is Outcome.NON_STRICT
    assert result.detail == "allowed alternative: a client may report the id it generated instead"


def test_fail_on_wire_when_the_client_sends_the_wrong_body_and_twice():
    async def wrong(op, args, ctx):
        async with httpx.AsyncClient() as client:
            await client.post(ctx.endpoint.base_url + "/responses", json={"input": "bye"})
            await client.post(ctx.endpoint.base_url + "/responses", json={"input": "bye"})
        ctx.emit({"type": "turn.completed", "response_id": "resp_1"})

    result = judge(run_case(load(), adapter=MockAdapter(wrong, capabilities=CAPS)), expected=EXPECTED)
    assert result.outcome is Outcome.FAIL
    assert result.events.ok
    assert result.wire.findings == (
        'server.exchanges[0].expect.body.input: expected "hi", got "bye"',
        "no scripted exchange matches POST /v1/responses (answered 404)",
        'expect.wire[0]: expected exactly 1 request(s) matching {"kind": "http", "path": "/v1/responses"}, got 2',
    )


def test_fail_when_the_event_is_late_for_the_timing_bound():
    async def slow(op, args, ctx):
        async with httpx.AsyncClient() as client:
            await client.post(ctx.endpoint.base_url + "/responses", json={"input": "hi"})
        await asyncio.sleep(0.3)
        ctx.emit({"type": "turn.completed", "response_id": "resp_1"})

    text = CASE.replace("within: 1}", "within: 0.1}")
    result = judge(run_case(load(text), adapter=MockAdapter(slow, capabilities=CAPS)), expected=EXPECTED)
    assert result.outcome is Outcome.FAIL
    (finding,) = result.wire.findings
    assert finding.startswith('expect.timing[0]: {"type": "turn.completed"} reported 0.')
    assert finding.endswith("s after 'sent', bound 0.1s")


def test_fail_when_a_wait_step_never_sees_its_event():
    async def silent(op, args, ctx):
        async with httpx.AsyncClient() as client:
            await client.post(ctx.endpoint.base_url + "/responses", json={"input": "hi"})

    result = judge(run_case(load(), adapter=MockAdapter(silent, capabilities=CAPS)), expected=EXPECTED)
    assert result.outcome is Outcome.FAIL
    assert 'client.steps[1].wait: no event matching {"type": "turn.completed"} within 1s' in result.events.problems


def test_timeout_when_the_implementation_hangs_and_nothing_is_left_behind():
    async def hang(op, args, ctx):
        await asyncio.Event().wait()

    run = run_case(load(), adapter=MockAdapter(hang, capabilities=CAPS), timeout=0.5)
    result = judge(run, expected=EXPECTED)
    assert result.outcome is Outcome.TIMEOUT
    assert result.detail == "the case did not finish within its bound of 0.5s"
    assert "server.exchanges[0] (http POST /v1/responses): expected exactly 1 request(s), got 0" in result.wire.findings


def test_error_with_traceback_when_the_implementation_crashes():
    async def crash(op, args, ctx):
        raise RuntimeError("boom in the client")

    result = judge(run_case(load(), adapter=MockAdapter(crash, capabilities=CAPS)), expected=EXPECTED)
    assert result.outcome is Outcome.ERROR
    assert "Traceback" in result.detail and "RuntimeError: boom in the client" in result.detail


def test_error_when_teardown_crashes():
    async def close_crash(ctx):
        raise OSError("cannot close")

    run = run_case(load(), adapter=MockAdapter(good_client, capabilities=CAPS, on_close=close_crash))
    assert judge(run, expected=EXPECTED).outcome is Outcome.ERROR


def test_unsupported_when_a_capability_is_missing():
    async def never(op, args, ctx):
        raise AssertionError("must not run")

    result = judge(run_case(load(), adapter=MockAdapter(never, capabilities=frozenset({"responses.ws"}))), expected=EXPECTED)
    assert result.outcome is Outcome.UNSUPPORTED
    assert result.detail == "missing capabilities: responses.sse"


def test_non_events_are_reported_not_raised():
    async def garbage(op, args, ctx):
        await good_client(op, args, ctx)
        ctx.emit(["not", "an", "event"])

    result = judge(run_case(load(), adapter=MockAdapter(garbage, capabilities=CAPS)), expected=EXPECTED)
    assert result.outcome is Outcome.FAIL
    assert result.events.problems[0].startswith("the implementation reported a non-event")


def test_events_are_normalised_and_secrets_redacted_in_the_report():
    async def noisy(op, args, ctx):
        await good_client(op, args, ctx)
        ctx.emit({"type": "telemetry.request", "duration_ms": 12.5, "id": "0192f3a4-5b6c-7d8e-9f00-112233445566",
                  "same": "0192f3a4-5b6c-7d8e-9f00-112233445566", "url": ctx.endpoint.base_url, "auth": "Bearer sk-canary-XYZ123"})

    run = run_case(load(), adapter=MockAdapter(noisy, capabilities=CAPS))
    line = run.snapshot_text().splitlines()[1]
    assert json.loads(line) == {"type": "telemetry.request", "auth": "Bearer " + fingerprint("sk-canary-XYZ123"), "duration_ms": "<duration>",
                                "id": "<uuid-1>", "same": "<uuid-1>", "url": "http://127.0.0.1:<port>/v1"}
    assert "sk-canary-XYZ123" not in json.dumps(judge(run, expected=None).to_json())


def test_stalled_close_does_not_hang_the_runner():
    text = """
id: foundation.runner.stall
title: stalled close handshake
seed: ws-drop-on-terminal-error
timeout: 5
client:
  steps:
    - responses.turn: {input: hi}
server:
  exchanges:
    - websocket: {path: /v1/responses}
      on_close: stall
      script:
        - send: {type: response.failed}
"""

    async def client_waiting_for_close(op, args, ctx):
        ws = await connect(ctx.endpoint.base_url.replace("http", "ws", 1) + "/responses", close_timeout=0.3)
        await ws.recv()
        await ws.close()  # bounded by close_timeout: the server never answers
        ctx.emit({"type": "closed"})

    run = run_case(load(text), adapter=MockAdapter(client_waiting_for_close))
    assert run.status == "completed"
    assert run.duration < 3
    assert any(r["kind"] == "fault" and r["fault"] == "stall_close" for r in run.wire_log)


def test_fail_when_the_event_is_sooner_than_its_lower_bound():
    text = CASE.replace("within: 1}", "within: 1, at_least: 0.5}")
    result = judge(run_case(load(text), adapter=MockAdapter(good_client, capabilities=CAPS)), expected=EXPECTED)
    assert result.outcome is Outcome.FAIL
    (finding,) = result.wire.findings
    assert finding.endswith("sooner than the 0.5s it must take")


def test_non_strict_when_only_declared_unreported_events_differ():
    async def quiet(op, args, ctx):
        await good_client(op, args, ctx)

    expected = '{"type": "telemetry.request", "duration_ms": "<duration>"}\n' + EXPECTED
    adapter = MockAdapter(quiet, capabilities=CAPS)
    adapter.unreported_events = frozenset({"telemetry.*"})
    result = judge(run_case(load(), adapter=adapter), expected=expected)
    assert result.outcome is Outcome.NON_STRICT
    assert result.detail == "allowed alternative: matches once the event types this implementation does not report are set aside: telemetry.*"
    plain = judge(run_case(load(), adapter=MockAdapter(quiet, capabilities=CAPS)), expected=expected)
    assert plain.outcome is Outcome.FAIL


def test_same_body_check_names_the_request_that_differs():
    text = CASE.replace("      count: 1\n", "      count: 2\n      same: [body]\n").replace("      expect: {body: {input: hi}}\n", "      times: 2\n")

    async def two(op, args, ctx):
        async with httpx.AsyncClient() as client:
            await client.post(ctx.endpoint.base_url + "/responses", json={"input": "hi"})
            await client.post(ctx.endpoint.base_url + "/responses", json={"input": "hi", "attempt": 2})
        ctx.emit({"type": "turn.completed", "response_id": "resp_1"})

    result = judge(run_case(load(text), adapter=MockAdapter(two, capabilities=CAPS)), expected=EXPECTED)
    assert result.wire.findings == (
        'expect.wire[0].same.body: request 1 differs from request 0: {"attempt": 2, "input": "hi"} vs {"input": "hi"}',
    )
