"""Small pure modules: tools, profile, config, retry, headers, turn state, events."""

from __future__ import annotations

import random
from typing import Any

import pytest

from harness.client.responses import events
from harness.client.responses.auth import ApiKeyAuth
from harness.client.responses.config import ClientConfig
from harness.client.responses.errors import ApiError
from harness.client.responses.headers import Headers
from harness.client.responses.models import TokenUsage
from harness.client.responses.profile import PRESETS, resolve_profile
from harness.client.responses.retry import backoff_s, transport_retryable
from harness.client.responses.stream_items import Completed, Failed, ServerModel, TurnStateSeen
from harness.client.responses.tools import (
    ToolCall,
    output_item,
    supports_original_detail,
    tool_call_of,
    user_input_items,
)
from harness.client.responses.turn import ClientSession, TurnContext, is_reroute


# -- tools ---------------------------------------------------------------------------------


def test_user_input_string_and_items() -> None:
    assert user_input_items("hi") == [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
    ]
    assert user_input_items([{"type": "x"}]) == [{"type": "x"}]
    with pytest.raises(ValueError):
        user_input_items(5)


CALLS = [
    ({"type": "function_call", "call_id": "c1", "name": "shell", "arguments": "{}"},
     ToolCall("c1", "shell", "function_call", "{}")),
    ({"type": "custom_tool_call", "call_id": "c2", "name": "apply_patch", "input": "*** Begin"},
     ToolCall("c2", "apply_patch", "custom_tool_call", "*** Begin")),
    ({"type": "local_shell_call", "call_id": "c3", "action": {}},
     ToolCall("c3", "local_shell", "local_shell_call", None)),
    ({"type": "message", "role": "assistant", "content": []}, None),
    ({"type": "function_call", "name": "x", "arguments": "{}"}, None),
]  # fmt: skip


@pytest.mark.parametrize(("item", "call"), CALLS)
def test_tool_call_of(item: dict[str, Any], call: ToolCall | None) -> None:
    assert tool_call_of(item) == call


def test_output_item_lookup_order_and_fallback() -> None:
    call = ToolCall("c1", "shell", "function_call", "{}")
    assert output_item(call, {"c1": "by id", "shell": "by name"}, original_detail=False) == {
        "type": "function_call_output", "call_id": "c1", "output": "by id"
    }  # fmt: skip
    assert output_item(call, {"shell": "by name"}, original_detail=False)["output"] == "by name"
    assert output_item(call, {}, original_detail=False)["output"] == "unsupported call: shell"
    custom = ToolCall("c2", "apply_patch", "custom_tool_call")
    assert output_item(custom, {"apply_patch": "done"}, original_detail=False) == {
        "type": "custom_tool_call_output", "call_id": "c2", "output": "done"
    }  # fmt: skip


def test_view_image_detail_gate() -> None:
    call = ToolCall("c1", "view_image", "function_call", '{"path":"a.png"}')
    image = "data:image/png;base64,AAAA"
    on = output_item(call, {"view_image": image}, original_detail=True)
    off = output_item(call, {"view_image": [{"type": "input_image", "image_url": image,
                                             "detail": "high"}]}, original_detail=False)  # fmt: skip
    assert on["output"] == [{"type": "input_image", "image_url": image, "detail": "original"}]
    assert off["output"] == [{"type": "input_image", "image_url": image}]


@pytest.mark.parametrize(
    ("model", "ok"),
    # core tools/handlers/view_image.rs supports_original_resolution_model (the seed's
    # revision) and its test supports_original_resolution_model_version_gate: the version
    # after a case-sensitive `gpt-` in the last `/` segment, >= 5.3, whatever the suffix.
    [("gpt-5.3-codex", True), ("gpt-5.4", True), ("gpt-5.4-codex", True), ("gpt-6", True),
     ("gpt-5.5", True), ("gpt-5.10", True), ("gpt-5.3", True), ("gpt-5.3-mini", True),
     ("custom/gpt-5.3-codex", True), ("ns1/ns2/gpt-5.3-codex", True), ("gpt-5.2-codex", False),
     ("gpt-5", False), ("gpt-4.1", False), ("o3", False), ("custom/o3", False),
     ("gpt-test-model", False), ("GPT-5.3-Codex-Max", False), ("gpt-codex", False),
     ("gpt-.5", False), ("gpt-5.x", False), ("gpt-99999999999.9", False)],
)  # fmt: skip
def test_supports_original_detail(model: str, ok: bool) -> None:
    assert supports_original_detail(model) is ok


# -- profile / config ----------------------------------------------------------------------


