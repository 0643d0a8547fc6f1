"""Request building: URL, headers, body and websocket frames (§1.1-§1.4)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.client.responses.auth import ApiKeyAuth
from harness.client.responses.config import ClientConfig
from harness.client.responses.request import (
    build_body,
    build_http_headers,
    build_ws_append,
    build_ws_create,
    build_ws_headers,
    responses_url,
    turn_metadata_json,
    ws_url,
)


USER = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}


def cfg(**raw: Any) -> ClientConfig:
    return ClientConfig.from_mapping(raw)


@pytest.mark.parametrize(
    ("base", "params", "url"),
    [("http://h:1/v1", (), "http://h:1/v1/responses"),
     ("http://h:1/v1/", (), "http://h:1/v1/responses"),
     ("https://chatgpt.com/backend-api/codex", (), "https://chatgpt.com/backend-api/codex/responses"),
     ("http://h/v1", (("scenario", "s1"), ("a b", "c&d")),
      "http://h/v1/responses?scenario=s1&a+b=c%26d")],
)  # fmt: skip
def test_responses_url(base: str, params: tuple[tuple[str, str], ...], url: str) -> None:
    assert responses_url(base, params) == url


@pytest.mark.parametrize(
    ("http", "ws"),
    [("http://127.0.0.1:5/v1/responses", "ws://127.0.0.1:5/v1/responses"),
     ("https://h/v1/responses?x=1", "wss://h/v1/responses?x=1"),
     ("ws://h/r", "ws://h/r")],
)  # fmt: skip
def test_ws_url(http: str, ws: str) -> None:
    assert ws_url(http) == ws


def test_http_headers_early_profile() -> None:
    config = cfg(api_key="Test API Key", beta_features=["a", "b"])
    headers = build_http_headers(config, ApiKeyAuth("Test API Key"), conversation_id="conv-1",
                                 turn_state="ts-1", turn_metadata='{"turn_id":"t"}')  # fmt: skip
    assert headers == [
        ("x-codex-beta-features", "a,b"),
        ("x-codex-turn-state", "ts-1"),
        ("x-codex-turn-metadata", '{"turn_id":"t"}'),
        ("session_id", "conv-1"),
        ("Accept", "text/event-stream"),
        ("Content-Type", "application/json"),
        ("Authorization", "Bearer Test API Key"),
        ("originator", "codex_cli_rs"),
        ("User-Agent", "codex_cli_rs/0.1.0 (wireplay reference client)"),
    ]


def test_http_headers_later_profile_no_key_no_turn_state_and_overrides() -> None:
    config = cfg(profile="later", headers={"X-Test-Run": "abc", "originator": "codex_exec"})
    headers = dict(build_http_headers(config, ApiKeyAuth(None), conversation_id="c",
                                      turn_state=None, turn_metadata=None))  # fmt: skip
    assert "Authorization" not in headers and "x-codex-turn-state" not in headers
    assert "session_id" not in headers
    assert headers["x-client-request-id"] == headers["session-id"] == headers["thread-id"] == "c"
    assert headers["X-Test-Run"] == "abc"
    assert headers["originator"] == "codex_exec"


@pytest.mark.parametrize(
    ("version", "beta"),
    [("v1", "responses_websockets=2026-02-04"), ("v2", "responses_websockets=2026-02-06")],
)
def test_ws_headers_beta(version: str, beta: str) -> None:
    config = cfg(transport="websocket", ws_version=version, api_key="k")
    headers = build_ws_headers(config, ApiKeyAuth("k"), conversation_id="c", turn_state=None,
                               turn_metadata=None)  # fmt: skip
    assert headers == [("session_id", "c"), ("OpenAI-Beta", beta), ("Authorization", "Bearer k"),
                       ("originator", "codex_cli_rs")]  # fmt: skip


def test_ws_beta_override_from_profile() -> None:
    config = cfg(profile={"ws_beta_v2": "responses_websockets=2026-03-01"})
    headers = dict(build_ws_headers(config, ApiKeyAuth(None), conversation_id="c",
                                    turn_state="ts", turn_metadata="{}"))  # fmt: skip
    assert headers["OpenAI-Beta"] == "responses_websockets=2026-03-01"
    assert headers["x-codex-turn-state"] == "ts"


def test_body_defaults_in_order() -> None:
    body = build_body(cfg(model="gpt-5.2-codex"), [USER], prompt_cache_key="conv")
    assert list(body) == ["model", "input", "tools", "tool_choice", "parallel_tool_calls",
                          "reasoning", "store", "stream", "include", "prompt_cache_key"]  # fmt: skip
    assert body == {"model": "gpt-5.2-codex", "input": [USER], "tools": [], "tool_choice": "auto",
                    "parallel_tool_calls": True, "reasoning": None, "store": False,
                    "stream": True, "include": [], "prompt_cache_key": "conv"}  # fmt: skip


def test_body_with_reasoning_text_and_instructions() -> None:
    config = cfg(instructions="be brief", reasoning={"effort": "medium", "summary": "auto"},
                 text={"verbosity": "low"}, service_tier="priority", tools=[{"type": "x"}],
                 parallel_tool_calls=False)  # fmt: skip
    body = build_body(config, [], prompt_cache_key="k")
    assert body["instructions"] == "be brief"
    assert body["include"] == ["reasoning.encrypted_content"]
    assert body["reasoning"] == {"effort": "medium", "summary": "auto"}
    assert body["text"] == {"verbosity": "low"}
    assert body["service_tier"] == "priority"
    assert body["tools"] == [{"type": "x"}]
    assert body["parallel_tool_calls"] is False
    assert list(body)[:3] == ["model", "instructions", "input"]


def test_ws_create_frames() -> None:
    body = build_body(cfg(instructions="i"), [USER], prompt_cache_key="k")
    full = build_ws_create(body, client_metadata={"x-codex-turn-metadata": "{}"})
    assert list(full)[:4] == ["type", "model", "instructions", "input"]
    assert full["type"] == "response.create" and "previous_response_id" not in full
    assert full["client_metadata"] == {"x-codex-turn-metadata": "{}"}
    chained = build_ws_create(body, previous_response_id="resp-1", input_items=[{"n": 1}],
                              generate=False)  # fmt: skip
    assert list(chained)[:5] == ["type", "model", "instructions", "previous_response_id", "input"]
    assert chained["input"] == [{"n": 1}] and chained["generate"] is False
    assert "client_metadata" not in chained


def test_ws_append_frame() -> None:
    assert build_ws_append([USER], None) == {"type": "response.append", "input": [USER]}
    assert build_ws_append([], {"a": "b"}) == {"type": "response.append", "input": [],
                                               "client_metadata": {"a": "b"}}  # fmt: skip


def test_turn_metadata_json() -> None:
    assert turn_metadata_json("t-1", {"sandbox": "seccomp", "turn_id": "x"}) == (
        '{"turn_id":"t-1","sandbox":"seccomp"}'
    )
