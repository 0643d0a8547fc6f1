"""The case's `client.config` mapping, checked once and turned into typed settings.

Keys are documented in schemas/config/responses.schema.json; defaults follow the Codex
provider defaults (responses-wire §4.1, §2.5) except where a case needs speed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.client.responses.profile import ResponsesProfile, resolve_profile


__all__ = ["MAX_RETRIES_CAP", "ClientConfig"]

MAX_RETRIES_CAP = 100  # provider caps both retry budgets at 100 (§4.1, §4.3)

_KNOWN = frozenset(
    {
        "model", "api_key", "transport", "ws_version", "instructions", "tools",
        "request_max_retries", "stream_max_retries", "stream_idle_timeout_ms",
        "retry_base_delay_ms", "headers", "query_params", "features", "profile",
        "originator", "conversation_id", "reasoning", "beta_features", "turn_metadata",
        "parallel_tool_calls", "tool_choice", "store", "service_tier", "text", "auth",
        "context_window", "effective_context_window_percent",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientConfig:
    """Typed view of the config keys; unknown keys are rejected so typos surface."""

    model: str = "gpt-5.2-codex"
    api_key: str | None = None
    transport: str = "sse"
    ws_version: str = "v2"
    instructions: str = ""
    tools: tuple[Any, ...] = ()
    request_max_retries: int = 4
    stream_max_retries: int = 5
    stream_idle_timeout_ms: int = 300_000
    retry_base_delay_ms: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    query_params: tuple[tuple[str, str], ...] = ()
    features: Mapping[str, bool] = field(default_factory=dict)
    profile: ResponsesProfile = field(default_factory=ResponsesProfile)
    originator: str = "codex_cli_rs"
    conversation_id: str | None = None
    reasoning: Mapping[str, Any] | None = None
    beta_features: tuple[str, ...] = ()
    turn_metadata: Mapping[str, Any] = field(default_factory=dict)
    parallel_tool_calls: bool = True
    tool_choice: Any = "auto"
    store: bool = False
    service_tier: str | None = None
    text: Mapping[str, Any] | None = None
    auth: Mapping[str, Any] | None = None  # harness.client.auth config (docs/auth.md)
    context_window: int | None = None
    """The model's context window as codex's model catalog gives it (`ModelInfo.context_window`);
    unknown (None) by default."""
    effective_context_window_percent: int = 95
    """`ModelInfo.effective_context_window_percent` (default 95): the share of the window codex
    reports as the model context window."""

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> ClientConfig:
        """Validate `raw` (the case config merged with profile settings)."""
        unknown = sorted(set(raw) - _KNOWN)
        if unknown:
            raise ValueError(f"unknown responses config keys: {', '.join(unknown)} (the keys: schemas/config/responses.schema.json)")
        kw: dict[str, Any] = {}
        for key in ("model", "instructions", "originator"):
            if key in raw:
                kw[key] = _str(raw, key)
        for key in ("api_key", "conversation_id", "service_tier"):
            if raw.get(key) is not None:
                kw[key] = _str(raw, key)
        if "transport" in raw:
            kw["transport"] = _choice(raw, "transport", ("sse", "websocket"))
        if "ws_version" in raw:
            kw["ws_version"] = _choice(raw, "ws_version", ("v1", "v2"))
        if "tools" in raw:
            kw["tools"] = tuple(_list(raw, "tools"))
        for key, cap in (("request_max_retries", MAX_RETRIES_CAP),
                         ("stream_max_retries", MAX_RETRIES_CAP),
                         ("stream_idle_timeout_ms", None), ("retry_base_delay_ms", None)):  # fmt: skip
            if key in raw:
                value = _int(raw, key)
                kw[key] = min(value, cap) if cap is not None else value
        if "headers" in raw:
            kw["headers"] = _str_pairs(raw, "headers")
        if "query_params" in raw:
            kw["query_params"] = _str_pairs(raw, "query_params")
        if "features" in raw:
            features = _mapping(raw, "features")
            if not all(isinstance(v, bool) for v in features.values()):
                raise ValueError("config 'features' values must be booleans")
            kw["features"] = dict(features)
        if raw.get("context_window") is not None:
            kw["context_window"] = _int(raw, "context_window")
        if "effective_context_window_percent" in raw:
            percent = _int(raw, "effective_context_window_percent")
            if not 1 <= percent <= 100:
                raise ValueError(
                    "config 'effective_context_window_percent' must be between 1 and 100"
                )
            kw["effective_context_window_percent"] = percent
        if "profile" in raw:
            kw["profile"] = resolve_profile(raw["profile"])
        for key in ("reasoning", "text", "auth"):
            if raw.get(key) is not None:
                kw[key] = dict(_mapping(raw, key))
        if "turn_metadata" in raw:
            kw["turn_metadata"] = dict(_mapping(raw, "turn_metadata"))
        if "beta_features" in raw:
            values = _list(raw, "beta_features")
            if not all(isinstance(v, str) for v in values):
                raise ValueError("config 'beta_features' must be a list of strings")
            kw["beta_features"] = tuple(values)
        for key in ("parallel_tool_calls", "store"):
            if key in raw:
                if not isinstance(raw[key], bool):
                    raise ValueError(f"config {key!r} must be a boolean")
                kw[key] = raw[key]
        if "tool_choice" in raw:
            kw["tool_choice"] = raw["tool_choice"]
        return cls(**kw)

    @property
    def model_context_window(self) -> int | None:
        """codex `TurnContext::model_context_window`: the window times the effective percent,
        integer division (`context_window.saturating_mul(percent) / 100`)."""
        if self.context_window is None:
            return None
        return self.context_window * self.effective_context_window_percent // 100

    def feature(self, name: str) -> bool:
        """Whether the named Codex feature flag is on (default off)."""
        return bool(self.features.get(name, False))


def _str(raw: Mapping[str, Any], key: str) -> str:
    value = raw[key]
    if not isinstance(value, str):
        raise ValueError(f"config {key!r} must be a string")
    return value


def _choice(raw: Mapping[str, Any], key: str, choices: tuple[str, ...]) -> str:
    value = _str(raw, key)
    if value not in choices:
        raise ValueError(f"config {key!r} must be one of {', '.join(choices)}")
    return value


def _int(raw: Mapping[str, Any], key: str) -> int:
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"config {key!r} must be a non-negative integer")
    return value


def _list(raw: Mapping[str, Any], key: str) -> list[Any]:
    value = raw[key]
    if not isinstance(value, list | tuple):
        raise ValueError(f"config {key!r} must be a list")
    return list(value)


def _mapping(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw[key]
    if not isinstance(value, Mapping):
        raise ValueError(f"config {key!r} must be an object")
    return value


def _str_pairs(raw: Mapping[str, Any], key: str) -> tuple[tuple[str, str], ...]:
    pairs = tuple(_mapping(raw, key).items())
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in pairs):
        raise ValueError(f"config {key!r} must map strings to strings")
    return pairs
