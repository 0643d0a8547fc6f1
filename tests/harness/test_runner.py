"""Every outcome class, per layer, produced through the adapter seam with plain-function adapters."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

from fake_server.redact import fingerprint
from harness.adapters.mock import MockAdapter
from harness.case.loader import parse_case_text
from harness.layer import Layer
from harness.runner import judge, run_case
from harness.verdict.finding import Plane
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
    - sequence: [{type: turn.completed, response_id: resp_1}]
      non_strict:
        - why: a client may report the id it generated instead
          sequence: [{type: turn.completed, response_id: other}]
"""

CAPS = frozenset({"responses.sse"})


def load(text: str = CASE):
    return parse_case_text(text, file=Path("cases/foundation/sample.yaml"))


def messages(result, plane=None):
    return [f.message for f in result.findings if plane is None or f.plane is plane]


async def good_client(op, args, ctx):
    async with httpx.AsyncClient() as client:
        r = await client.post(ctx.endpoint.base_url + "/responses", json={"input": args["input"]})
    for line in r.text.splitlines():
        if line.startswith("data: "):
            ctx.emit({"type": "turn.completed", "response_id": json.loads(line[6:])["response"]["id"]})


def test_pass_in_every_layer_the_case_asserts():
    result = judge(run_case(load(), adapter=MockAdapter(good_client, capabilities=CAPS)))
    assert result.outcome is Outcome.PASS, result.detail
    assert result.layers == {Layer.PROTOCOL: Outcome.PASS, Layer.CODEX: None}
    assert result.findings == ()
    record = result.to_json()
    assert record["layers"] == {"codex": None, "protocol": "PASS"}
    (event,) = record["events"]["received"]
    assert event["type"] == "turn.completed" and event["response_id"] == "resp_1"
    assert 0 <= event["t_ms"] < 3000


def test_fail_on_events_names_the_assertion_and_the_nearest_event():
    text = CASE.replace("response_id: resp_1}]\n      non_strict", "response_id: resp_2}]\n      non_strict")
    result = judge(run_case(load(text), adapter=MockAdapter(good_client, capabilities=CAPS)))
    assert result.outcome is Outcome.FAIL
    (finding,) = messages(result, Plane.EVENTS)
    assert finding.startswith('expect.events[0].sequence[0]: no event matching {"response_id": "resp_2", "type": "turn.completed"}; the nearest: #1 at ')
    assert finding.endswith('ms: response_id: expected "resp_2", got "resp_1"')
    assert "events received:" in result.detail and '"response_id": "resp_1"' in result.detail


def test_non_strict_alternative():
    async def other_id(op, args, ctx):
        async with httpx.AsyncClient() as client:
            await client.post(ctx.endpoint.base_url + "/responses", json={"input": "hi"})
        ctx.emit({"type": "turn.completed", "response_id": "other"})

    result = judge(run_case(load(), adapter=MockAdapter(other_id, capabilities=CAPS)))
    assert result.outcome is Outcome.NON_STRICT
    assert result.layers[Layer.PROTOCOL] is Outcome.NON_STRICT
    assert result.detail == "allowed alternative [protocol]: a client may report the id it generated instead"


def test_fail_on_wire_when_the_client_sends_the_wrong_body_and_twice():
    async def wrong(op, args, ctx):
        async with httpx.AsyncClient() as client:
            await client.post(ctx.endpoint.base_url + "/responses", json={"input": "bye"})
            await client.post(ctx.endpoint.base_url + "/responses", json={"input": "bye"})
        ctx.emit({"type": "turn.completed", "response_id": "resp_1"})

    result = judge(run_case(load(), adapter=MockAdapter(wrong, capabilities=CAPS)))
    assert result.outcome is Outcome.FAIL
    assert messages(result, Plane.EVENTS) == []
    assert messages(result, Plane.WIRE) == [
        'server.exchanges[0].expect.body.input: expected "hi", got "bye"',
        "no scripted exchange matches POST /v1/responses (answered 404)",
        'expect.wire[0]: expected exactly 1 request(s) matching {"kind": "http", "path": "/v1/responses"}, got 2',
    ]


