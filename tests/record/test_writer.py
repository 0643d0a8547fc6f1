"""The case writer, a pure function: hand-built recordings in, validated case text out.

No socket here: each test builds a ``Recording`` the way the proxy would and checks the
case it becomes (script, expectations, secrets, volatile values, inferred steps).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.case.loader import analyse_case_text
from harness.record.model import HttpRecord, Recording, WsClose, WsFrame, WsRecord
from harness.record.sse import SseSplitter
from harness.record.writer import (
    PLACEHOLDER_KEY,
    RecordError,
    case_from_recording,
    case_yaml,
    recorded_secrets,
)


CANARY = "sk-canary-7f3a9c1e5b2d4f60"
UUID = "5d22736f-7092-4dc2-b1a0-704fa484a49e"
RESPONSE = {"id": "resp_68c1f0a9b2d44c3e9f1a", "object": "response", "status": "completed", "output": [], "created_at": 1700000000}


def sse(*events: tuple[float, dict]) -> tuple:
    splitter = SseSplitter()
    blocks = []
    for t, event in events:
        blocks += splitter.feed(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode(), t)
    return tuple(blocks)


def sse_turn(*, t: float, body: dict, events: tuple, headers: tuple = ()) -> HttpRecord:
    return HttpRecord(
        t=t, method="POST", target="/v1/responses",
        headers=(("host", "127.0.0.1:1"), ("authorization", f"Bearer {CANARY}"), ("content-type", "application/json"),
                 ("user-agent", "AsyncOpenAI/Python 3.57.0"), ("x-stainless-retry-count", "0"), *headers),
        body=json.dumps(body).encode(), status=200,
        response_headers=(("content-type", "text/event-stream"), ("x-request-id", "req_1"), ("date", "Mon"), ("transfer-encoding", "chunked")),
        t_response=t + 0.01, sse=events,
    )


def load(case: dict, rec: Recording, tmp_path: Path):
    text = case_yaml(case, secrets=recorded_secrets(rec))
    file = tmp_path / case["id"].split(".")[0] / "recorded.yaml"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text)
    loaded, problems = analyse_case_text(text, file=file, cases_root=tmp_path)
    assert problems == [], "\n".join(map(str, problems))
    assert loaded is not None
    return text, loaded


def test_an_sse_turn_with_a_tool_call_becomes_a_valid_case(tmp_path):
    call = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "shell", "arguments": "{}"}
    first = sse_turn(t=0.1, body={"model": "gpt-test", "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "list files"}]}],
                                  "stream": True, "prompt_cache_key": UUID, "api_key": CANARY},
                     events=sse((0.12, {"type": "response.created", "response": RESPONSE}),
                                (0.30, {"type": "response.output_item.done", "item": call}),
                                (0.31, {"type": "response.completed", "response": RESPONSE})),
                     headers=(("session_id", UUID), ("originator", "codex_cli_rs")))
    second = sse_turn(t=0.5, body={"model": "gpt-test", "stream": True, "prompt_cache_key": UUID,
                                   "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "list files"}]}, call,
                                             {"type": "function_call_output", "call_id": "call_1", "output": "a.txt"}]},
                      events=sse((0.52, {"type": "response.completed", "response": RESPONSE})),
                      headers=(("session_id", UUID), ("originator", "codex_cli_rs")))
    rec = Recording(upstream="https://user:pw@api.example.test/v1?key=x", exchanges=(second, first), started_at="2026-01-02T03:04:05Z", duration=1.0)
    case = case_from_recording(rec, version="0.1.0")
    text, loaded = load(case, rec, tmp_path)

    assert case["id"] == "responses.recorded-20260102-030405"
    assert CANARY not in text and "pw" not in case["notes"] and "key=x" not in text
    assert case["client"] == {"config": {"responses": {"model": "gpt-test", "api_key": PLACEHOLDER_KEY}},
                              "steps": [{"responses.turn": {"input": "list files", "tool_outputs": {"call_1": "a.txt"}}}]}
    assert loaded.requires == {"responses.sse", "responses.tool_outputs"}
    ex = case["server"]["exchanges"]
    assert len(ex) == 2  # in the order the requests arrived
    headers = ex[0]["expect"]["headers"]
    assert headers["authorization"] == {"$regex": "^Bearer .+"}
    assert "host" not in headers and "user-agent" not in headers and "x-stainless-retry-count" not in headers
    assert "session_id" not in headers and "originator" not in headers  # Codex-only: the codex layer
    body = ex[0]["expect"]["body"]
    assert body["api_key"] == {"$any": "string"}
    assert body["prompt_cache_key"]["$regex"].startswith("^[0-9a-fA-F]{8}")
    assert list(body["input"]) == ["$contains"]
    respond = ex[0]["respond"]
    assert respond["headers"] == {"content-type": "text/event-stream", "x-request-id": "req_1"}
    assert [next(iter(s)) for s in respond["sse"]] == ["sleep", "event", "sleep", "event", "sleep", "event"]
    assert respond["sse"][2] == {"sleep": 0.18}  # the upstream's pacing
    (check,) = case["expect"]["wire"]
    assert check["layer"] == "codex" and check["count"] == 2
    assert check["items"][0]["headers"]["originator"] == "codex_cli_rs"
    assert check["items"][0]["headers"]["session_id"]["$regex"].startswith("^[0-9a-fA-F]")
    assert case["expect"]["snapshot"] is False


def test_a_retried_request_is_one_turn(tmp_path):
    body = {"model": "m", "input": "hi", "prompt_cache_key": UUID}
    events = sse((0.2, {"type": "response.completed", "response": RESPONSE}))
    failed = HttpRecord(t=0.0, method="POST", target="/v1/responses", headers=(), body=json.dumps(body).encode(), status=500,
                        response_headers=(("content-type", "application/json"),), t_response=0.01, response_body=b'{"error": {"message": "boom"}}')
    rec = Recording(upstream="http://127.0.0.1:9", exchanges=(failed, sse_turn(t=0.1, body=body, events=events)))
    case = case_from_recording(rec)
    load(case, rec, tmp_path)
    assert case["client"]["steps"] == [{"responses.turn": {"input": "hi"}}]
    # A string input is one user message to the API: the item form of it matches too.
    assert case["server"]["exchanges"][1]["expect"]["body"]["input"] == {"$any_of": ["hi", {"$contains": [{"role": "user", "content": [{"text": "hi"}]}]}]}
    assert case["server"]["exchanges"][0]["respond"] == {"status": 500, "headers": {"content-type": "application/json"}, "json": {"error": {"message": "boom"}}}


def test_a_body_that_broke_off_and_an_unusual_block(tmp_path):
    splitter = SseSplitter()
    blocks = splitter.feed(b'id: 3\ndata: {"type":"x"}\n\n: ping\n\ndata: not json\n\n', 0.1)
    blocks += splitter.feed(b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"a"', 0.2)
    rec = Recording(upstream="http://127.0.0.1:9", exchanges=(HttpRecord(
        t=0.0, method="POST", target="/v1/responses", headers=(), body=b'{"input": "x"}', status=200,
        response_headers=(("content-type", "text/event-stream"),), t_response=0.0, sse=tuple(blocks), rest=splitter.rest(),
        end="drop", error="RemoteProtocolError: peer closed"),))
    case = case_from_recording(rec)
    load(case, rec, tmp_path)
    respond = case["server"]["exchanges"][0]["respond"]
    assert respond["end"] == "drop"
    assert respond["sse"][1] == {"raw": 'id: 3\ndata: {"type":"x"}\n\n'}
    assert respond["sse"][2:] == [{"comment": "ping"}, {"data": "not json"}, {"raw": 'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"a"'}]
    assert "broke off" in case["notes"]


def test_a_websocket_conversation_with_a_server_close(tmp_path):
    create = {"type": "response.create", "model": "gpt-test", "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hey"}]}]}
    frames = (
        WsFrame(0.10, "client", "text", json.dumps(create).encode()),
        WsFrame(0.15, "server", "text", json.dumps({"type": "response.created", "response": RESPONSE}).encode()),
        WsFrame(0.151, "server", "text", b"not json"),
        WsFrame(0.152, "server", "binary", b"\x00\x01"),
        WsFrame(0.16, "client", "binary", b"\x02"),
        WsFrame(0.20, "server", "text", json.dumps({"type": "response.completed", "response": RESPONSE}).encode()),
    )
    ws = WsRecord(t=0.05, target="/v1/responses?x=1", headers=(("authorization", f"Bearer {CANARY}"), ("openai-beta", "responses_websockets=2026-02-06")),
                  status=101, response_headers=(("upgrade", "websocket"), ("openai-model", "gpt-test"), ("set-cookie", "s=1")),
                  frames=frames, close=WsClose(0.3, "server", 1011, "bye"))
    rec = Recording(upstream="ws://127.0.0.1:9", exchanges=(ws,))
    case = case_from_recording(rec)
    text, _ = load(case, rec, tmp_path)
    assert CANARY not in text
    assert case["client"]["config"]["responses"]["transport"] == "websocket"
    assert case["client"]["steps"] == [{"responses.turn": {"input": "hey"}}]
    (ex,) = case["server"]["exchanges"]
    assert ex["websocket"] == {"path": "/v1/responses"} and ex["expect"]["query"] == {"x": "1"}
    assert ex["expect"]["headers"]["openai-beta"] == "responses_websockets=2026-02-06"
    assert ex["accept"] == {"headers": {"openai-model": "gpt-test"}}  # set-cookie and upgrade dropped
    assert ex["extra_messages"] == "allow"  # the client's binary frame is tolerated, not asserted
    ops = [next(iter(step)) for step in ex["script"]]
    assert ops == ["expect", "sleep", "send", "send_text", "send_binary", "sleep", "send", "sleep", "close"]
    assert ex["script"][-1] == {"close": {"code": 1011, "reason": "bye"}}


def test_a_refused_upgrade_and_a_dropped_socket(tmp_path):
    refused = WsRecord(t=0.0, target="/v1/realtime", headers=(), status=401, response_headers=(("content-type", "application/json"), ("x-request-id", "req_9")),
                       response_body=b'{"error": {"message": "Incorrect API key provided: ' + CANARY.encode() + b'"}}')
    session = {"type": "session.update", "session": {"type": "realtime", "instructions": "be brief"}}
    text_item = {"type": "conversation.item.create", "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}}
    dropped = WsRecord(t=1.0, target="/v1/realtime?model=gpt-realtime", headers=(("x-session-id", "thread-1"),), status=101, response_headers=(),
                       frames=(WsFrame(1.01, "client", "text", json.dumps(session).encode()),
                               WsFrame(1.2, "client", "text", json.dumps(text_item).encode()),
                               WsFrame(1.21, "client", "text", b'{"type": "response.create"}'),
                               WsFrame(1.3, "server", "text", b'{"type": "response.done"}')),
                       close=WsClose(1.5, "server", None))
    rec = Recording(upstream="http://127.0.0.1:9", exchanges=(refused, dropped))
    case = case_from_recording(rec)
    text, _ = load(case, rec, tmp_path)
    assert CANARY not in text  # the key the upstream echoed is redacted in its error text
    first, second = case["server"]["exchanges"]
    assert first["reject"]["status"] == 401 and "sk-…" in first["reject"]["json"]["error"]["message"]
    assert second["script"][-1] == {"drop": None}
    assert case["client"]["config"]["realtime"] == {"api_key": PLACEHOLDER_KEY, "model": "gpt-realtime", "version": "v2"}
    steps = case["client"]["steps"]
    assert steps[0] == {"realtime.start": {}} and steps[1] == {"realtime.start": {"prompt": "be brief", "session_id": "thread-1"}}
    assert steps[2:] == [{"sleep": 0.2}, {"realtime.text": {"text": "hi"}}, {"sleep": 0.3}, {"realtime.close": {}}]


def test_a_json_schema_in_a_tool_is_not_read_as_a_matcher(tmp_path):
    body = {"input": "x", "tools": [{"type": "function", "name": "f", "parameters": {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}}]}
    rec = Recording(upstream="http://127.0.0.1:9", exchanges=(sse_turn(t=0.0, body=body, events=sse((0.1, {"type": "response.completed", "response": RESPONSE}))),))
    case = case_from_recording(rec)
    load(case, rec, tmp_path)
    assert case["server"]["exchanges"][0]["expect"]["body"]["tools"][0]["parameters"] == {"$any": "object"}
    assert case["client"]["config"]["responses"]["tools"] == body["tools"]
    assert "responses.request_options" in case["requires"]


def test_the_writer_refuses_to_leak_a_recorded_credential():
    rec = Recording(upstream="http://127.0.0.1:9", exchanges=(sse_turn(t=0.0, body={"input": "x"}, events=()),))
    case = case_from_recording(rec)
    case["notes"] += f"oops {CANARY}\n"
    with pytest.raises(RecordError, match="credential"):
        case_yaml(case, secrets=recorded_secrets(rec))


def test_nothing_recorded_is_an_error():
    with pytest.raises(RecordError, match="nothing was recorded"):
        case_from_recording(Recording(upstream="http://127.0.0.1:9", exchanges=()))
