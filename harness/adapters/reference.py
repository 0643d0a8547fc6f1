"""The reference client, in process: realtime and responses clients behind one session."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any

from harness.adapters.base import Emit, Endpoint

__all__ = ["REFERENCE_CAPABILITIES", "ReferenceAdapter"]

REFERENCE_CAPABILITIES = frozenset(
    {
        "realtime",
        "realtime.v1",
        "realtime.v2",
        "realtime.transcription",
        "responses",
        "responses.sse",
        "responses.ws",
        "responses.ws.v1",
        "responses.ws.v2",
        "auth.api-key",
        "auth.chatgpt",
        "auth.external",
        "tls",
        "profiles",
    }
)


class _ReferenceSession:
    """Routes each step by its area prefix to that area's client, created on first use."""

    def __init__(self, *, endpoint: Endpoint, config: Mapping[str, Any], emit: Emit) -> None:
        self._endpoint = endpoint
        self._config = config
        self._emit = emit
        self._clients: dict[str, Any] = {}
        self._ssl: ssl.SSLContext | None = None
        if endpoint.ca_file:
            self._ssl = ssl.create_default_context(cafile=endpoint.ca_file)

    def _client(self, area: str) -> Any:
        if area not in self._clients:
            section = dict(self._config.get(area, {}))
            if area == "realtime":
                from harness.client.realtime import RealtimeClient

                self._clients[area] = RealtimeClient(base_url=self._endpoint.base_url, config=section, emit=self._emit, ssl=self._ssl)
            elif area == "responses":
                from harness.client.responses import ResponsesClient

                self._clients[area] = ResponsesClient(base_url=self._endpoint.base_url, config=section, emit=self._emit, ssl=self._ssl)
            else:
                raise ValueError(f"the reference client has no '{area}' steps")
        return self._clients[area]

    async def handle(self, op: str, args: Mapping[str, Any]) -> None:
        await self._client(op.split(".", 1)[0]).handle(op, args)

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()


class ReferenceAdapter:
    """wireplay's own client, implementing ../shared/seeds."""

    name = "reference"
    version = "0.1.0"
    capabilities = REFERENCE_CAPABILITIES

    async def start(self, *, endpoint: Endpoint, config: Mapping[str, Any], emit: Emit, case_id: str = "") -> _ReferenceSession:
        return _ReferenceSession(endpoint=endpoint, config=config, emit=emit)
