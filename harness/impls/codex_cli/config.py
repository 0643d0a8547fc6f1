"""A case's client config as codex command-line overrides and environment.

Codex reads ``-c key=value`` with the value parsed as TOML, so every value is
rendered as a TOML literal here. The model provider is a custom one (``wireplay``)
pointing at the fake server: the built-in provider ignores ``OPENAI_BASE_URL``,
defaults to the websocket transport and sends no key without ``CODEX_API_KEY``
(shared/reference/codex-cli.md §1.2), so it is never used.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from harness.impls.codex_cli.logs import RUST_LOG as CODEX_LOG_FILTER


__all__ = [
    "API_KEY_ENV",
    "OWNER_ENV",
    "PROVIDER",
    "base_args",
    "codex_env",
    "provider_table",
    "toml_value",
    "ws_origin",
]

PROVIDER = "wireplay"
API_KEY_ENV = "WIREPLAY_CODEX_API_KEY"
# Marks every codex process (and what it spawns) with the harness process that owns it,
# so leftovers of a run can be found without matching on names.
OWNER_ENV = "WIREPLAY_CODEX_OWNER"
_SCRUBBED = ("OPENAI_", "CODEX_", "SSL_CERT_")
# Codex's log records the adapter reads (logs.py), and errors; anything else stays off.
RUST_LOG = CODEX_LOG_FILTER
# A debugging aid: another RUST_LOG for every codex process (what the adapter reads stays the same).
RUST_LOG_ENV = "WIREPLAY_CODEX_RUST_LOG"


def toml_value(value: Any) -> str:
    """One TOML value (inline tables for mappings), as ``-c`` parses it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)}={toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def provider_table(
    *,
    base_url: str,
    api_key: str | None,
    bearer_token: str | None = None,
    headers: Mapping[str, str] | None = None,
    query_params: Mapping[str, Any] | None = None,
    request_max_retries: int | None = None,
    stream_max_retries: int | None = None,
    stream_idle_timeout_ms: int | None = None,
    websockets: bool = False,
) -> dict[str, Any]:
    """The ``model_providers.wireplay`` table; keys left out keep codex's defaults.

    ``env_key`` is set only with a non-empty key: without it codex sends no
    ``Authorization`` header at all, which is what an absent key means in a case.
    """
    table: dict[str, Any] = {"name": PROVIDER, "base_url": base_url, "wire_api": "responses"}
    if api_key:
        table["env_key"] = API_KEY_ENV
    if bearer_token:
        table["experimental_bearer_token"] = bearer_token
    for key, value in (
        ("request_max_retries", request_max_retries),
        ("stream_max_retries", stream_max_retries),
        ("stream_idle_timeout_ms", stream_idle_timeout_ms),
    ):
        if value is not None:
            table[key] = int(value)
    if headers:
        table["http_headers"] = {str(k): str(v) for k, v in headers.items()}
    if query_params:
        table["query_params"] = {str(k): _query_text(v) for k, v in query_params.items()}
    if websockets:
        table["supports_websockets"] = True
    return table


def _query_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def base_args(*, provider: Mapping[str, Any]) -> list[str]:
    """Overrides every codex run gets: the provider, and no start-up network chatter."""
    return [
        "-c", f"model_provider={toml_value(PROVIDER)}",
        "-c", f"model_providers.{PROVIDER}={toml_value(provider)}",
        "-c", "check_for_update_on_startup=false",
        # Plugin sync resolves github.com at start-up; offline it only adds noise.
        "--disable", "plugins",
        "--disable", "remote_plugin",
    ]  # fmt: skip


def codex_env(*, home: str, api_key: str | None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This machine's environment without OPENAI_*/CODEX_*/SSL_CERT_*, with an isolated CODEX_HOME.

    HOME points at the same throwaway dir so nothing of the user's (~/.codex, git
    config, shell rc files) leaks into a case.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED)}
    env.update(CODEX_HOME=home, HOME=home, NO_COLOR="1", RUST_LOG=os.environ.get(RUST_LOG_ENV) or RUST_LOG)
    env[OWNER_ENV] = str(os.getpid())
    env.pop(API_KEY_ENV, None)
    if api_key:
        env[API_KEY_ENV] = api_key
    env.update(extra or {})
    return env


def ws_origin(origin: str) -> str:
    """``http://host:port`` → ``ws://host:port`` (``https`` → ``wss``) for the realtime base URL."""
    parts = urlsplit(origin)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))
