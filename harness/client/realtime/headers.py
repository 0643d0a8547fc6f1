"""Handshake headers of the realtime websocket (realtime-wire §1 "Request headers").

Header names are lower-cased, as the Rust `http` crate sends them, so the merge is
case-insensitive and the wire form is predictable.
"""

from __future__ import annotations

from collections.abc import Mapping

from harness.client.realtime.kinds import SessionKind
from harness.client.realtime.profile import RealtimeProfile


__all__ = [
    "DEFAULT_ORIGINATOR",
    "DEFAULT_USER_AGENT",
    "MISSING_API_KEY_MESSAGE",
    "default_headers",
    "handshake_headers",
    "merge_request_headers",
    "realtime_request_headers",
    "resolve_api_key",
]

DEFAULT_ORIGINATOR = "codex_cli_rs"
DEFAULT_USER_AGENT = "wireplay-reference/0.1.0"
MISSING_API_KEY_MESSAGE = "realtime conversation requires API key auth"


def _lower(headers: Mapping[str, str] | None) -> dict[str, str]:
    return {name.lower(): str(value) for name, value in (headers or {}).items()}


def merge_request_headers(
    provider: Mapping[str, str] | None,
    extra: Mapping[str, str] | None,
    default: Mapping[str, str] | None,
) -> dict[str, str]:
    """Merge as `merge_request_headers` does (realtime-wire §1).

    Start from the provider headers, let `extra` override them, then add `default`
    headers only where the name is still absent.
    """
    merged = _lower(provider)
    merged.update(_lower(extra))
    for name, value in _lower(default).items():
        merged.setdefault(name, value)
    return merged


def resolve_api_key(*, bearer_token: str | None, api_key: str | None) -> str | None:
    """Pick the realtime key: a non-empty bearer token, else the API key (realtime-wire §1, §11).

    An empty configured bearer token is ignored. `None` means "no key": the caller reports
    `realtime conversation requires API key auth` and does not connect.
    """
    if bearer_token:
        return bearer_token
    if api_key:
        return api_key
    return None


def realtime_request_headers(
    *,
    api_key: str,
    session_id: str | None,
    kind: SessionKind,
    profile: RealtimeProfile,
) -> dict[str, str]:
    """The `extra` headers core sets (`realtime_request_headers`)."""
    headers: dict[str, str] = {}
    if kind is SessionKind.V1 and profile.v1_alpha_header:
        # [later] realtime-wire §11: v1 handshakes announce the quicksilver alpha.
        headers["openai-alpha"] = "quicksilver=v1"
    if session_id:
        headers["x-session-id"] = session_id
    headers["authorization"] = f"Bearer {api_key}"
    return headers


def default_headers() -> dict[str, str]:
    """Codex's standard client headers (`default_headers()`): originator and user agent."""
    return {"originator": DEFAULT_ORIGINATOR, "user-agent": DEFAULT_USER_AGENT}


def handshake_headers(
    *,
    provider_headers: Mapping[str, str] | None,
    api_key: str,
    session_id: str | None,
    kind: SessionKind,
    profile: RealtimeProfile,
) -> dict[str, str]:
    """Every header the client adds to the websocket upgrade request."""
    extra = realtime_request_headers(
        api_key=api_key, session_id=session_id, kind=kind, profile=profile
    )
    return merge_request_headers(provider_headers, extra, default_headers())