def test_fail_when_the_event_is_late_for_the_timing_bound():
    async def slow(op, args, ctx):
        async with httpx.AsyncClient() as client:
            await client.post(ctx.endpoint.base_url + "/responses", json={"input": "hi"})
        await asyncio.sleep(0.3)
        ctx.emit({"type": "turn.completed", "response_id": "resp_1"})

    text = CASE.replace("within: 1}", "within: 0.1}")
    result = judge(run_case(load(text), adapter=MockAdapter(slow, capabilities=CAPS)))
    assert result.outcome is Outcome.FAIL
    (finding,) = messages(result, Plane.WIRE)
    assert finding.startswith('expect.timing[0]: {"type": "turn.completed"} came 0.')
    assert finding.endswith("s after mark 'sent', bound 0.1s")


def test_fail_when_a_wait_step_never_sees_its_event():
    async def silent(op, args, ctx):
        async with httpx.AsyncClient() as client:
            await client.post(ctx.endpoint.base_url + "/responses", json={"input": "hi"})

    result = judge(run_case(load(), adapter=MockAdapter(silent, capabilities=CAPS)))
    assert result.outcome is Outcome.FAIL
    assert 'client.steps[1].wait: no event matching {"type": "turn.completed"} within 1s' in messages(result, Plane.EVENTS)


LAYERED = """
id: foundation.runner.layered
title: a protocol fact and a codex fact in one case
seed: foundation
requires: [responses.sse]
timeout: 3
layer: protocol
client:
  steps:
    - responses.turn: {input: hi}
    - wait: {event: {type: warning}, timeout: 0.3, layer: codex}
server:
  exchanges:
    - http: {method: POST, path: /v1/responses}
      expect: {headers: {originator: codex_exec}, layer: codex}
      respond:
        sse:
          - event: {type: response.completed, response: {id: resp_1}}
expect:
  events:
    - sequence: [{type: turn.completed, response_id: resp_1}]
    - absent: {type: error}
    - sequence: [{type: warning, message: {$prefix: "Heads up"}}]
      layer: codex
"""


def test_an_sdk_is_judged_on_the_protocol_layer_only():
    async def sdk(op, args, ctx):
        await good_client(op, args, ctx)  # no originator header, no warning: codex facts

    sdk_result = judge(run_case(load(LAYERED), adapter=MockAdapter(sdk, capabilities=CAPS, layers=frozenset({Layer.PROTOCOL}))))
    assert sdk_result.outcome is Outcome.PASS, sdk_result.detail
    assert sdk_result.layers == {Layer.PROTOCOL: Outcome.PASS, Layer.CODEX: None}
    assert any("originator" in n for n in sdk_result.not_judged)
    assert any("client.steps[1].wait [codex]" in n for n in sdk_result.not_judged)

    codex_result = judge(run_case(load(LAYERED), adapter=MockAdapter(sdk, capabilities=CAPS)))
    assert codex_result.outcome is Outcome.FAIL
    assert codex_result.layers == {Layer.PROTOCOL: Outcome.PASS, Layer.CODEX: Outcome.FAIL}
    assert {f.layer for f in codex_result.findings} == {Layer.CODEX}


def test_a_case_with_nothing_in_the_claimed_layers_is_unsupported_and_never_runs():
    async def never(op, args, ctx):
        raise AssertionError("must not run")

    text = LAYERED.replace("layer: protocol\n", "layer: codex\n").replace("    - sequence: [{type: turn.completed, response_id: resp_1}]\n    - absent: {type: error}\n", "")
    result = judge(run_case(load(text), adapter=MockAdapter(never, capabilities=CAPS, layers=frozenset({Layer.PROTOCOL}))))
    assert result.outcome is Outcome.UNSUPPORTED
    assert result.detail.startswith("nothing left to judge: foundation.runner.layered asserts nothing in the layers mock claims (protocol)")
    assert result.layers == {Layer.PROTOCOL: None, Layer.CODEX: None}


def without_telemetry_of(handler=good_client) -> MockAdapter:
    """A client that reports no telemetry, and says so."""
    adapter = MockAdapter(handler, capabilities=CAPS)
    adapter.unreported_events = frozenset({"telemetry.*"})
    return adapter


def test_assertions_on_event_types_an_implementation_never_reports_are_not_judged():
    text = CASE + "    - sequence: [{type: telemetry.request}]\n"
    result = judge(run_case(load(text), adapter=without_telemetry_of()))
    assert result.outcome is Outcome.PASS
    assert "expect.events[1] [protocol]: not judged, mock does not report telemetry.request" in result.not_judged
    plain = judge(run_case(load(text), adapter=MockAdapter(good_client, capabilities=CAPS)))
    assert plain.outcome is Outcome.FAIL


