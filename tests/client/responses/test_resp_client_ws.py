"""ResponsesClient over websocket: handshake, chaining, reuse, prewarm, error path, fallback."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from resp_fakes import (
    Conn,
    FakeHttpServer,
    FakeWsServer,
    RawWsServer,
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
from harness.client.responses.profile import PRESETS


WS = {"api_key": "sk-test", "transport": "websocket", "retry_base_delay_ms": 1,
      "stream_idle_timeout_ms": 5000, "conversation_id": "conv-1"}  # fmt: skip


def run(test: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(30):
            await test()

    asyncio.run(bounded())


async def drive(
    base_url: str, config: dict[str, Any], steps: list[tuple[str, dict[str, Any]]]
) -> Recorder:
    rec = Recorder()
    client = ResponsesClient(base_url=base_url, config={**WS, **config}, emit=rec)
    try:
        for op, args in steps:
            if op == "sleep":  # let a server-side close arrive before the next step
                await asyncio.sleep(args["s"])
                continue
            async with asyncio.timeout(15):
                await client.handle(op, args)
    finally:
        await client.aclose()
    return rec


def turn(text: str = "hi", **extra: Any) -> tuple[str, dict[str, Any]]:
    return ("responses.turn", {"input": text, **extra})


def user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


CALL = function_call("c1", "shell", '{"cmd":"ls"}')
OUT = {"type": "function_call_output", "call_id": "c1", "output": "listing"}
TOOLS = {"tool_outputs": {"c1": "listing"}}


def test_handshake_frame_and_handshake_header_events() -> None:
    async def body() -> None:
        rate = {"type": "codex.rate_limits", "plan_type": "plus",
                "rate_limits": {"primary": {"used_percent": 42, "window_minutes": 60,
                                            "reset_at": 1700000000}, "secondary": None},
                "credits": None, "metered_limit_name": "codex"}  # fmt: skip
        conn = Conn(batches=[[created("r1"), rate, message("m1", "hello"), completed("r1")]],
                    response_headers=[("openai-model", "gpt-test-model"), ("x-models-etag", "e1"),
                                      ("x-reasoning-included", "true")])  # fmt: skip
        async with FakeWsServer([conn]) as server:
            rec = await drive(server.base_url, {"model": "gpt-test-model"}, [turn("hello")])
        (handshake,) = server.handshakes
        assert handshake["openai-beta"] == "responses_websockets=2026-02-06"
        assert handshake["authorization"] == "Bearer sk-test"
        assert handshake["session_id"] == "conv-1"
        assert handshake["originator"] == "codex_cli_rs"
        assert handshake["user-agent"].startswith("codex_cli_rs/")
        turn_id = rec.of("turn.started")[0]["turn_id"]
        metadata = json.dumps({"turn_id": turn_id}, separators=(",", ":"))
        assert handshake["x-codex-turn-metadata"] == metadata
        assert handshake["sec-websocket-extensions"].startswith("permessage-deflate")  # as codex
        assert server.frames() == [{
            "type": "response.create", "model": "gpt-test-model", "input": [user("hello")],
            "tools": [], "tool_choice": "auto", "parallel_tool_calls": True, "reasoning": None,
            "store": False, "stream": True, "include": [], "prompt_cache_key": "conv-1",
            "client_metadata": {"x-codex-turn-metadata": metadata},
        }]  # fmt: skip
        assert rec.types() == [
            "turn.started", "responses.server_model", "responses.models_etag",
            "responses.server_reasoning_included", "responses.created", "responses.rate_limits",
            "responses.output_item_done", "responses.completed", "turn.completed",
        ]  # fmt: skip
        assert rec.of("responses.rate_limits")[0]["snapshot"] == {
            "limit_id": "codex", "limit_name": None,
            "primary": {"used_percent": 42.0, "window_minutes": 60, "resets_at": 1700000000},
            "secondary": None, "credits": None, "plan_type": "plus",
        }  # fmt: skip
        assert rec.of("turn.model_reroute") == []
        connect = rec.of("telemetry.ws_connect")
        assert [(e["success"], e["status"]) for e in connect] == [(True, 101)]
        assert rec.of("telemetry.request")[0]["transport"] == "websocket"

    run(body)


def test_v2_tool_follow_up_uses_previous_response_id_on_same_socket() -> None:
    async def body() -> None:
        conn = Conn(batches=[[created("r1"), CALL, completed("r1")], [completed("r2")]])
        async with FakeWsServer([conn]) as server:
            await drive(server.base_url, {}, [turn("list", **TOOLS)])
        assert len(server.handshakes) == 1
        first, second = server.frames()
        assert "previous_response_id" not in first
        assert second["type"] == "response.create"
        assert second["previous_response_id"] == "r1"
        assert second["input"] == [OUT]

    run(body)


def test_v1_follow_up_is_response_append_with_client_metadata() -> None:
    async def body() -> None:
        conn = Conn(batches=[[CALL, completed("r1")], [completed("r2")]])
        async with FakeWsServer([conn]) as server:
            await drive(server.base_url, {"ws_version": "v1"}, [turn("list", **TOOLS)])
        assert server.handshakes[0]["openai-beta"] == "responses_websockets=2026-02-04"
        first, second = server.frames()
        assert second == {"type": "response.append", "input": [OUT],
                          "client_metadata": first["client_metadata"]}  # fmt: skip

    run(body)


def test_socket_reused_across_turns_and_sessions_chaining_per_profile() -> None:
    async def body() -> None:
        def script() -> list[Conn]:
            batches = [[message("m1", "one"), completed("r1")], [completed("r2")],
                       [completed("r3")]]  # fmt: skip
            return [Conn(batches=batches, close_after=False)]

        steps = [turn("a"), turn("b"), ("responses.new_session", {}), turn("c")]
        async with FakeWsServer(script()) as early:
            await drive(early.base_url, {}, steps)
        async with FakeWsServer(script()) as later:
            await drive(later.base_url, {"profile": "later"}, steps)
        assert len(early.handshakes) == len(later.handshakes) == 1
        m1 = message("m1", "one")["item"]
        _e1, e2, e3 = early.frames()
        assert "previous_response_id" not in e2 and e2["input"] == [user("a"), m1, user("b")]
        assert "previous_response_id" not in e3
        l1, l2, l3 = later.frames()
        assert l2["previous_response_id"] == "r1" and l2["input"] == [user("b")]
        assert l3["previous_response_id"] == "r2" and l3["input"] == [user("c")]
        assert l1["client_metadata"]["x-codex-turn-state"] == ""
        assert later.handshakes[0]["session-id"] == "conv-1"

    run(body)


def test_prewarm_handshake_only_then_turn_adopts_socket() -> None:
    async def body() -> None:
        conn = Conn(batches=[[completed("r1")]], close_after=False,
                    response_headers=[("x-codex-turn-state", "ts-warm")])  # fmt: skip
        async with FakeWsServer([conn]) as server:
            rec = Recorder()
            client = ResponsesClient(base_url=server.base_url, config=WS, emit=rec)
            try:
                await client.handle("responses.prewarm", {})
                assert len(server.handshakes) == 1 and server.connections == [[]]
                assert "x-codex-turn-metadata" not in server.handshakes[0]
                await client.handle("responses.turn", {"input": "hi"})
            finally:
                await client.aclose()
        assert len(server.handshakes) == 1 and len(server.frames()) == 1
        assert rec.types() == ["turn.started", "responses.completed", "turn.completed"]

    run(body)


def test_later_prewarm_sends_generate_false_then_chains() -> None:
    async def body() -> None:
        conn = Conn(batches=[[created("resp_warm_1"), completed("resp_warm_1")],
                             [created("r1"), completed("r1")]], close_after=False)  # fmt: skip
        async with FakeWsServer([conn]) as server:
            rec = await drive(server.base_url, {"profile": "later", "instructions": "sys"},
                              [("responses.prewarm", {}), turn("hello")])  # fmt: skip
        warm, real = server.frames()
        assert warm["generate"] is False and warm["input"] == [] and warm["instructions"] == "sys"
        assert "x-codex-turn-metadata" not in warm.get("client_metadata", {})
        assert real["previous_response_id"] == "resp_warm_1" and real["input"] == [user("hello")]
        assert "generate" not in real
        assert [e["response_id"] for e in rec.of("responses.created")] == ["r1"]

    run(body)


def test_terminal_error_drops_socket_without_close_handshake_and_reconnects_full() -> None:
    async def body() -> None:
        first = [[created("r1"), CALL, completed("r1")],
                 [created("r2"), failed("server_error", "The model failed.")]]  # fmt: skip
        async with RawWsServer([first, [[completed("r3")]]]) as server:
            config = {"stream_idle_timeout_ms": 30_000, "stream_max_retries": 1}
            started = time.monotonic()
            rec = await drive(server.base_url, config, [turn("go", **TOOLS)])
            assert rec.time_of("turn.stream_error") - started < 1.0  # no wait for a close reply
            assert server.closes_received == 0
        assert len(server.handshakes) == 2
        (_r1, r2), (r3,) = server.connections
        assert r2["previous_response_id"] == "r1" and r2["input"] == [OUT]
        assert "previous_response_id" not in r3
        assert r3["input"] == [user("go"), CALL["item"], OUT]
        assert rec.of("turn.stream_error") == [{
            "type": "turn.stream_error", "message": "Reconnecting... 1/1",
            "details": "stream disconnected before completion: The model failed.",
        }]  # fmt: skip
        assert rec.of("turn.completed")[0]["status"] == "completed"

    run(body)


def test_await_close_profile_demonstrates_the_stall() -> None:
    async def body() -> None:
        conns = [[[created("r1"), failed("server_error", "boom")]], [[completed("r2")]]]
        async with RawWsServer(conns) as server:
            config = {"stream_idle_timeout_ms": 1200, "stream_max_retries": 1,
                      "profile": {"ws_await_close_on_error": True}}  # fmt: skip
            started = time.monotonic()
            rec = await drive(server.base_url, config, [turn()])
            assert rec.time_of("turn.stream_error") - started >= 1.0  # stalled on the close
            assert server.closes_received == 1
        assert len(server.handshakes) == 2
        assert rec.of("turn.completed")[0]["status"] == "completed"

    run(body)


def test_turn_state_from_handshake_echoed_on_reconnect_and_reset_next_turn() -> None:
    async def body() -> None:
        conns = [
            Conn(batches=[[failed("server_error", "x")]], close_after=False,
                 response_headers=[("x-codex-turn-state", "ts-1")]),
            Conn(batches=[[completed("r1")]], response_headers=[("x-codex-turn-state", "ts-2")]),
            Conn(batches=[[completed("r2")]]),
        ]  # fmt: skip
        async with FakeWsServer(conns) as server:
            await drive(server.base_url, {}, [turn("a"), ("sleep", {"s": 0.1}), turn("b")])
        h1, h2, h3 = server.handshakes
        assert "x-codex-turn-state" not in h1
        assert h2["x-codex-turn-state"] == "ts-1"
        assert "x-codex-turn-state" not in h3

    run(body)


def test_426_upgrade_falls_back_for_good_silently_unless_the_warning_is_asked_for() -> None:
    """codex core/src/client.rs: a 426 is WebsocketStreamOutcome::FallbackToHttp, and
    try_switch_fallback_transport only logs; the Warning event comes from exhausted retries
    alone. The issue's warning stays available as the opt-in warn_on_426_fallback."""

    async def body() -> None:
        for warn in (False, True):
            replies = [Reply(chunks=[sse(completed("r1"))]), Reply(chunks=[sse(completed("r2"))])]
            async with FakeHttpServer(replies, ws_statuses=[426]) as server:
                config = {"profile": {"warn_on_426_fallback": True}} if warn else {}
                rec = await drive(server.base_url, config, [turn("a"), turn("b")])
            assert len(server.gets()) == 1 and len(server.posts()) == 2
            ws_url = server.base_url.replace("http://", "ws://") + "/responses"
            err = f"unexpected status 426 Upgrade Required: ws status 426, url: {ws_url}"
            expected = [
                {
                    "type": "warning",
                    "message": f"Falling back from WebSockets to HTTPS transport. {err}",
                }
            ]
            assert rec.of("warning") == (expected if warn else [])
            assert rec.of("turn.stream_error") == []
            assert [e["status"] for e in rec.of("turn.completed")] == ["completed", "completed"]

    run(body)


