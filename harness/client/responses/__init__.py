"""Reference client for the Responses API as the Codex CLI speaks it (SSE and websocket).

Sans-I/O core (request building, SSE framing, stream mapping, errors, rate limits,
chaining) with thin asyncio transports; `ResponsesClient` is the seam of
docs/contracts.md. Wire facts: shared/reference/responses-wire.md.
"""
from __future__ import annotations

from harness.client.responses.client import ResponsesClient
from harness.client.responses.config import ClientConfig
from harness.client.responses.profile import PRESETS, ResponsesProfile, resolve_profile


__all__ = ["PRESETS", "ClientConfig", "ResponsesClient", "ResponsesProfile", "resolve_profile"]
