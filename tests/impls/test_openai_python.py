"""openai-python through its driver: a few cases end to end, judged like the suite judges them.

Skipped when the SDK venv is absent (scripts/install-openai-python.sh installs it). The
cases are inline so they pin the driver's mapping, not the evolving suite's snapshots.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from harness.case.loader import parse_case_text
from harness.expectations import load_expectations
from harness.implementations import ImplementationUnavailable, adapter_for
from harness.impls import openai_python
from harness.runner import judge, run_case
from harness.verdict.outcome import Outcome


needs_sdk = pytest.mark.skipif(
    openai_python.sdk_python() is None,
    reason=f"openai-python {openai_python.VERSION} is not installed: run `wireplay install openai-python`",
)

RESPONSE = '{id: resp_1, object: response, created_at: 1700000000, model: gpt-test, status: completed, output: [], parallel_tool_calls: true, tool_choice: auto, tools: []}'


def case(text: str, name: str):
    return parse_case_text(text, file=Path(f"cases/foundation/{name}.yaml"))


def lines(*events: dict) -> str:
    """Snapshot text: ``type`` first, the other keys sorted (harness/verdict/normalise.py)."""
    out = []
    for event in events:
        ordered = {"type": event["type"]} | {k: event[k] for k in sorted(event) if k != "type"}
        out.append(json.dumps(ordered, ensure_ascii=False, separators=(", ", ": ")) + "\n")
    return "".join(out)


def driver_processes() -> list[str]:
    """Driver processes still running (none may outlive its case)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = (Path("/proc") / pid / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(openai_python.DRIVER) in cmdline:
            found.append(f"{pid}: {cmdline}")
    return found


@pytest.fixture(scope="module")
def sdk():
    return openai_python.adapter()


@pytest.fixture(autouse=True)
def nothing_left_behind(request):
    yield
    if "sdk" not in request.fixturenames:
        return
    deadline = time.monotonic() + 3
    while driver_processes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert driver_processes() == []


def test_missing_venv_is_unavailable_with_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setenv("WIREPLAY_OPENAI_PYTHON_VENV", str(tmp_path / "absent"))
    with pytest.raises(ImplementationUnavailable, match=r"wireplay install openai-python"):
        openai_python.adapter()
    stand_in = adapter_for(impl="openai-python")
    assert stand_in.capabilities == frozenset()
    assert "wireplay install openai-python" in stand_in.reason


def test_the_expectations_file_is_valid():
    known = load_expectations(list(openai_python.EXPECTATIONS_FILES))
    assert all(entry.why for entry in known.values())


@needs_sdk
def test_hello_names_the_sdk_and_its_honest_capabilities(sdk):
    assert (sdk.name, sdk.version) == ("openai-python", openai_python.VERSION)
    assert {"realtime.v2", "realtime.transcription", "responses.sse", "responses.ws"} <= sdk.capabilities
    assert not sdk.capabilities & {"realtime.v1", "profiles", "responses.ws.v1"}
    assert tuple(sdk.expectations_files) == openai_python.EXPECTATIONS_FILES


@needs_sdk
def test_realtime_v2_text_turn_and_handoff(sdk):
    c = case(
        """
id: foundation.oai.realtime-handoff
title: text, a delegated call, and the final tool output
seed: realtime-v2-parser
requires: [realtime.v2]
client:
  config:
    realtime: {version: v2, api_key: sk-test, model: gpt-realtime}
  steps:
    - realtime.start: {prompt: be brief, session_id: s-1}
    - realtime.text: {text: fix it}
    - wait: {event: {type: realtime.handoff_requested}}
    - realtime.handoff_output: {text: done}
    - realtime.turn_complete: {}
    - wait: {event: {type: realtime.output_transcript_delta}}
    - realtime.close: {}
server:
  exchanges:
    - websocket: {path: /v1/realtime}
      expect: {query: {model: gpt-realtime}, headers: {authorization: Bearer sk-test, user-agent: {$regex: "AsyncOpenAI/Python .+"}}}
      script:
        - expect: {type: session.update, session: {type: realtime, instructions: be brief}}
        - expect: {type: conversation.item.create, item: {type: message, role: user, content: [{type: input_text, text: fix it}]}}
        - expect: {$exact: {type: response.create}}
        - send: {type: response.created, event_id: e1, response: {id: r1}}
        - send: {type: conversation.item.done, event_id: e2, item: {id: i1, type: function_call, name: codex, call_id: c1, arguments: "{\\"prompt\\":\\"fix it\\"}"}}
        - expect: {type: conversation.item.create, item: {type: function_call_output, call_id: c1, output: {$regex: "(?s).*done"}}}
        - expect: {$exact: {type: response.create}}
        - send: {type: response.output_audio_transcript.delta, event_id: e3, response_id: r2, item_id: i2, output_index: 0, content_index: 0, delta: fixed}
        - expect_close: {code: 1000}
""",
        "oai-realtime",
    )
    expected = lines(
        {"type": "conversation.started", "session_id": "s-1", "version": "v2"},
        {"type": "realtime.item_added", "item": {"event_id": "e1", "response": {"id": "r1"}, "type": "response.created"}},
        {"type": "realtime.handoff_requested", "handoff_id": "c1", "item_id": "i1", "input_transcript": "fix it", "active_transcript": []},
        {"type": "realtime.output_transcript_delta", "delta": "fixed"},
        {"type": "conversation.closed", "reason": "requested"},
    )
    run = run_case(c, adapter=sdk)
    result = judge(run)
    assert result.outcome is Outcome.PASS, result.detail
    assert run.snapshot_text() == expected


@needs_sdk
def test_realtime_rejected_upgrade_reports_status_and_request_id(sdk):
    c = case(
        """
id: foundation.oai.realtime-401
title: the SDK raises InvalidStatus unwrapped; the driver reports status and request id
seed: auth-401-observability
requires: [realtime.v2]
client:
  config:
    realtime: {version: v2, api_key: sk-bad}
  steps:
    - realtime.start: {}
    - wait: {event: {type: realtime.error}}
server:
  exchanges:
    - websocket: {path: /v1/realtime}
      reject: {status: 401, headers: {x-request-id: req_1}, json: {error: {message: bad key}}}
""",
        "oai-401",
    )
    expected = lines({"type": "realtime.error", "http_status": 401, "request_id": "req_1",
                      "message": "failed to connect realtime websocket: HTTP 401 Unauthorized (x-request-id: req_1)",
                      "failure": "InvalidStatus"})
    run = run_case(c, adapter=sdk)
    result = judge(run)
    assert result.outcome is Outcome.PASS, result.detail
    assert run.snapshot_text() == expected


@needs_sdk
def test_responses_sse_tool_call_gets_a_follow_up_request(sdk):
    c = case(
        f"""
id: foundation.oai.sse-tool-call
title: a function call is answered with the scripted output in a second request
seed: foundation
requires: [responses.sse]
client:
  config:
    responses: {{model: gpt-test, api_key: sk-test}}
  steps:
    - responses.turn: {{input: hi, tool_outputs: {{shell: ok}}}}
server:
  exchanges:
    - http: {{method: POST, path: /v1/responses}}
      expect: {{headers: {{x-stainless-retry-count: "0"}}, body: {{model: gpt-test, stream: true}}}}
      respond:
        headers: {{openai-model: gpt-test}}
        sse:
          - event: {{type: response.output_item.done, sequence_number: 0, output_index: 0, item: {{type: function_call, id: fc_1, call_id: call_1, name: shell, arguments: "{{}}"}}}}
          - event: {{type: response.completed, sequence_number: 1, response: {RESPONSE}}}
    - http: {{method: POST, path: /v1/responses}}
      expect: {{body: {{input: [{{type: message}}, {{type: function_call, call_id: call_1}}, {{type: function_call_output, call_id: call_1, output: ok}}]}}}}
      respond:
        sse:
          - event: {{type: response.output_text.delta, sequence_number: 0, item_id: m1, output_index: 0, content_index: 0, delta: all good, logprobs: []}}
          - event: {{type: response.completed, sequence_number: 1, response: {RESPONSE}}}
""",
        "oai-sse",
    )
    run = run_case(c, adapter=sdk)
    result = judge(run)
    assert result.outcome is Outcome.PASS, result.detail
    events = [json.loads(line) for line in run.snapshot_text().splitlines()]
    assert [e["type"] for e in events] == [
        "turn.started", "responses.server_model", "responses.output_item_done", "turn.tool_call",
        "responses.completed", "responses.output_text_delta", "responses.completed", "turn.completed",
    ]
    assert events[3] == {"type": "turn.tool_call", "call_id": "call_1", "name": "shell", "arguments": "{}"}
    assert events[-1] == {"type": "turn.completed", "status": "completed"}


@needs_sdk
def test_responses_sse_status_error_and_sdk_quirks(sdk):
    c = case(
        """
id: foundation.oai.sse-quirks
title: an HTTP 400 is an error with status and request id; a stream without completed still ends the turn
seed: foundation
requires: [responses.sse]
client:
  config:
    responses: {model: gpt-test, api_key: sk-test}
  steps:
    - responses.turn: {input: one}
    - responses.turn: {input: two}
server:
  exchanges:
    - http: {method: POST, path: /v1/responses}
      respond: {status: 400, headers: {x-request-id: req_400}, json: {error: {message: bad request, type: invalid_request_error, code: bad_thing}}}
    - http: {method: POST, path: /v1/responses}
      respond:
        sse:
          - event: {type: response.output_text.delta, sequence_number: 0, item_id: m1, output_index: 0, content_index: 0, delta: half, logprobs: []}
""",
        "oai-quirks",
    )
    expected = lines(
        {"type": "turn.started", "turn_id": "<uuid-1>"},
        {"type": "error", "message": "Error code: 400 - bad request", "code": "bad_thing", "http_status": 400, "request_id": "req_400",
         "failure": "BadRequestError"},
        {"type": "turn.completed", "status": "failed"},
        {"type": "turn.started", "turn_id": "<uuid-2>"},
        {"type": "responses.output_text_delta", "delta": "half"},
        {"type": "turn.completed", "status": "completed"},
    )
    run = run_case(c, adapter=sdk)
    result = judge(run)
    assert result.outcome is Outcome.PASS, result.detail
    assert run.snapshot_text() == expected


@needs_sdk
def test_responses_websocket_turn_over_connect(sdk):
    c = case(
        f"""
id: foundation.oai.ws
title: responses.connect() carries response.create and the stream events
seed: foundation
requires: [responses.ws]
client:
  config:
    responses: {{model: gpt-test, api_key: sk-test, transport: websocket}}
  steps:
    - responses.turn: {{input: hi}}
server:
  exchanges:
    - websocket: {{path: /v1/responses}}
      expect: {{headers: {{authorization: Bearer sk-test, openai-beta: {{$absent: true}}}}}}
      script:
        - expect: {{type: response.create, model: gpt-test, input: [{{type: message, role: user}}]}}
        - send: {{type: response.created, sequence_number: 0, response: {RESPONSE}}}
        - send: {{type: response.completed, sequence_number: 1, response: {RESPONSE}}}
""",
        "oai-ws",
    )
    expected = lines(
        {"type": "turn.started", "turn_id": "<uuid-1>"},
        {"type": "responses.created", "response_id": "resp_1"},
        {"type": "responses.completed", "response_id": "resp_1"},
        {"type": "turn.completed", "status": "completed"},
    )
    run = run_case(c, adapter=sdk)
    result = judge(run)
    assert result.outcome is Outcome.PASS, result.detail
    assert run.snapshot_text() == expected