def test_426_fallback_is_silent_by_default_in_every_preset() -> None:
    for preset in PRESETS.values():
        assert preset.warn_on_426_fallback is False


def test_exhausted_websocket_retries_fall_back_with_warning() -> None:
    async def body() -> None:
        replies = [Reply(chunks=[sse(completed("r1"))]), Reply(chunks=[sse(completed("r2"))])]
        async with FakeHttpServer(replies, ws_statuses=[401, 401, 401]) as server:
            rec = await drive(server.base_url, {"stream_max_retries": 2}, [turn("a"), turn("b")])
        ws_url = server.base_url.replace("http://", "ws://") + "/responses"
        err = f"unexpected status 401 Unauthorized: ws status 401, url: {ws_url}"
        assert len(server.gets()) == 3 and len(server.posts()) == 2
        assert [e["message"] for e in rec.of("turn.stream_error")] == [
            "Reconnecting... 1/2", "Reconnecting... 2/2"
        ]  # fmt: skip
        assert rec.of("warning") == [{
            "type": "warning",
            "message": f"Falling back from WebSockets to HTTPS transport. {err}",
        }]  # fmt: skip
        assert [e["status"] for e in rec.of("turn.completed")] == ["completed", "completed"]

    run(body)


def test_later_profile_hides_first_ws_reconnect_and_keeps_budget_spent() -> None:
    async def body() -> None:
        replies = [Reply(status=500, chunks=[b"{}"])]
        async with FakeHttpServer(replies, ws_statuses=[500, 500, 500]) as server:
            config = {"stream_max_retries": 2, "request_max_retries": 0, "profile": "later"}
            rec = await drive(server.base_url, config, [turn()])
        assert len(server.gets()) == 3 and len(server.posts()) == 1  # one HTTPS attempt
        assert [e["message"] for e in rec.of("turn.stream_error")] == ["Reconnecting... 2/2"]
        assert rec.types()[-2:] == ["error", "turn.completed"]

    run(body)


