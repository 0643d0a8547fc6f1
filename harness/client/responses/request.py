"""Request building, pure: URL, headers and body for HTTP and the websocket handshake.

Field order and omission rules follow responses-wire §1.1-§1.4 so a fake server sees
what codex would send.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from harness.client.responses.auth import AuthManager
from harness.client.responses.config import ClientConfig


__all__ = [
    "build_body",
    "build_http_headers",
    "build_ws_append",
    "build_ws_create",
    "build_ws_headers",
    "responses_url",
    "turn_metadata_json",
    "user_agent",
    "ws_url",
]

CLIENT_VERSION = "0.1.0"
TURN_METADATA = "x-codex-turn-metadata"


def responses_url(base_url: str, query_params: Sequence[tuple[str, str]] = ()) -> str:
    """`{base}/responses` plus `?k=v` from provider query params (§1.1)."""
    url = base_url.rstrip("/") + "/responses"
    if query_params:
        url += "?" + urlencode(list(query_params))
    return url


def ws_url(http_url: str) -> str:
    """Same URL with `http`→`ws`, `https`→`wss` (§1.4)."""
    parts = urlsplit(http_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit(parts._replace(scheme=scheme))


def user_agent(originator: str) -> str:
    return f"{originator}/{CLIENT_VERSION} (wireplay reference client)"


def turn_metadata_json(turn_id: str, extra: Mapping[str, Any]) -> str:
    """`x-codex-turn-metadata`: compact JSON starting with `turn_id` (§1.2)."""
    data = {"turn_id": turn_id, **{k: v for k, v in extra.items() if k != "turn_id"}}
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def build_body(
    cfg: ClientConfig, input_items: Sequence[Any], *, prompt_cache_key: str
) -> dict[str, Any]:
    """`ResponsesApiRequest` (§1.3); `instructions` is omitted when empty."""
    body: dict[str, Any] = {"model": cfg.model}
    if cfg.instructions:
        body["instructions"] = cfg.instructions
    body["input"] = list(input_items)
    body["tools"] = list(cfg.tools)
    body["tool_choice"] = cfg.tool_choice
    body["parallel_tool_calls"] = cfg.parallel_tool_calls
    body["reasoning"] = dict(cfg.reasoning) if cfg.reasoning is not None else None
    body["store"] = cfg.store
    body["stream"] = True
    body["include"] = ["reasoning.encrypted_content"] if cfg.reasoning is not None else []
    if cfg.service_tier is not None:
        body["service_tier"] = cfg.service_tier
    body["prompt_cache_key"] = prompt_cache_key
    if cfg.text is not None:
        body["text"] = dict(cfg.text)
    return body


def build_ws_create(
    body: Mapping[str, Any],
    *,
    previous_response_id: str | None = None,
    input_items: Sequence[Any] | None = None,
    generate: bool | None = None,
    client_metadata: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """`response.create` frame (§1.4): the body tagged by type, optional fields omitted."""
    frame: dict[str, Any] = {"type": "response.create"}
    for key, value in body.items():
        if key == "input" and previous_response_id is not None:
            frame["previous_response_id"] = previous_response_id
        frame[key] = list(input_items) if key == "input" and input_items is not None else value
    if generate is not None:
        frame["generate"] = generate
    if client_metadata:
        frame["client_metadata"] = dict(client_metadata)
    return frame


def build_ws_append(
    input_items: Sequence[Any], client_metadata: Mapping[str, str] | None
) -> dict[str, Any]:
    """`response.append` (v1 only): just the new items (§1.4)."""
    frame: dict[str, Any] = {"type": "response.append", "input": list(input_items)}
    if client_metadata:
        frame["client_metadata"] = dict(client_metadata)
    return frame


def _session_headers(cfg: ClientConfig, conversation_id: str) -> list[tuple[str, str]]:
    if cfg.profile.session_headers == "session_id":
        return [("session_id", conversation_id)]
    return [
        ("x-client-request-id", conversation_id),
        ("session-id", conversation_id),
        ("thread-id", conversation_id),
    ]


def _codex_headers(
    cfg: ClientConfig, *, turn_state: str | None, turn_metadata: str | None
) -> list[tuple[str, str]]:
    """`build_responses_headers`: beta features, turn state, turn metadata (§1.2)."""
    headers: list[tuple[str, str]] = []
    if cfg.beta_features:
        headers.append(("x-codex-beta-features", ",".join(cfg.beta_features)))
    if turn_state:
        headers.append(("x-codex-turn-state", turn_state))
    if turn_metadata is not None:
        headers.append((TURN_METADATA, turn_metadata))
    return headers


def _merge(base: list[tuple[str, str]], extra: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Provider `headers` from the config replace same-named defaults."""
    names = {k.lower() for k, _ in extra}
    return [(k, v) for k, v in base if k.lower() not in names] + list(extra)


def build_http_headers(
    cfg: ClientConfig,
    auth: AuthManager,
    *,
    conversation_id: str,
    turn_state: str | None,
    turn_metadata: str | None,
) -> list[tuple[str, str]]:
    """Headers of `POST /responses` (§1.2)."""
    headers = _codex_headers(cfg, turn_state=turn_state, turn_metadata=turn_metadata)
    headers += _session_headers(cfg, conversation_id)
    headers += [("Accept", "text/event-stream"), ("Content-Type", "application/json")]
    headers += auth.headers()  # Authorization, ChatGPT-Account-ID (§1.2)
    headers += [("originator", cfg.originator), ("User-Agent", user_agent(cfg.originator))]
    return _merge(headers, cfg.headers)


def build_ws_headers(
    cfg: ClientConfig,
    auth: AuthManager,
    *,
    conversation_id: str,
    turn_state: str | None,
    turn_metadata: str | None,
) -> list[tuple[str, str]]:
    """Handshake headers (§1.4 `build_websocket_headers`); User-Agent goes separately."""
    headers = _codex_headers(cfg, turn_state=turn_state, turn_metadata=turn_metadata)
    headers += _session_headers(cfg, conversation_id)
    beta = cfg.profile.ws_beta_v2 if cfg.ws_version == "v2" else cfg.profile.ws_beta_v1
    headers.append(("OpenAI-Beta", beta))
    headers += auth.headers()  # Authorization, ChatGPT-Account-ID (§1.2)
    headers.append(("originator", cfg.originator))
    return _merge(headers, cfg.headers)