WINDOWS = """
id: foundation.runner.windows
title: absent, count and exact, in windows
seed: foundation
timeout: 3
client:
  steps:
    - x.go: {}
server:
  exchanges: []
expect:
  events:
    - count: {type: tick}
      n: 3
    - count: {type: tick}
      after: {event: {type: start}}
      n: {min: 2, max: 2}
    - absent: {type: tick, n: 0}
      after: {event: {type: start}}
    - absent: {type: error}
      after: {event: {type: start}}
      within: 0.05
    - exact: [{type: tick, n: 0}, {type: tick, n: 1}, {type: tick, n: 2}]
    - sequence: [{type: start}, {type: tick, n: 2}]
"""


def test_count_absent_and_exact_in_windows():
    async def ticks(op, args, ctx):
        ctx.emit({"type": "tick", "n": 0})
        ctx.emit({"type": "start"})
        ctx.emit({"type": "tick", "n": 1})
        ctx.emit({"type": "tick", "n": 2})
        await asyncio.sleep(0.2)
        ctx.emit({"type": "error", "message": "late, outside the window"})

    result = judge(run_case(load(WINDOWS), adapter=MockAdapter(ticks)))
    assert result.outcome is Outcome.PASS, result.detail

    async def wrong(op, args, ctx):
        ctx.emit({"type": "start"})
        ctx.emit({"type": "error", "message": "inside the window"})
        ctx.emit({"type": "tick", "n": 0})

    found = messages(judge(run_case(load(WINDOWS), adapter=MockAdapter(wrong))), Plane.EVENTS)
    assert found[0] == 'expect.events[0].count: expected exactly 3 event(s) matching {"type": "tick"}, got 1'
    assert found[1].startswith('expect.events[1].count: expected exactly 2 event(s) matching {"type": "tick"} in the window (')
    assert found[2].startswith('expect.events[2].absent: {"n": 0, "type": "tick"} was reported in the window (')
    assert found[3].startswith('expect.events[3].absent: {"type": "error"} was reported in the window (')
    assert found[4] == 'expect.events[4].exact: expected 3 event(s) of type tick, got 1: {"n": 0, "type": "tick"}'
    assert found[5].startswith("expect.events[5].sequence[1]: no event matching")


def test_timeout_when_the_implementation_hangs_and_nothing_is_left_behind():
    async def hang(op, args, ctx):
        await asyncio.Event().wait()

    run = run_case(load(), adapter=MockAdapter(hang, capabilities=CAPS), timeout=0.5)
    result = judge(run)
    assert result.outcome is Outcome.TIMEOUT
    assert result.detail.startswith("the case did not finish within its bound of 0.5s while running client.steps[0] (responses.turn)\n")
    assert "server.exchanges[0] (http POST /v1/responses): expected exactly 1 request(s), got 0" in messages(result, Plane.WIRE)
    assert "events received:\n  none" in result.detail


def test_error_with_traceback_when_the_implementation_crashes():
    async def crash(op, args, ctx):
        raise RuntimeError("boom in the client")

    result = judge(run_case(load(), adapter=MockAdapter(crash, capabilities=CAPS)))
    assert result.outcome is Outcome.ERROR
    assert "Traceback" in result.detail and "RuntimeError: boom in the client" in result.detail


def test_error_when_teardown_crashes():
    async def close_crash(ctx):
        raise OSError("cannot close")

    run = run_case(load(), adapter=MockAdapter(good_client, capabilities=CAPS, on_close=close_crash))
    assert judge(run).outcome is Outcome.ERROR


def test_unsupported_when_a_capability_is_missing():
    async def never(op, args, ctx):
        raise AssertionError("must not run")

    result = judge(run_case(load(), adapter=MockAdapter(never, capabilities=frozenset({"responses.ws"}))))
    assert result.outcome is Outcome.UNSUPPORTED
    assert result.detail == "missing capabilities: responses.sse"
    assert result.layers == {Layer.PROTOCOL: None, Layer.CODEX: None}


def test_non_events_are_reported_not_raised():
    async def garbage(op, args, ctx):
        await good_client(op, args, ctx)
        ctx.emit(["not", "an", "event"])

    result = judge(run_case(load(), adapter=MockAdapter(garbage, capabilities=CAPS)))
    assert result.outcome is Outcome.FAIL
    (finding,) = result.findings
    assert finding.layer is None and finding.message.startswith("the implementation reported a non-event")


