"""Reference realtime client: the Codex CLI (revision R-C) realtime websocket conversation.

Sans-I/O core (`url`, `headers`, `outbound`, `inbound`, `session`, `profile`, `config`)
plus a thin asyncio layer (`conversation.RealtimeClient`) implementing the client seam
of docs/contracts.md.
"""

from __future__ import annotations

from harness.client.realtime.config import RealtimeConfig
from harness.client.realtime.conversation import RealtimeClient
from harness.client.realtime.kinds import SessionKind, SessionMode
from harness.client.realtime.profile import PRESETS, RealtimeProfile, resolve_profile
from harness.client.realtime.session import RealtimeSession, Step


__all__ = [
    "PRESETS",
    "RealtimeClient",
    "RealtimeConfig",
    "RealtimeProfile",
    "RealtimeSession",
    "SessionKind",
    "SessionMode",
    "Step",
    "resolve_profile",
]
