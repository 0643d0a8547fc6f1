"""ResponsesClient over HTTP/SSE against a loopback server: exact requests and events."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from resp_fakes import (
    FakeHttpServer,
    Recorder,
    Reply,
    completed,
    created,
    failed,
    function_call,
    message,
    sse,
)

from harness.client.responses import ResponsesClient
from harness.client.responses.events import REROUTE_WARNING


USAGE = {"input_tokens": 11, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 7,
         "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 18}  # fmt: skip
TOKENS = {"input_tokens": 11, "cached_input_tokens": 0, "output_tokens": 7,
          "reasoning_output_tokens": 0, "total_tokens": 18}  # fmt: skip
EMPTY_LIMITS = {"type": "responses.rate_limits", "snapshot": {
    "limit_id": "codex", "limit_name": None, "primary": None, "secondary": None,
    "credits": None, "plan_type": None}}  # fmt: skip
FAST = {"api_key": "sk-test", "retry_base_delay_ms": 1, "stream_idle_timeout_ms": 5000}


def run(test: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(30):
            await test()

    asyncio.run(bounded())


async def drive(
    server: FakeHttpServer, config: dict[str, Any], steps: list[tuple[str, dict[str, Any]]]
) -> Recorder:
    rec = Recorder()
    client = ResponsesClient(base_url=server.base_url, config={**FAST, **config}, emit=rec)
    try:
        for op, args in steps:
            async with asyncio.timeout(15):
                await client.handle(op, args)
    finally:
        await client.aclose()
    return rec


def turn(text: str = "hi", **extra: Any) -> tuple[str, dict[str, Any]]:
    return ("responses.turn", {"input": text, **extra})


def ok(*events: dict[str, Any], headers: list[tuple[str, str]] | None = None) -> Reply:
    return Reply(headers=headers or [], chunks=[sse(*events)])


def user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def test_simple_turn_exact_request_and_events() -> None:
    async def body() -> None:
        reply = ok(created("resp_1"), {"type": "response.output_text.delta", "delta": "hi "},
                   message("msg_1", "hi there"), completed("resp_1", USAGE))  # fmt: skip
        async with FakeHttpServer([reply]) as server:
            rec = await drive(server, {"model": "gpt-test-model", "conversation_id": "conv-1"},
                              [turn("say hi")])  # fmt: skip
        (req,) = server.requests
        assert (req.method, req.path) == ("POST", "/v1/responses")
        headers = req.headers
        assert headers["authorization"] == "Bearer sk-test"
        assert headers["originator"] == "codex_cli_rs"
        assert headers["session_id"] == "conv-1"
        assert headers["accept"] == "text/event-stream"
        assert headers["content-type"] == "application/json"
        assert "x-codex-turn-state" not in headers
        turn_id = rec.of("turn.started")[0]["turn_id"]
        assert json.loads(headers["x-codex-turn-metadata"]) == {"turn_id": turn_id}
        assert req.json() == {
            "model": "gpt-test-model", "input": [user("say hi")], "tools": [],
            "tool_choice": "auto", "parallel_tool_calls": True, "reasoning": None,
            "store": False, "stream": True, "include": [], "prompt_cache_key": "conv-1",
        }  # fmt: skip
        item = message("msg_1", "hi there")["item"]
        assert [e for e in rec.events if not e["type"].startswith("telemetry.")] == [
            {"type": "turn.started", "turn_id": turn_id},
            EMPTY_LIMITS,
            {"type": "responses.created", "response_id": "resp_1"},
            {"type": "responses.output_text_delta", "delta": "hi "},
            {"type": "responses.output_item_done", "item": item},
            {"type": "responses.completed", "response_id": "resp_1", "token_usage": TOKENS},
            {"type": "turn.token_count", "total_token_usage": TOKENS, "last_token_usage": TOKENS},
            {"type": "turn.completed", "status": "completed", "token_usage": TOKENS},
        ]
        (request_event,) = rec.of("telemetry.request")
        assert {k: v for k, v in request_event.items() if k != "duration_ms"} == {
            "type": "telemetry.request", "transport": "http", "attempt": 1, "status": 200,
        }  # fmt: skip
        assert request_event["duration_ms"] >= 0
        assert rec.of("telemetry.events") == [{
            "type": "telemetry.events", "transport": "http",
            "counts": {"response.completed": 1, "response.created": 1,
                       "response.output_item.done": 1, "response.output_text.delta": 1},
        }]  # fmt: skip

    run(body)


def test_tool_calls_echo_items_and_sticky_turn_state_resets_next_turn() -> None:
    async def body() -> None:
        replies = [
            ok(created("r1"), function_call("c1", "exec_command", '{"cmd":"echo hi"}'),
               completed("r1", USAGE), headers=[("x-codex-turn-state", "ts-1")]),
            ok(function_call("c2", "exec_command", "{}"), completed("r2", USAGE),
               headers=[("x-codex-turn-state", "ts-2")]),
            ok(message("m3", "done", phase="final_answer"), completed("r3")),
            ok(message("m4", "again"), completed("r4")),
        ]  # fmt: skip
        async with FakeHttpServer(replies) as server:
            outputs = {"c1": "hi\n", "exec_command": "generic"}
            rec = await drive(server, {}, [turn("run it", tool_outputs=outputs), turn("more")])
        r1, r2, r3, r4 = (r for r in server.requests)
        assert "x-codex-turn-state" not in r1.headers
        assert r2.headers["x-codex-turn-state"] == "ts-1"
        assert r3.headers["x-codex-turn-state"] == "ts-1"  # first value wins
        assert "x-codex-turn-state" not in r4.headers  # reset next turn
        ids = [json.loads(r.headers["x-codex-turn-metadata"])["turn_id"] for r in (r1, r2, r3, r4)]
        assert ids[0] == ids[1] == ids[2] != ids[3]
        call1 = function_call("c1", "exec_command", '{"cmd":"echo hi"}')["item"]
        call2 = function_call("c2", "exec_command", "{}")["item"]
        out1 = {"type": "function_call_output", "call_id": "c1", "output": "hi\n"}
        out2 = {"type": "function_call_output", "call_id": "c2", "output": "generic"}
        assert r2.json()["input"] == [user("run it"), call1, out1]
        assert r3.json()["input"] == [user("run it"), call1, out1, call2, out2]
        final = message("m3", "done", phase="final_answer")["item"]
        assert r4.json()["input"] == [user("run it"), call1, out1, call2, out2, final, user("more")]
        assert list(rec.of("turn.tool_call")) == [
            {"type": "turn.tool_call", "call_id": "c1", "name": "exec_command",
             "arguments": '{"cmd":"echo hi"}'},
            {"type": "turn.tool_call", "call_id": "c2", "name": "exec_command", "arguments": "{}"},
        ]  # fmt: skip
        done = rec.of("turn.completed")
        assert done[0]["token_usage"]["total_tokens"] == 36 and "token_usage" not in done[1]
        assert rec.of("responses.output_item_done")[2]["item"]["phase"] == "final_answer"

    run(body)


def test_transport_retries_5xx_silently_with_backoff() -> None:
    async def body() -> None:
        replies = [Reply(status=500, chunks=[b"{}"]), Reply(status=502, chunks=[b"{}"]),
                   ok(completed("r1"))]  # fmt: skip
        async with FakeHttpServer(replies) as server:
            rec = await drive(server, {}, [turn()])
        assert len(server.posts()) == 3
        assert [r.json() for r in server.posts()].count(server.posts()[0].json()) == 3
        assert rec.of("turn.stream_error") == [] and rec.of("error") == []
        assert [(e["attempt"], e["status"], e.get("error")) for e in rec.of("telemetry.request")] == [
            (1, 500, "http 500"), (2, 502, "http 502"), (3, 200, None)
        ]  # fmt: skip

    run(body)


def test_network_drop_is_retried_at_transport_level() -> None:
    async def body() -> None:
        async with FakeHttpServer([Reply(drop=True), ok(completed("r1"))]) as server:
            rec = await drive(server, {}, [turn()])
        assert len(server.posts()) == 2
        assert rec.of("turn.completed")[0]["status"] == "completed"
        assert rec.of("turn.stream_error") == []

    run(body)


def test_401_is_not_transport_retried_and_reports_reference_text() -> None:
    async def body() -> None:
        reply = Reply(
            status=401,
            headers=[("x-request-id", "req_abc123"), ("cf-ray", "8f-SJC")],
            chunks=[json.dumps({"error": {"message": "Incorrect API key."}}).encode()],
        )
        async with FakeHttpServer([reply, reply]) as server:
            rec = await drive(server, {"request_max_retries": 4, "stream_max_retries": 1},
                              [turn()])  # fmt: skip
        url = server.base_url + "/responses"
        text = (f"unexpected status 401 Unauthorized: Incorrect API key., url: {url}, "
                "cf-ray: 8f-SJC, request id: req_abc123")  # fmt: skip
        assert len(server.posts()) == 2  # 1 + 1 stream retry, no transport retry
        assert rec.types() == ["turn.started", "turn.retry_scheduled", "turn.stream_error", "error",
                               "turn.completed"]  # fmt: skip
        assert rec.of("turn.stream_error") == [
            {"type": "turn.stream_error", "message": "Reconnecting... 1/1", "details": text}
        ]
        assert rec.of("error") == [
            {"type": "error", "message": text, "code": "other", "http_status": 401,
             "request_id": "req_abc123"}
        ]  # fmt: skip
        assert rec.of("turn.completed")[0]["status"] == "failed"

    run(body)


def test_usage_limit_429_reports_rate_limits_then_error_without_retry() -> None:
    async def body() -> None:
        reply = Reply(status=429, headers=[("x-codex-primary-used-percent", "100"),
                                           ("x-codex-primary-window-minutes", "300")],
                      chunks=[json.dumps({"error": {"type": "usage_limit_reached",
                                                    "plan_type": "plus"}}).encode()])  # fmt: skip
        async with FakeHttpServer([reply]) as server:
            rec = await drive(server, {}, [turn()])
        assert len(server.posts()) == 1
        assert rec.types() == ["turn.started", "responses.rate_limits", "error", "turn.completed"]
        assert rec.of("responses.rate_limits")[0]["snapshot"]["primary"] == {
            "used_percent": 100.0, "window_minutes": 300, "resets_at": None
        }  # fmt: skip
        assert rec.of("error")[0] == {
            "type": "error", "code": "usage_limit_exceeded", "http_status": 429,
            "message": "You've hit your usage limit. Upgrade to Pro (https://chatgpt.com/explore/"
            "pro), visit https://chatgpt.com/codex/settings/usage to purchase more credits or "
            "try again later.",
        }  # fmt: skip

    run(body)


def test_stream_closed_before_completed_retries_with_partial_items_kept() -> None:
    async def body() -> None:
        replies = [ok(created("r1"), message("m1", "partial")), ok(completed("r2"))]
        async with FakeHttpServer(replies) as server:
            rec = await drive(server, {}, [turn("go")])
        first, second = server.posts()
        partial = message("m1", "partial")["item"]
        assert first.json()["input"] == [user("go")]
        assert second.json()["input"] == [user("go"), partial]  # codex-cli §4d
        assert rec.of("turn.stream_error") == [{
            "type": "turn.stream_error", "message": "Reconnecting... 1/5",
            "details": "stream disconnected before completion: stream closed before "
            "response.completed",
        }]  # fmt: skip
        assert rec.of("turn.completed")[0]["status"] == "completed"

    run(body)


def test_idle_timeout_is_reported_within_bound() -> None:
    async def body() -> None:
        async with FakeHttpServer([Reply(chunks=[sse(created("r1"))], hang=True)]) as server:
            started = time.monotonic()
            rec = await drive(server, {"stream_idle_timeout_ms": 200, "stream_max_retries": 0},
                              [turn()])  # fmt: skip
            elapsed = time.monotonic() - started
        assert elapsed < 3
        assert rec.of("error") == [{
            "type": "error", "code": "response_stream_disconnected",
            "message": "stream disconnected before completion: idle timeout waiting for SSE",
        }]  # fmt: skip

    run(body)


def test_failed_event_retry_after_and_fatal_codes() -> None:
    async def body() -> None:
        replies = [
            ok(created("r1"), failed("rate_limit_exceeded", "Please try again in 5ms.")),
            ok(completed("r2")),
            ok(failed("context_length_exceeded", "too long")),
        ]
        async with FakeHttpServer(replies) as server:
            rec = await drive(server, {}, [turn("a"), turn("b")])
        assert len(server.posts()) == 3
        assert rec.of("turn.stream_error") == [{
            "type": "turn.stream_error", "message": "Reconnecting... 1/5",
            "details": "stream disconnected before completion: Please try again in 5ms.",
        }]  # fmt: skip
        assert rec.of("error") == [{
            "type": "error", "code": "context_window_exceeded",
            "message": "Codex ran out of room in the model's context window. Start a new thread "
            "or clear earlier history before retrying.",
        }]  # fmt: skip
        assert [e["status"] for e in rec.of("turn.completed")] == ["completed", "failed"]

    run(body)


def test_reroute_warned_once_per_turn_and_recorded_in_history() -> None:
    async def body() -> None:
        rerouted = [("OpenAI-Model", "gpt-5.2")]
        replies = [
            ok(function_call("c1", "shell", "{}"), completed("r1"), headers=rerouted),
            ok(completed("r2"), headers=rerouted),
            ok(completed("r3"), headers=[("openai-model", "GPT-5.3-CODEX")]),
            ok(completed("r4"), headers=rerouted),
        ]
        async with FakeHttpServer(replies) as server:
            rec = await drive(server, {"model": "gpt-5.3-codex"},
                              [turn("a"), turn("b"), turn("c")])  # fmt: skip
        reroute = {"type": "turn.model_reroute", "from_model": "gpt-5.3-codex",
                   "to_model": "gpt-5.2", "reason": "high_risk_cyber_activity"}  # fmt: skip
        assert rec.of("turn.model_reroute") == [reroute, reroute]  # turns 1 and 3
        assert rec.of("warning") == [{"type": "warning", "message": REROUTE_WARNING}] * 2
        types = rec.types()
        first = types.index("turn.model_reroute")
        assert types[first - 1 : first + 2] == [
            "responses.server_model", "turn.model_reroute", "warning"
        ]  # fmt: skip
        assert [e["model"] for e in rec.of("responses.server_model")] == [
            "gpt-5.2", "gpt-5.2", "GPT-5.3-CODEX", "gpt-5.2"
        ]  # fmt: skip
        second_input = server.posts()[1].json()["input"]
        assert second_input[1] == user(f"Warning: {REROUTE_WARNING}")

    run(body)


def test_reroute_from_payload_headers_mid_stream_not_from_response_model() -> None:
    async def body() -> None:
        by_model = [created("r1", model="gpt-5.2"), completed("r1")]
        by_headers = [created("r1", headers={"openai-model": "gpt-5.2"}), completed("r1")]
        replies = [ok(*by_model), ok(*by_model), ok(*by_headers), ok(*by_headers)]
        async with FakeHttpServer(replies) as server:
            early_model = await drive(server, {"model": "gpt-5.3-codex"}, [turn()])
            later_model = await drive(server, {"model": "gpt-5.3-codex", "profile": "later"},
                                      [turn()])  # fmt: skip
            early = await drive(server, {"model": "gpt-5.3-codex"}, [turn()])
            later = await drive(server, {"model": "gpt-5.3-codex", "profile": "later"}, [turn()])
        for rec in (early_model, later_model):
            assert rec.of("turn.model_reroute") == [] and rec.of("responses.server_model") == []
        for rec in (early, later):
            assert rec.types()[:5] == ["turn.started", "responses.rate_limits",
                                       "responses.server_model", "turn.model_reroute", "warning"]  # fmt: skip
        assert "session-id" in server.posts()[1].headers
        assert "session_id" not in server.posts()[1].headers

    run(body)


def test_view_image_detail_original_only_when_gated() -> None:
    async def body() -> None:
        image = "data:image/png;base64,AAAA"
        call = function_call("v1", "view_image", '{"path":"a.png"}')
        replies = [ok(call, completed("r1")), ok(completed("r2"))] * 2
        async with FakeHttpServer(replies) as server:
            step = turn("look", tool_outputs={"view_image": image})
            await drive(
                server,
                {"model": "gpt-5.3-codex", "features": {"view_image_original_resolution": True}},
                [step],
            )
            await drive(
                server,
                {"model": "gpt-5.2-codex", "features": {"view_image_original_resolution": True}},
                [step],
            )
        gated, plain = server.posts()[1].json()["input"][-1], server.posts()[3].json()["input"][-1]
        assert gated == {"type": "function_call_output", "call_id": "v1", "output": [
            {"type": "input_image", "image_url": image, "detail": "original"}]}  # fmt: skip
        assert plain["output"] == [{"type": "input_image", "image_url": image}]

    run(body)


def test_malformed_and_unknown_events_are_skipped_and_headers_reported() -> None:
    async def body() -> None:
        raw = (b"data: {not json\n\n" + sse({"type": "response.some_future_event", "x": 1})
               + b"data: " + json.dumps(completed("r1")).encode() + b"\r\n\r\n")  # fmt: skip
        headers = [("X-Models-Etag", "etag-1"), ("x-reasoning-included", "true"),
                   ("x-codex-primary-used-percent", "42.5")]  # fmt: skip
        async with FakeHttpServer([Reply(headers=headers, chunks=[raw])]) as server:
            rec = await drive(server, {"query_params": {"scenario": "s1"},
                                       "headers": {"X-Test-Run": "abc"}}, [turn()])  # fmt: skip
        assert server.posts()[0].path == "/v1/responses?scenario=s1"
        assert server.posts()[0].headers["x-test-run"] == "abc"
        assert rec.types() == ["turn.started", "responses.rate_limits", "responses.models_etag",
                               "responses.server_reasoning_included", "responses.completed",
                               "turn.completed"]  # fmt: skip
        assert rec.of("responses.models_etag") == [{"type": "responses.models_etag",
                                                    "etag": "etag-1"}]  # fmt: skip
        assert rec.of("responses.rate_limits")[0]["snapshot"]["primary"]["used_percent"] == 42.5

    run(body)


def test_turn_state_echoed_on_stream_retries() -> None:
    async def body() -> None:
        replies = [
            ok(created("r1"), headers=[("x-codex-turn-state", "ts-A")]),  # truncated
            Reply(status=503, chunks=[b"{}"]),  # transport retry within the second attempt
            ok(completed("r2"), headers=[("x-codex-turn-state", "ts-B")]),
        ]
        async with FakeHttpServer(replies) as server:
            rec = await drive(server, {}, [turn()])
        first, second, third = server.posts()
        assert "x-codex-turn-state" not in first.headers
        assert second.headers["x-codex-turn-state"] == "ts-A"
        assert third.headers["x-codex-turn-state"] == "ts-A"
        assert [e["message"] for e in rec.of("turn.stream_error")] == ["Reconnecting... 1/5"]

    run(body)


def test_failed_turn_answers_dangling_calls_with_aborted() -> None:
    async def body() -> None:
        replies = [ok(function_call("c1", "shell", "{}")), ok(completed("r2"))]
        async with FakeHttpServer(replies) as server:
            rec = await drive(server, {"stream_max_retries": 0}, [turn("a"), turn("b")])
        call = function_call("c1", "shell", "{}")["item"]
        aborted = {"type": "function_call_output", "call_id": "c1", "output": "aborted"}
        assert server.posts()[1].json()["input"] == [user("a"), call, aborted, user("b")]
        assert [e["status"] for e in rec.of("turn.completed")] == ["failed", "completed"]

    run(body)