def test_events_are_normalised_and_a_reported_credential_is_a_finding():
    async def noisy(op, args, ctx):
        await good_client(op, args, ctx)
        ctx.emit({"type": "telemetry.request", "duration_ms": 12.5, "id": "0192f3a4-5b6c-7d8e-9f00-112233445566",
                  "same": "0192f3a4-5b6c-7d8e-9f00-112233445566", "url": ctx.endpoint.base_url, "auth": "Bearer sk-canary-XYZ123"})

    run = run_case(load(), adapter=MockAdapter(noisy, capabilities=CAPS))
    line = run.snapshot_text().splitlines()[1]
    assert json.loads(line) == {"type": "telemetry.request", "auth": "Bearer " + fingerprint("sk-canary-XYZ123"), "duration_ms": "<duration>",
                                "id": "<uuid-1>", "same": "<uuid-1>", "url": "http://127.0.0.1:<port>/v1"}
    result = judge(run)
    assert result.outcome is Outcome.FAIL
    assert messages(result) == ["event #2 (telemetry.request): the client reported a credential (shown redacted)"]
    assert "sk-canary-XYZ123" not in json.dumps(result.to_json()) and "sk-canary-XYZ123" not in result.detail


def test_durations_are_checked_before_they_are_normalised():
    async def odd(op, args, ctx):
        await good_client(op, args, ctx)
        ctx.emit({"type": "telemetry.request", "duration_ms": -1})
        ctx.emit({"type": "telemetry.request", "duration_ms": 3000})
        ctx.emit({"type": "telemetry.request", "duration_ms": "12"})
        ctx.emit({"type": "telemetry.request", "duration_ms": 2999.5})

    result = judge(run_case(load(), adapter=MockAdapter(odd, capabilities=CAPS)))
    assert messages(result) == [
        f"event #{i} (telemetry.request) field duration_ms: {v} is not a duration (a non-negative number below the case's bound of 3 s)"
        for i, v in ((2, "-1"), (3, "3000"), (4, "'12'"))
    ]


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
    result = judge(run_case(load(text), adapter=MockAdapter(good_client, capabilities=CAPS)))
    assert result.outcome is Outcome.FAIL
    (finding,) = messages(result, Plane.WIRE)
    assert finding.endswith("sooner than the 0.5s it must take")


def test_same_body_check_names_the_request_that_differs():
    text = CASE.replace("      count: 1\n", "      count: 2\n      same: [body]\n").replace("      expect: {body: {input: hi}}\n", "      times: 2\n")

    async def two(op, args, ctx):
        async with httpx.AsyncClient() as client:
            await client.post(ctx.endpoint.base_url + "/responses", json={"input": "hi"})
            await client.post(ctx.endpoint.base_url + "/responses", json={"input": "hi", "attempt": 2})
        ctx.emit({"type": "turn.completed", "response_id": "resp_1"})

    result = judge(run_case(load(text), adapter=MockAdapter(two, capabilities=CAPS)))
    assert messages(result, Plane.WIRE) == [
        'expect.wire[0].same.body: request 1 differs from request 0: {"attempt": 2, "input": "hi"} vs {"input": "hi"}',
    ]


MESSAGES = """
id: foundation.runner.messages
title: client websocket messages are selectable by wire checks, per layer
seed: foundation
timeout: 3
client:
  steps:
    - x.go: {}
server:
  exchanges:
    - websocket: {path: /v1/realtime}
      script:
        - expect: {type: session.update}
expect:
  wire:
    - of: {kind: message, path: /v1/realtime}
      count: 2
    - of: {kind: message, body: {type: session.update}}
      items: [{body: {session: {type: quicksilver}}, headers: {x-session-id: s1}}]
    - of: {kind: message, body: {type: session.update}}
      items: [{body: {session: {$exact: {type: quicksilver, voice: fathom}}}}]
      layer: codex
    - of: {kind: any}
      count: 1
    - of: {kind: prewarm}
      count: 0
"""


