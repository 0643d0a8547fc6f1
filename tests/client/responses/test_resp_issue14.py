"""Issue 14 (Responses): session requests, the new vocabulary (model verification, token
count and context window, retry delay), the later revision's stream-start stamp, and the
seed facts the reference had wrong (codex.rate_limits parsing, unknown message phases).

Each test fails on the reference as it was before the fix it names.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from resp_fakes import (
    Conn,
    FakeHttpServer,
    FakeWsServer,
    Recorder,
    Reply,
    completed,
    created,
    failed,
    message,
    sse,
)

from harness.client.responses import ResponsesClient
from harness.client.responses.profile import PRESETS
from harness.client.responses.rate_limits import parse_rate_limit_event
from harness.client.responses.stream import StreamProcessor
from harness.client.responses.stream_items import (
    ModelVerifications,
    OutputItemAdded,
    OutputItemDone,
)


BASE = {
    "api_key": "sk-test",
    "retry_base_delay_ms": 1,
    "stream_idle_timeout_ms": 5000,
    "conversation_id": "conv-1",
}
USAGE = {"input_tokens": 10, "input_tokens_details": {"cached_tokens": 2}, "output_tokens": 5,
         "output_tokens_details": {"reasoning_tokens": 1}, "total_tokens": 15}  # fmt: skip


def run(test: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(30):
            await test()

    asyncio.run(bounded())


async def drive(
    base_url: str, config: dict[str, Any], steps: list[tuple[str, dict[str, Any]]]
) -> Recorder:
    rec = Recorder()
    client = ResponsesClient(base_url=base_url, config={**BASE, **config}, emit=rec)
    try:
        for op, args in steps:
            async with asyncio.timeout(15):
                await client.handle(op, args)
    finally:
        await client.aclose()
    return rec


def user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def rate_event(**fields: Any) -> dict[str, Any]:
    return {"type": "codex.rate_limits", "plan_type": "plus", "credits": None,
            "rate_limits": {"primary": {"used_percent": 10, "window_minutes": 60, "reset_at": 1}, "secondary": None},
            **fields}  # fmt: skip


# -- codex.rate_limits (codex-api rate_limits.rs parse_rate_limit_event) ----------------------


def test_rate_limit_event_name_falls_back_only_when_metered_name_is_absent_or_null() -> None:
    pick = lambda **kw: parse_rate_limit_event(rate_event(**kw)).limit_id  # noqa: E731
    assert pick(metered_limit_name="Codex-Bengalfox", limit_name="codex_other") == "codex_bengalfox"
    assert pick(metered_limit_name=None, limit_name=" Codex-Other ") == "codex_other"
    assert pick(limit_name="codex_sonic") == "codex_sonic"
    assert pick() == "codex"
    # `metered_limit_name.or(limit_name)`: an empty name is a name (the old reference fell back)
    assert pick(metered_limit_name="", limit_name="codex_other") == ""


def test_rate_limit_event_with_a_mistyped_field_gives_no_snapshot() -> None:
    # serde fails the whole typed struct (the old reference kept these events)
    assert parse_rate_limit_event(rate_event(metered_limit_name=7)) is None
    assert parse_rate_limit_event(rate_event(limit_name=["codex"])) is None
    assert parse_rate_limit_event(rate_event(plan_type=3)) is None
    assert (
        parse_rate_limit_event(rate_event(rate_limits={"primary": {"used_percent": "42"}})) is None
    )
    assert (
        parse_rate_limit_event(
            rate_event(rate_limits={"primary": {"used_percent": 1, "window_minutes": 60.5}})
        )
        is None
    )
    assert parse_rate_limit_event(rate_event(credits={"unlimited": False})) is None
    assert parse_rate_limit_event(rate_event()) is not None


# -- message phase (codex_protocol models.rs MessagePhase: no catch-all) ------------------------


def test_message_with_unknown_phase_is_skipped_known_phases_kept() -> None:
    proc = StreamProcessor(transport="sse", profile=PRESETS["early-2026"])
    item = {"type": "message", "role": "assistant", "content": [], "id": "m1"}
    assert (
        proc.feed(
            json.dumps(
                {"type": "response.output_item.added", "item": {**item, "phase": "preamble"}}
            )
        )
        == []
    )
    assert (
        proc.feed(
            json.dumps({"type": "response.output_item.done", "item": {**item, "phase": "preamble"}})
        )
        == []
    )
    for phase in ("commentary", "final_answer", None):
        (added,) = proc.feed(
            json.dumps({"type": "response.output_item.added", "item": {**item, "phase": phase}})
        )
        assert isinstance(added, OutputItemAdded)
    (done,) = proc.feed(json.dumps({"type": "response.output_item.done", "item": item}))
    assert isinstance(done, OutputItemDone)


# -- model verification ([later]) -----------------------------------------------------------


def test_metadata_verification_parsed_in_later_profile_only() -> None:
    event = json.dumps({"type": "response.metadata", "metadata": {"openai_verification_recommendation":
                        ["trusted_access_for_cyber", "other", "trusted_access_for_cyber", 7]}})  # fmt: skip
    later = StreamProcessor(transport="sse", profile=PRESETS["later"]).feed(event)
    assert later == [ModelVerifications(("trusted_access_for_cyber",))]
    assert StreamProcessor(transport="sse", profile=PRESETS["early-2026"]).feed(event) == []
    unknown = json.dumps(
        {"type": "response.metadata", "metadata": {"openai_verification_recommendation": ["other"]}}
    )
    assert StreamProcessor(transport="sse", profile=PRESETS["later"]).feed(unknown) == []


def test_model_verification_reported_once_per_turn() -> None:
    async def body() -> None:
        meta = {
            "type": "response.metadata",
            "metadata": {"openai_verification_recommendation": ["trusted_access_for_cyber"]},
        }
        replies = [
            Reply(chunks=[sse(meta, meta, completed("r1"))]),
            Reply(chunks=[sse(meta, completed("r2"))]),
        ]
        async with FakeHttpServer(replies) as server:
            rec = await drive(server.base_url, {"profile": "later"},
                              [("responses.turn", {"input": "a"}), ("responses.turn", {"input": "b"})])  # fmt: skip
        assert (
            rec.of("turn.model_verification")
            == [{"type": "turn.model_verification", "verifications": ["trusted_access_for_cyber"]}]
            * 2
        )
        assert rec.of("warning") == [] and rec.of("turn.model_reroute") == []

    run(body)


# -- token count and context window ----------------------------------------------------------


def test_token_count_sums_the_session_and_fills_the_window_on_context_exceeded() -> None:
    async def body() -> None:
        replies = [Reply(chunks=[sse(completed("r1", USAGE))]),
                   Reply(chunks=[sse(failed("context_length_exceeded", "too long"))])]  # fmt: skip
        async with FakeHttpServer(replies) as server:
            rec = await drive(server.base_url, {"context_window": 1000},
                              [("responses.turn", {"input": "a"}), ("responses.turn", {"input": "b"})])  # fmt: skip
        first, full = rec.of("turn.token_count")
        assert first["model_context_window"] == 950  # 1000 x 95 / 100
        assert first["total_token_usage"]["total_tokens"] == 15
        assert full["total_token_usage"] == {"input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0,
                                             "reasoning_output_tokens": 0, "total_tokens": 950}  # fmt: skip
        assert full["last_token_usage"]["total_tokens"] == 935
        types = rec.types()
        assert (
            types.index("error")
            == types.index("turn.token_count", types.index("turn.started", 1)) + 1
        )

    run(body)


def test_no_token_count_without_usage_and_no_window_without_context_window() -> None:
    async def body() -> None:
        async with FakeHttpServer(
            [Reply(chunks=[sse(completed("r1"))]), Reply(chunks=[sse(completed("r2", USAGE))])]
        ) as server:
            rec = await drive(
                server.base_url,
                {},
                [("responses.turn", {"input": "a"}), ("responses.turn", {"input": "b"})],
            )
        (count,) = rec.of("turn.token_count")
        assert "model_context_window" not in count

    run(body)


# -- retry delay ------------------------------------------------------------------------------


def test_retry_scheduled_reports_the_requested_delay_before_the_notice() -> None:
    async def body() -> None:
        slow = failed("rate_limit_exceeded", "Please try again in 30ms.")
        async with FakeHttpServer(
            [Reply(chunks=[sse(slow)]), Reply(chunks=[sse(completed("r2"))])]
        ) as server:
            rec = await drive(server.base_url, {"stream_max_retries": 2, "retry_base_delay_ms": 20000},
                              [("responses.turn", {"input": "a"})])  # fmt: skip
        assert rec.of("turn.retry_scheduled") == [
            {"type": "turn.retry_scheduled", "attempt": 1, "max_retries": 2, "delay_ms": 30}
        ]
        types = rec.types()
        assert types.index("turn.retry_scheduled") + 1 == types.index("turn.stream_error")

    run(body)


# -- session requests (responses.request) -----------------------------------------------------


def test_requests_on_one_session_chain_with_their_own_metadata_and_instructions() -> None:
    async def body() -> None:
        msg = message("m1", "out")
        conn = Conn(batches=[[created("r1"), msg, completed("r1")], [completed("r2")], [completed("r3")]],
                    close_after=False)  # fmt: skip
        steps = [
            ("responses.request", {"input": [user("hello")], "turn_metadata": {"turn_id": "t1"}}),
            ("responses.request", {"input": [user("hello"), msg["item"], user("second")], "turn_metadata": '{"turn_id":"t2"}'}),
            ("responses.request", {"input": [user("hello"), msg["item"], user("second"), user("third")],
                                   "instructions": "other"}),
        ]  # fmt: skip
        async with FakeWsServer([conn]) as server:
            rec = await drive(server.base_url, {"transport": "websocket"}, steps)
        (handshake,) = server.handshakes
        assert handshake["x-codex-turn-metadata"] == '{"turn_id":"t1"}'
        first, second, third = server.frames()
        assert first["client_metadata"] == {"x-codex-turn-metadata": '{"turn_id":"t1"}'}
        assert (second["previous_response_id"], second["input"]) == ("r1", [user("second")])
        assert second["client_metadata"] == {"x-codex-turn-metadata": '{"turn_id":"t2"}'}
        assert "previous_response_id" not in third and third["instructions"] == "other"
        assert len(third["input"]) == 4 and "client_metadata" not in third
        assert "turn.started" not in rec.types()
        assert [e["response_id"] for e in rec.of("responses.completed")] == ["r1", "r2", "r3"]

    run(body)


def test_request_failure_is_an_error_without_retry() -> None:
    async def body() -> None:
        async with FakeHttpServer([Reply(chunks=[sse(failed("server_error", "boom"))])]) as server:
            rec = await drive(
                server.base_url, {"stream_max_retries": 3}, [("responses.request", {"input": "a"})]
            )
        assert len(server.posts()) == 1
        assert rec.types() == ["responses.rate_limits", "error"]

    run(body)


# -- later: x-codex-ws-stream-request-start-ms ------------------------------------------------


def test_later_ws_create_is_stamped_with_its_send_time() -> None:
    async def body() -> None:
        before = int(time.time() * 1000)
        async with FakeWsServer([Conn(batches=[[completed("r1")]])]) as server:
            await drive(
                server.base_url,
                {"transport": "websocket", "profile": "later"},
                [("responses.turn", {"input": "a"})],
            )
        (frame,) = server.frames()
        assert (
            before
            <= int(frame["client_metadata"]["x-codex-ws-stream-request-start-ms"])
            <= int(time.time() * 1000)
        )
        async with FakeWsServer([Conn(batches=[[completed("r1")]])]) as server:
            await drive(
                server.base_url, {"transport": "websocket"}, [("responses.turn", {"input": "a"})]
            )
        assert "x-codex-ws-stream-request-start-ms" not in server.frames()[0]["client_metadata"]

    run(body)