def test_profiles() -> None:
    assert resolve_profile(None) is PRESETS["early-2026"]
    assert resolve_profile("later").prewarm == "request"
    custom = resolve_profile({"preset": "later", "ws_await_close_on_error": True})
    assert custom.ws_await_close_on_error and custom.session_headers == "session-id"
    assert resolve_profile({"hide_first_ws_reconnect": True}).name == "early-2026"


@pytest.mark.parametrize(
    "bad",
    ["nope", {"nope": 1}, {"prewarm": "sometimes"}, {"ws_connect_timeout_ms": -1},
     {"fallback_resets_retries": "yes"}, 5],
)  # fmt: skip
def test_bad_profiles(bad: object) -> None:
    with pytest.raises(ValueError):
        resolve_profile(bad)


def test_config_defaults_and_caps() -> None:
    config = ClientConfig.from_mapping({"request_max_retries": 500, "features": {"x": True}})
    assert config.request_max_retries == 100 and config.stream_max_retries == 5
    assert config.stream_idle_timeout_ms == 300_000 and config.retry_base_delay_ms == 200
    assert config.feature("x") and not config.feature("y")
    assert config.transport == "sse" and config.ws_version == "v2"


@pytest.mark.parametrize(
    "raw",
    [{"transport": "grpc"}, {"ws_version": "v3"}, {"stream_max_retries": -1},
     {"stream_max_retries": True}, {"headers": {"a": 1}}, {"features": {"a": "on"}},
     {"unknown_key": 1}, {"tools": "x"}, {"model": 5}],
)  # fmt: skip
def test_config_rejects(raw: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ClientConfig.from_mapping(raw)


# -- retry / auth / headers / turn ----------------------------------------------------------


def test_backoff_curve_with_jitter() -> None:
    rng = random.Random(7)
    for attempt, nominal in ((1, 0.2), (2, 0.4), (3, 0.8), (4, 1.6)):
        delay = backoff_s(200, attempt, rng)
        assert nominal * 0.9 <= delay < nominal * 1.1


@pytest.mark.parametrize(
    ("err", "retry"),
    [(ApiError(kind="http", status=500), True), (ApiError(kind="http", status=503), True),
     (ApiError(kind="http", status=429), False), (ApiError(kind="http", status=401), False),
     (ApiError(kind="http", status=404), False), (ApiError(kind="network"), True),
     (ApiError(kind="timeout"), True), (ApiError(kind="stream"), False)],
)  # fmt: skip
def test_transport_retryable(err: ApiError, retry: bool) -> None:
    assert transport_retryable(err) is retry


def test_api_key_auth() -> None:
    assert ApiKeyAuth("k").header() == ("Authorization", "Bearer k")
    assert ApiKeyAuth("").header() is None and ApiKeyAuth(None).mode == "api_key"


def test_headers_lookup() -> None:
    headers = Headers.of([("OpenAI-Model", " m "), ("X-Codex-Turn-State", "ts"),
                          ("x-request-id", "r"), ("x-models-etag", "  ")])  # fmt: skip
    assert headers.server_model() == "m" and headers.turn_state() == "ts"
    assert headers.request_id() == "r" and headers.models_etag() is None
    assert not headers.reasoning_included()


def test_turn_state_first_value_wins_and_usage_sums() -> None:
    session = ClientSession()
    session.capture("ts-first")
    session.capture("ts-second")
    assert session.turn_state == "ts-first"
    turn = TurnContext(turn_id="t", metadata="{}")
    turn.add_usage(None)
    assert turn.usage is None
    turn.add_usage(TokenUsage(input_tokens=11, output_tokens=7, total_tokens=18))
    turn.add_usage(TokenUsage(input_tokens=11, output_tokens=7, total_tokens=18))
    assert turn.usage == TokenUsage(input_tokens=22, output_tokens=14, total_tokens=36)


def test_reroute_is_case_insensitive() -> None:
    assert not is_reroute("GPT-5-Codex", "gpt-5-codex")
    assert is_reroute("gpt-5.3-codex", "gpt-5.2")


def test_event_builders() -> None:
    assert events.stream_event(ServerModel("m")) == {"type": "responses.server_model", "model": "m"}
    assert events.stream_event(Completed(response_id="r", end_turn=False)) == {
        "type": "responses.completed", "response_id": "r", "end_turn": False
    }  # fmt: skip
    assert events.stream_event(TurnStateSeen("x")) is None
    assert events.stream_event(Failed(ApiError(kind="stream"))) is None
    assert events.error("boom", None) == {"type": "error", "message": "boom"}
    assert events.telemetry_events(transport="http", counts={"b": 1, "a": 2}) == {
        "type": "telemetry.events", "transport": "http", "counts": {"a": 2, "b": 1}
    }  # fmt: skip