def test_wire_checks_select_client_messages():
    async def client(op, args, ctx):
        async with connect(ctx.endpoint.base_url.replace("http", "ws", 1) + "/realtime", additional_headers={"x-session-id": "s1"}) as ws:
            await ws.send(json.dumps({"type": "session.update", "session": {"type": "quicksilver", "voice": "cove"}}))
            await ws.send("not json")

    result = judge(run_case(load(MESSAGES), adapter=MockAdapter(client)))
    # 2 messages (the second as {"$text": ...}), 1 request: the protocol checks hold but the
    # stray text frame is a finding of the exchange; the codex check sees the other voice.
    assert [(f.layer, f.message) for f in result.findings] == [
        (Layer.PROTOCOL, "server.exchanges[0].script (after the last step): unexpected client text message 'not json'"),
        (Layer.CODEX, 'expect.wire[2].items[0].body.session.voice: expected "fathom", got "cove"'),
    ]
    assert result.layers == {Layer.PROTOCOL: Outcome.FAIL, Layer.CODEX: Outcome.FAIL}


def test_alternative_event_types_are_judged_when_one_of_them_is_reported():
    text = CASE + "    - absent: {type: {$any_of: [warning, telemetry.request]}}\n    - sequence: [{type: {$any_of: [telemetry.request, telemetry.events]}}]\n"
    result = judge(run_case(load(text), adapter=without_telemetry_of()))
    assert result.outcome is Outcome.PASS, result.detail
    assert result.not_judged == ("expect.events[2] [protocol]: not judged, mock does not report telemetry.events, telemetry.request",)


REVISIONS = """
id: foundation.runner.revisions
title: a fact that differs by revision carries a variant per revision
seed: foundation
requires: [responses.sse]
timeout: 3
client:
  steps:
    - responses.turn: {input: hi}
    - wait: {event: {type: warning}, timeout: 1}
      revision: later-1
server:
  exchanges:
    - http: {method: POST, path: /v1/responses}
      respond:
        sse:
          - event: {type: response.completed, response: {id: resp_1}}
    - http: {method: POST, path: /v1/prewarm}
      revision: later-1
      respond: {status: 204}
expect:
  wire:
    - of: {kind: http}
      count: 1
      revision: seed
    - of: {kind: http}
      count: 2
      revision: [later-1]
  events:
    - sequence: [{type: turn.completed, response_id: resp_1}]
    - absent: {type: warning}
      revision: seed
"""


def test_the_runner_keeps_only_the_variants_of_the_implementations_revision():
    async def later(op, args, ctx):
        await good_client(op, args, ctx)
        async with httpx.AsyncClient() as client:
            await client.post(ctx.endpoint.base_url + "/prewarm")
        ctx.emit({"type": "warning", "message": "a later revision warns"})

    case = load(REVISIONS)
    assert judge(run_case(case, adapter=MockAdapter(good_client, capabilities=CAPS))).outcome is Outcome.PASS
    result = judge(run_case(case, adapter=MockAdapter(later, capabilities=CAPS, revision="later-1")))
    assert result.outcome is Outcome.PASS, result.detail
    # each client judged on the other's revision fails exactly on the variants that differ
    wrong = judge(run_case(case, adapter=MockAdapter(later, capabilities=CAPS)))
    found = [f.message for f in wrong.findings]
    assert found[:2] == [
        "no scripted exchange matches POST /v1/prewarm (answered 404)",
        'expect.wire[0]: expected exactly 1 request(s) matching {"kind": "http"}, got 2',
    ]
    assert found[2].startswith('expect.events[1].absent: {"type": "warning"} was reported: #2 at ')
    assert found[2].endswith('{"message": "a later revision warns", "type": "warning"}') and len(found) == 3
    assert case.for_revision("later-1").script.exchanges[1].path == "server.exchanges[1]"
    assert [s.op for s in case.for_revision("seed").steps] == ["responses.turn"]


QUIET = """
id: foundation.runner.quiet
title: a wait on an event the client never reports ends once the server is quiet
seed: foundation
requires: [responses.sse]
timeout: 3
client:
  steps:
    - responses.turn: {input: hi}
    - wait: {event: {type: telemetry.request}, timeout: 60}
    - x.slow: {}
server:
  exchanges:
    - http: {method: POST, path: /v1/responses}
      respond:
        sse:
          - event: {type: response.completed, response: {id: resp_1}}
expect:
  events:
    - sequence: [{type: turn.completed}, {type: done}]
"""


def test_a_wait_on_an_unreported_event_type_goes_on_when_the_server_is_quiet():
    async def client(op, args, ctx):
        if op == "x.slow":  # had the wait run out its bound (the case's, 3 s), this step would time the case out
            await asyncio.sleep(1.5)
            ctx.emit({"type": "done"})
            return
        await good_client(op, args, ctx)

    result = judge(run_case(load(QUIET), adapter=without_telemetry_of(client)))
    assert result.outcome is Outcome.PASS, result.detail
    assert result.not_judged == ("client.steps[1].wait [protocol]: not judged, mock does not report telemetry.request; the case went on once the server was quiet",)


