"""The realtime client's configuration: a case's `client.config` (schemas/config/realtime.schema.json).

Parsed once, at construction, so a bad config fails before any socket is opened.
The harness validates a case's config against the schema when the case is loaded; an
unknown key reaching this parser anyway (a caller of its own) is refused, naming the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.client.realtime.kinds import SessionKind, SessionMode, normalized_mode
from harness.client.realtime.profile import RealtimeProfile, resolve_profile


__all__ = ["DEFAULT_CLOSE_TIMEOUT_MS", "DEFAULT_OPEN_TIMEOUT_MS", "RealtimeConfig"]

DEFAULT_CLOSE_TIMEOUT_MS = 1000
DEFAULT_OPEN_TIMEOUT_MS = 10_000
_KNOWN = frozenset(
    {
        "version", "type", "model", "api_key", "bearer_token", "session_id", "backend_prompt",
        "startup_context", "query_params", "headers", "close_timeout_ms", "open_timeout_ms",
        "delegate", "env_key", "provider_is_openai", "profile", "auth",
    }
)  # fmt: skip  (the properties of schemas/config/realtime.schema.json)


def _opt_str(config: Mapping[str, Any], key: str) -> str | None:
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"realtime config `{key}` must be a string")
    return value


def _str_map(config: Mapping[str, Any], key: str) -> dict[str, str]:
    value = config.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"realtime config `{key}` must be an object")
    return {str(name): str(item) for name, item in value.items()}


def _opt_map(config: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"realtime config `{key}` must be an object")
    return dict(value)


def _bool(config: Mapping[str, Any], key: str, *, default: bool) -> bool:
    value = config.get(key, default)
    if not isinstance(value, bool):
        raise ValueError(f"realtime config `{key}` must be a boolean")
    return value


def _choice(config: Mapping[str, Any], key: str, choices: tuple[str, ...], default: str) -> str:
    value = config.get(key, default)
    if value not in choices:
        raise ValueError(f"realtime config `{key}` must be one of {', '.join(choices)}")
    return str(value)


def _positive_ms(config: Mapping[str, Any], key: str, default: int) -> int:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"realtime config `{key}` must be a positive number of milliseconds")
    return int(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class RealtimeConfig:
    """Resolved client settings; see `from_mapping` for the keys."""

    kind: SessionKind
    mode: SessionMode
    profile: RealtimeProfile
    model: str | None = None
    api_key: str | None = None
    bearer_token: str | None = None
    session_id: str | None = None
    backend_prompt: str | None = None
    startup_context: str | None = None
    query_params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    close_timeout_ms: int = DEFAULT_CLOSE_TIMEOUT_MS
    open_timeout_ms: int = DEFAULT_OPEN_TIMEOUT_MS
    auth: Mapping[str, Any] | None = None
    """The `auth` key (harness.client.auth, docs/auth.md); None: api_key / bearer_token alone."""
    env_key: str | None = None
    """The provider's `env_key`: the variable of the client's environment whose value is the
    first-choice key (`provider.api_key()`, realtime-wire §1 key resolution 1)."""
    provider_is_openai: bool = True
    """Whether the provider is OpenAI's: only then may `OPENAI_API_KEY` from the client's
    environment stand in when nothing else gives a key (realtime-wire §1 key resolution 4)."""
    delegate: str = "steps"
    """Who runs the delegated turn of a handoff: `steps` (the case's `realtime.handoff_output`
    / `realtime.turn_complete` steps stand in for it) or `responses` (the session layer: a
    Responses turn on the provider, harness/client/session)."""

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> RealtimeConfig:
        """Read a case's `client.config`; raises ValueError when a key is unknown or a value malformed."""
        unknown = sorted(set(config) - _KNOWN)
        if unknown:
            raise ValueError(f"unknown realtime config keys: {', '.join(unknown)} (the keys: schemas/config/realtime.schema.json)")
        profile = resolve_profile(config.get("profile"))
        version = config.get("version")
        kind = profile.default_version if version is None else SessionKind(version)
        mode_value = config.get("type")
        mode = SessionMode.CONVERSATIONAL if mode_value is None else SessionMode(mode_value)
        model = _opt_str(config, "model")
        return cls(
            kind=kind,
            mode=normalized_mode(kind, mode),
            profile=profile,
            model=model if model is not None else profile.default_model,
            api_key=_opt_str(config, "api_key"),
            bearer_token=_opt_str(config, "bearer_token"),
            session_id=_opt_str(config, "session_id"),
            backend_prompt=_opt_str(config, "backend_prompt"),
            startup_context=_opt_str(config, "startup_context"),
            query_params=_str_map(config, "query_params"),
            headers=_str_map(config, "headers"),
            close_timeout_ms=_positive_ms(config, "close_timeout_ms", DEFAULT_CLOSE_TIMEOUT_MS),
            open_timeout_ms=_positive_ms(config, "open_timeout_ms", DEFAULT_OPEN_TIMEOUT_MS),
            auth=_opt_map(config, "auth"),
            env_key=_opt_str(config, "env_key"),
            provider_is_openai=_bool(config, "provider_is_openai", default=True),
            delegate=_choice(config, "delegate", ("steps", "responses"), "steps"),
        )

    def instructions(self, prompt: str | None) -> str:
        """The session instructions for a start op (realtime-wire §2 "Instructions").

        `backend_prompt` replaces the op's prompt; a non-empty startup context is
        appended after a blank line. No context is built automatically: there is no
        workspace to summarise, so `startup_context` absent means none.
        """
        base = self.backend_prompt if self.backend_prompt is not None else (prompt or "")
        if self.startup_context:
            return f"{base}\n\n{self.startup_context}"
        return base
