"""Where the case's fake server is, and the SDK client pointed at it."""

from __future__ import annotations

import os
import ssl as ssl_module
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit


__all__ = ["CONNECT_S", "MAX_IDLE_S", "Endpoint", "api_key", "str_map", "ws_base_url"]

MAX_IDLE_S = 60.0  # bound on any single wait, whatever the config says
CONNECT_S = 5.0
_CA_ENV = ("SSL_CERT_FILE", "SSL_CERT_DIR", "CODEX_CA_CERTIFICATE")


def ws_base_url(base_url: str) -> str:
    """``websocket_base_url`` for the SDK: the base URL with a ws(s) scheme."""
    parts = urlsplit(base_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit(parts._replace(scheme=scheme))


def str_map(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


def api_key(cfg: Mapping[str, Any]) -> str | None:
    """The key the app gives the SDK: ``auth.api_key`` in api_key mode, else the area's ``api_key``.

    Where Codex would have read the key from (``auth.key_source``) changes nothing on the
    wire: the SDK is handed the key and sends it as the bearer credential.
    """
    auth = cfg.get("auth")
    if isinstance(auth, Mapping) and auth.get("mode", "api_key") == "api_key" and auth.get("api_key"):
        return str(auth["api_key"])
    key = cfg.get("api_key")
    return str(key) if key else None


class Endpoint:
    """Where the case's fake server is, and the TLS context when it serves TLS."""

    def __init__(self, *, base_url: str, ca_file: str | None, tls_env: Mapping[str, str] | None,
                 realtime_base_url: str | None = None) -> None:  # fmt: skip
        self.base_url = base_url
        self.ws_base_url = ws_base_url(base_url)
        # A realtime listener of its own, when the case gives one: the SDK's websocket base there.
        self.realtime_ws_base_url = ws_base_url(realtime_base_url or base_url)
        self.ssl: ssl_module.SSLContext | None = None
        if tls_env is not None:
            # The case gives the client's CA environment, whole: the SDK reads what it reads of
            # it itself (httpx2 and websockets honour SSL_CERT_FILE / SSL_CERT_DIR;
            # CODEX_CA_CERTIFICATE means nothing to them). The protocol loop restores the
            # environment before the next case.
            for name in _CA_ENV:
                os.environ.pop(name, None)
            os.environ.update({str(k): str(v) for k, v in tls_env.items()})
        elif ca_file:
            # No CA environment: the SDK's documented way, an explicit context for HTTP and websockets.
            self.ssl = ssl_module.create_default_context(cafile=ca_file)

    def client(self, *, key: str | None, max_retries: int, read_timeout_s: float,
               headers: Mapping[str, str], query: Mapping[str, str], realtime: bool = False) -> Any:  # fmt: skip
        """An ``AsyncOpenAI`` pointed at the fake server; raises ``OpenAIError`` without a key."""
        import openai  # type: ignore[import-not-found,unused-ignore]  # the SDK venv only

        kwargs: dict[str, Any] = {}
        if self.ssl is not None:
            kwargs["http_client"] = openai.DefaultAsyncHttpxClient(verify=self.ssl)
        if headers:
            kwargs["default_headers"] = dict(headers)
        if query:
            kwargs["default_query"] = dict(query)
        return openai.AsyncOpenAI(
            api_key=key,
            base_url=self.base_url,
            websocket_base_url=self.realtime_ws_base_url if realtime else self.ws_base_url,
            max_retries=max_retries,
            timeout=openai.Timeout(read_timeout_s, connect=CONNECT_S),
            **kwargs,
        )

    def ws_options(self, *, open_timeout_s: float, close_timeout_s: float) -> dict[str, Any]:
        options: dict[str, Any] = {"open_timeout": open_timeout_s, "close_timeout": close_timeout_s}
        if self.ssl is not None:
            options["ssl"] = self.ssl
        return options