PREWARM = """
id: foundation.runner.prewarm
title: a server-answered prewarm create is kind prewarm, neither a message nor a request
seed: foundation
timeout: 3
client:
  steps:
    - x.go: {}
server:
  exchanges:
    - websocket: {path: /v1/responses}
      script:
        - expect: {type: response.create, previous_response_id: resp_prewarm_1}
        - send: {type: response.completed, response: {id: resp_1}}
expect:
  wire:
    - of: {kind: prewarm}
      items: [{body: {generate: false}}]
      count: 1
    - of: {kind: message}
      count: 1
    - of: {kind: any}
      count: 1
"""


def test_a_prewarm_create_is_selected_as_kind_prewarm_only():
    async def client(op, args, ctx):
        async with connect(ctx.endpoint.base_url.replace("http", "ws", 1) + "/responses") as ws:
            await ws.send(json.dumps({"type": "response.create", "generate": False}))
            warm = [json.loads(await ws.recv()) for _ in range(2)]
            await ws.send(json.dumps({"type": "response.create", "previous_response_id": warm[1]["response"]["id"]}))
            await ws.recv()

    result = judge(run_case(load(PREWARM), adapter=MockAdapter(client)))
    assert result.outcome is Outcome.PASS, result.detail


def test_an_implementation_that_cannot_do_what_a_case_asks_is_unsupported_not_an_error():
    from harness.errors import Unsupported

    async def cannot(op, args, ctx):
        raise Unsupported("this client has no knob for the request's instructions")

    result = judge(run_case(load(), adapter=MockAdapter(cannot, capabilities=CAPS)))
    assert result.outcome is Outcome.UNSUPPORTED
    assert result.detail == "mock cannot do what this case asks: this client has no knob for the request's instructions"


LISTENERS = """
id: foundation.runner.listeners
title: a realtime listener of its own, and a provider base URL with a path and query of its own
seed: foundation
timeout: 3
client:
  endpoint:
    base_url: "${server:origin}/openai/v1?api-version=1"
    realtime_base_url: "${realtime:ws_origin}"
  config:
    x: {echo: "${realtime:origin}"}
  steps:
    - x.go: {}
server:
  listeners: [realtime]
  exchanges:
    - http: {method: POST, path: /openai/v1/responses}
      expect: {query: {api-version: "1"}}
      respond: {status: 204}
    - websocket: {path: /v1/realtime}
      listener: realtime
      script:
        - expect: {type: session.update}
expect:
  wire:
    - of: {kind: websocket, listener: realtime}
      count: 1
    - of: {listener: main}
      count: 1
"""


def test_listeners_and_endpoints_reach_the_client():
    seen = {}

    async def client(op, args, ctx):
        seen.update(base=ctx.endpoint.base_url, realtime=ctx.endpoint.realtime_base_url, echo=ctx.config["x"]["echo"])
        base, _, query = ctx.endpoint.base_url.partition("?")
        async with httpx.AsyncClient() as http:
            await http.post(f"{base}/responses?{query}", json={})
        async with connect(ctx.endpoint.realtime_base_url + "/v1/realtime") as ws:
            await ws.send(json.dumps({"type": "session.update"}))

    result = judge(run_case(load(LISTENERS), adapter=MockAdapter(client)))
    assert result.outcome is Outcome.PASS, result.detail
    main_port = seen["base"].split(":")[2].split("/")[0]
    assert seen["base"].endswith(f":{main_port}/openai/v1?api-version=1")
    assert seen["realtime"].startswith("ws://127.0.0.1:") and not seen["realtime"].endswith(main_port)
    assert seen["echo"] == seen["realtime"].replace("ws://", "http://")


def test_a_request_on_the_wrong_listener_matches_nothing():
    async def client(op, args, ctx):
        async with httpx.AsyncClient() as http:
            await http.post(ctx.endpoint.realtime_base_url.replace("ws://", "http://") + "/openai/v1/responses?api-version=1", json={})

    messages_ = [f.message for f in judge(run_case(load(LISTENERS), adapter=MockAdapter(client))).findings]
    assert "no scripted exchange matches POST /openai/v1/responses?api-version=1 (answered 404)" in messages_
