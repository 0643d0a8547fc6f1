"""The realtime websocket URL, built from the provider base URL (realtime-wire §1).

Pure: string in, string out, so every example URL of the reference can be checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit, urlunsplit

from harness.client.realtime.kinds import SessionKind


__all__ = ["normalize_realtime_path", "realtime_url"]

_SCHEMES = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}
_V1_INTENT = "quicksilver"


def normalize_realtime_path(path: str) -> str:
    """Point a provider base path at the realtime endpoint (`normalize_realtime_path`)."""
    if path in ("", "/"):
        return "/v1/realtime"
    if path.endswith("/realtime"):
        return path
    if path.endswith("/realtime/"):
        return path[:-1]
    if path.endswith("/v1"):
        return path + "/realtime"
    if path.endswith("/v1/"):
        return path + "realtime"
    return path


def realtime_url(
    base_url: str,
    *,
    version: SessionKind,
    model: str | None = None,
    query_params: Mapping[str, str] | None = None,
    pre_split: bool = False,
) -> str:
    """Return the websocket URL the client connects to.

    `pre_split` is the first revision's rule (realtime-wire §9, endpoint/realtime_websocket.rs
    `websocket_url_from_api_url`): an empty path becomes `/ws`, any other is kept, and only
    the provider's query params are appended (no intent, no model).

    The session mode is deliberately not a parameter: Codex ignores it for the URL, so
    v2 transcription sends no `intent` either (realtime-wire §1, §10.3).

    Raises:
        ValueError: `unsupported realtime api_url scheme: {scheme}`.
    """
    parts = urlsplit(base_url)
    scheme = _SCHEMES.get(parts.scheme.lower())
    if scheme is None:
        raise ValueError(f"unsupported realtime api_url scheme: {parts.scheme}")

    if pre_split:
        path = "/ws" if parts.path in ("", "/") else parts.path
        added = urlencode([(key, str(value)) for key, value in (query_params or {}).items()])
        query = f"{parts.query}&{added}" if parts.query and added else (parts.query or added)
        return urlunsplit((scheme, parts.netloc, path, query, parts.fragment))

    # realtime-wire §1 "Query": intent (v1 only), then model, then provider params.
    pairs: list[tuple[str, str]] = []
    if version is SessionKind.V1:
        pairs.append(("intent", _V1_INTENT))
    if model:
        pairs.append(("model", model))
    for key, value in (query_params or {}).items():
        if key == "intent" or (key == "model" and model):
            continue
        pairs.append((key, str(value)))

    query = parts.query
    if pairs:
        added = urlencode(pairs)
        query = f"{query}&{added}" if query else added
    return urlunsplit(
        (scheme, parts.netloc, normalize_realtime_path(parts.path), query, parts.fragment)
    )
