"""Revision profile: the client choices where Codex revisions disagree.

The baseline (`early-2026`) is the [early-2026] wire shapes plus the [later] error-path
fixes the seeds describe (responses-wire §0). Every other revision difference is a named
setting here, so a case can pick the `later` preset or override single settings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


__all__ = ["DEFAULT_PRESET", "PRESETS", "ResponsesProfile", "resolve_profile"]

DEFAULT_PRESET = "early-2026"


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponsesProfile:
    """Revision-dependent behaviour; the defaults are the `early-2026` preset."""

    name: str = DEFAULT_PRESET
    session_headers: str = "session_id"
    """`session_id` (§1.2 early-2026) or `session-id` (later: session-id, thread-id,
    x-client-request-id, all the conversation id)."""
    ws_beta_v1: str = "responses_websockets=2026-02-04"
    ws_beta_v2: str = "responses_websockets=2026-02-06"
    prewarm: str = "handshake"
    """`handshake` (early-2026: connect only) or `request` (later: `generate:false` create, §1.4)."""
    ws_await_close_on_error: bool = False
    """True restores the early-2026 bug: await the close handshake before reporting (§6.1)."""
    turn_state_from_metadata_event: bool = False
    """Later: `response.metadata` / `codex.response.metadata` headers carry turn state (§10)."""
    ws_turn_state_in_client_metadata: bool = False
    """Later: echo turn state in `client_metadata["x-codex-turn-state"]` (§3.4, §10)."""
    ws_incremental_across_turns: bool = False
    """Later: the websocket incremental baseline survives the end of a turn (codex-cli §4g)."""
    warn_on_426_fallback: bool = False
    """A 426 upgrade falls back to HTTP silently, as codex does in every revision read
    (core/src/client.rs: FallbackToHttp → try_switch_fallback_transport logs only; the
    Warning comes from exhausted retries) and as 0.169.0 does; true adds the `Falling back
    ...` warning the project's issue asked for (§6.3)."""
    fallback_resets_retries: bool = True
    """Early-2026 resets the stream retry budget after falling back to HTTP (§6.3)."""
    hide_first_ws_reconnect: bool = False
    """Release builds hide `Reconnecting... 1/n` on the websocket transport (§6.3)."""
    response_done_completes: bool = True
    """Treat `response.done` like `response.completed` (ev_done in the v1 tests, §1.4)."""
    sse_completed_waits_for_eof: bool = False
    """Old parser: hold `response.completed` until the body ends (§2.5)."""
    record_reroute_warning: bool = True
    """Record `Warning: <text>` as a user message in history on a reroute (§3.3 step 3)."""
    ws_connect_timeout_ms: int = 15_000
    model_verification_from_metadata: bool = False
    """Later: a `response.metadata` event's `metadata.openai_verification_recommendation`
    gives a model verification, reported once per turn (codex-api sse/responses.rs
    ResponsesStreamEvent::model_verifications; core `model_verification_emitted`)."""
    ws_stream_start_in_client_metadata: bool = False
    """Later: every websocket `response.create` carries `client_metadata
    ["x-codex-ws-stream-request-start-ms"]`, the send time in unix milliseconds (core
    client.rs stamp_ws_stream_request_start_ms)."""


_LATER_OVERRIDES: dict[str, Any] = {
    "name": "later",
    "session_headers": "session-id",
    "prewarm": "request",
    "turn_state_from_metadata_event": True,
    "ws_turn_state_in_client_metadata": True,
    "ws_incremental_across_turns": True,
    "fallback_resets_retries": False,
    "hide_first_ws_reconnect": True,
    "response_done_completes": False,
    "model_verification_from_metadata": True,
    "ws_stream_start_in_client_metadata": True,
}

PRESETS: dict[str, ResponsesProfile] = {
    DEFAULT_PRESET: ResponsesProfile(),
    "later": dataclasses.replace(ResponsesProfile(), **_LATER_OVERRIDES),
}

_FIELDS = {f.name: f for f in dataclasses.fields(ResponsesProfile)}
_CHOICES = {
    "session_headers": ("session_id", "session-id"),
    "prewarm": ("handshake", "request"),
}


def resolve_profile(value: object) -> ResponsesProfile:
    """Build a profile from a preset name, or a mapping `{preset?, <setting>: value}`."""
    if value is None:
        return PRESETS[DEFAULT_PRESET]
    if isinstance(value, str):
        return _preset(value)
    if not isinstance(value, Mapping):
        raise ValueError(f"profile must be a preset name or a mapping, got {value!r}")
    base = _preset(str(value.get("preset", DEFAULT_PRESET)))
    overrides: dict[str, Any] = {}
    for key, raw in value.items():
        if key == "preset":
            continue
        if key not in _FIELDS or key == "name":
            raise ValueError(f"unknown responses profile setting {key!r}")
        overrides[key] = _check(key, raw, getattr(base, key))
    return dataclasses.replace(base, **overrides) if overrides else base


def _preset(name: str) -> ResponsesProfile:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown responses profile preset {name!r}") from None


def _check(key: str, raw: object, default: object) -> object:
    if isinstance(default, bool):
        if not isinstance(raw, bool):
            raise ValueError(f"profile setting {key!r} must be a boolean")
    elif isinstance(default, int):
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
            raise ValueError(f"profile setting {key!r} must be a non-negative integer")
    elif not isinstance(raw, str) or (key in _CHOICES and raw not in _CHOICES[key]):
        raise ValueError(f"profile setting {key!r} has an invalid value {raw!r}")
    return raw