STREAM_END_CASES = [
    (Conn(batches=[[b"\x00\x01"]]), "unexpected binary websocket event"),
    (Conn(batches=[[created("r1")]], close_after=True),
     "websocket closed by server before response.completed"),
    (Conn(batches=[[created("r1")]], close_after=False), "idle timeout waiting for websocket"),
]  # fmt: skip


def test_stream_end_errors_exhaust_retries_and_fall_back() -> None:
    async def body() -> None:
        for conn, text in STREAM_END_CASES:
            async with FakeWsServer([conn]) as server:
                rec = await drive(server.base_url, {"stream_max_retries": 0,
                                                    "stream_idle_timeout_ms": 300}, [turn()])  # fmt: skip
            assert rec.of("warning") == [{
                "type": "warning", "message": "Falling back from WebSockets to HTTPS transport. "
                f"stream disconnected before completion: {text}",
            }], text  # fmt: skip
            assert rec.types()[-2:] == ["error", "turn.completed"]  # the POST is refused

    run(body)


def test_wrapped_400_error_is_fatal_and_reports_the_frame() -> None:
    async def body() -> None:
        frame = json.dumps({"type": "error", "status": 400,
                            "error": {"type": "invalid_request_error", "message": "bad"}})  # fmt: skip
        async with FakeWsServer([Conn(batches=[[frame]], close_after=False)]) as server:
            rec = await drive(server.base_url, {"stream_max_retries": 3}, [turn()])
        assert len(server.handshakes) == 1 and len(server.connections[0]) == 1
        assert rec.of("error") == [
            {"type": "error", "message": frame, "code": "other", "http_status": 400}
        ]

    run(body)


