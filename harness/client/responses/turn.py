"""Per-session and per-turn state, pure: turn-state token, reroute flag, usage, calls.

A client session (codex `ModelClientSession`) holds the sticky-routing token; a new
one starts with every turn unless a prewarm or `responses.new_session` opened one that
no turn has used yet (responses-wire §3.4, §1.4 preconnect).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.client.responses.models import TokenUsage
from harness.client.responses.tools import ToolCall


__all__ = ["ClientSession", "RequestContext", "TokenUsageInfo", "TurnContext", "is_reroute"]


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
    verification_emitted: bool = False
    usage: TokenUsage | None = None
    pending_calls: list[ToolCall] = field(default_factory=list)

    def add_usage(self, usage: TokenUsage | None) -> None:
        """`turn.completed.token_usage` sums every response of the turn (codex-cli §4h)."""
        if usage is not None:
            self.usage = usage if self.usage is None else self.usage + usage


@dataclass(frozen=True, slots=True)
class RequestContext:
    """A `responses.request` step: its own turn metadata (None: no header, no metadata)."""

    metadata: str | None = None


@dataclass(slots=True)
class TokenUsageInfo:
    """codex `TokenUsageInfo` (protocol.rs): the session's summed usage, the last response's,
    and the effective context window."""

    total: TokenUsage
    last: TokenUsage
    model_context_window: int | None = None

    @classmethod
    def new_or_append(
        cls, info: TokenUsageInfo | None, last: TokenUsage, model_context_window: int | None
    ) -> TokenUsageInfo:
        if info is None:
            info = cls(
                total=TokenUsage(), last=TokenUsage(), model_context_window=model_context_window
            )
        info.total = info.total + last
        info.last = last
        if model_context_window is not None:
            info.model_context_window = model_context_window
        return info

    def fill_to_context_window(self, context_window: int) -> None:
        """The window is full: total = the window, last = what it took to fill it."""
        delta = max(context_window - self.total.total_tokens, 0)
        self.model_context_window = context_window
        self.total = TokenUsage(total_tokens=context_window)
        self.last = TokenUsage(total_tokens=delta)

    @classmethod
    def full_context_window(cls, context_window: int) -> TokenUsageInfo:
        info = cls(total=TokenUsage(), last=TokenUsage(), model_context_window=context_window)
        info.fill_to_context_window(context_window)
        return info


def is_reroute(requested: str, server: str) -> bool:
    """A server model differing case-insensitively from the requested slug (§3.3)."""
    return requested.lower() != server.lower()
