"""Per-session and per-turn state, pure: turn-state token, reroute flag, usage, calls.

A client session (codex `ModelClientSession`) holds the sticky-routing token; a new
one starts with every turn unless a prewarm or `responses.new_session` opened one that
no turn has used yet (responses-wire §3.4, §1.4 preconnect).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.client.responses.models import TokenUsage
from harness.client.responses.tools import ToolCall


__all__ = ["ClientSession", "TurnContext", "is_reroute"]


@dataclass(slots=True)
class ClientSession:
    """`turn_state` is a OnceLock: the first captured value wins until the session ends."""

    turn_state: str | None = None
    used_by_turn: bool = False

    def capture(self, value: str) -> None:
        if self.turn_state is None and value:
            self.turn_state = value


@dataclass(slots=True)
class TurnContext:
    turn_id: str
    metadata: str
    reroute_warned: bool = False
    usage: TokenUsage | None = None
    pending_calls: list[ToolCall] = field(default_factory=list)

    def add_usage(self, usage: TokenUsage | None) -> None:
        """`turn.completed.token_usage` sums every response of the turn (codex-cli §4h)."""
        if usage is not None:
            self.usage = usage if self.usage is None else self.usage + usage


def is_reroute(requested: str, server: str) -> bool:
    """A server model differing case-insensitively from the requested slug (§3.3)."""
    return requested.lower() != server.lower()