def test_wrapped_usage_limit_reports_rate_limits_then_error() -> None:
    async def body() -> None:
        frame = {"type": "error", "status": 429,
                 "error": {"type": "usage_limit_reached", "plan_type": "pro"},
                 "headers": {"x-codex-primary-used-percent": "100.0",
                             "x-codex-primary-window-minutes": "15"}}  # fmt: skip
        async with FakeWsServer([Conn(batches=[[frame]])]) as server:
            rec = await drive(server.base_url, {}, [turn()])
        assert rec.types() == ["turn.started", "responses.rate_limits", "error", "turn.completed"]
        assert rec.of("responses.rate_limits")[0]["snapshot"]["primary"] == {
            "used_percent": 100.0, "window_minutes": 15, "resets_at": None}  # fmt: skip
        assert rec.of("error")[0]["code"] == "usage_limit_exceeded"

    run(body)


def test_sent_frames_match_the_wire_schemas() -> None:
    wire_schemas = pytest.importorskip("harness.wire_schemas")

    async def body() -> None:
        frames: list[dict[str, Any]] = []
        for version, profile in (("v1", "early-2026"), ("v2", "later")):
            conn = Conn(batches=[[created("w"), completed("w")]] * (profile == "later")
                        + [[CALL, completed("r1")], [completed("r2")]], close_after=False)  # fmt: skip
            async with FakeWsServer([conn]) as server:
                await drive(server.base_url, {"ws_version": version, "profile": profile,
                                              "reasoning": {"effort": "low"}},
                            [("responses.prewarm", {}), turn("x", **TOOLS)])  # fmt: skip
            frames += server.frames()
        assert [f["type"] for f in frames] == [
            "response.create", "response.append",
            "response.create", "response.create", "response.create",
        ]  # fmt: skip
        for frame in frames:
            errors = wire_schemas.validate_frame(protocol="responses.ws", direction="client",
                                                 frame=frame)  # fmt: skip
            assert errors == [], (frame["type"], errors)

    run(body)


def test_tls_context_is_used_for_https_and_wss() -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)

    async def body() -> None:
        for transport in ("sse", "websocket"):
            rec = Recorder()
            if transport == "sse":
                server: Any = FakeHttpServer([Reply(chunks=[sse(completed("r1"))])], tls=server_ctx)
            else:
                server = FakeWsServer([Conn(batches=[[completed("r1")]])], tls=server_ctx)
            async with server:
                client = ResponsesClient(base_url=server.base_url, emit=rec, ssl=client_ctx,
                                         config={**WS, "transport": transport})  # fmt: skip
                try:
                    await client.handle("responses.turn", {"input": "hi"})
                finally:
                    await client.aclose()
            assert server.base_url.startswith("https://")
            assert rec.of("turn.completed")[0]["status"] == "completed", transport
            assert rec.of("warning") == []

    run(body)
