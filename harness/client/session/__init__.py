"""The codex session layer of the reference client: realtime handoffs drive Responses turns.

See `layer.CodexSession` and docs/realtime.md ("The session layer").
"""

from __future__ import annotations

from harness.client.session.layer import (
    CodexSession,
    SteerableResponsesClient,
    delegates_to_responses,
)
from harness.client.session.routing import assistant_message_text, routed_text


__all__ = [
    "CodexSession",
    "SteerableResponsesClient",
    "assistant_message_text",
    "delegates_to_responses",
    "routed_text",
]
