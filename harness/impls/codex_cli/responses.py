"""A case's ``responses`` config as codex can be given it, and the turn's user text."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.errors import Unsupported


__all__ = ["ResponsesSettings", "UnsupportedStep", "prompt_text"]

_DEFAULT_MODEL = "gpt-5.2-codex"
# Where a case's API key goes: codex's stored login (auth.json, used by a provider that
# requires OpenAI auth), the provider's env_key, or the provider's own bearer token.
_KEY_SOURCES = ("auth_json", "provider_env", "provider_byok")


class UnsupportedStep(Unsupported):
    """A step or setting codex offers no way to honour: the case ends UNSUPPORTED with why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponsesSettings:
    """The parts of a case's ``responses`` config codex has a knob for."""

    model: str = _DEFAULT_MODEL
    api_key: str | None = None
    websocket: bool = False
    request_max_retries: int | None = None
    stream_max_retries: int | None = None
    stream_idle_timeout_ms: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    query_params: Mapping[str, str] = field(default_factory=dict)
    originator: str | None = None
    features: Mapping[str, bool] = field(default_factory=dict)
    key_source: str = "provider_env"
    auth_tags: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ResponsesSettings:
        if config.get("ws_version", "v2") != "v2":
            raise UnsupportedStep("codex-cli 0.169.0 speaks only the v2 Responses websocket (response.create + previous_response_id)")
        auth = config.get("auth") or {}
        if auth.get("mode", "api_key") != "api_key":
            raise UnsupportedStep("codex-cli is driven with API keys only (no ChatGPT or external tokens)")
        key_source = str(auth.get("key_source", "auth_json")) if auth else "provider_env"
        if key_source not in _KEY_SOURCES:
            raise UnsupportedStep(f"codex-cli cannot be given an API key from '{key_source}'")
        api_key = auth["api_key"] if "api_key" in auth else config.get("api_key")
        return cls(
            model=str(config.get("model") or _DEFAULT_MODEL),
            api_key=api_key or None,
            key_source=key_source,
            # The vocabulary's auth events come with an `auth` config whose tags are not off.
            auth_tags=bool(auth) and auth.get("tags", True) is not False,
            websocket=config.get("transport") == "websocket",
            request_max_retries=config.get("request_max_retries"),
            stream_max_retries=config.get("stream_max_retries"),
            stream_idle_timeout_ms=config.get("stream_idle_timeout_ms"),
            headers=dict(config.get("headers") or {}),
            query_params=dict(config.get("query_params") or {}),
            originator=config.get("originator"),
            features=dict(config.get("features") or {}),
        )


def prompt_text(value: Any) -> str:
    """codex takes one user text per turn; a list of items is accepted only if it says just that."""
    if isinstance(value, str):
        return value
    texts: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        content = item.get("content") if isinstance(item, Mapping) else None
        if not (isinstance(item, Mapping) and item.get("type", "message") == "message" and item.get("role") == "user" and isinstance(content, list)):
            raise UnsupportedStep("codex sends only user text (turn/start input); raw input items cannot be sent")
        for part in content:
            if not (isinstance(part, Mapping) and part.get("type") == "input_text" and isinstance(part.get("text"), str)):
                raise UnsupportedStep("codex sends only user text (turn/start input); non-text content cannot be sent")
            texts.append(part["text"])
    if len(texts) != 1:
        raise UnsupportedStep("the adapter sends exactly one user text per turn")
    return texts[0]
