"""Value types shared by the parsers: token usage and rate-limit snapshots.

Their JSON forms are the event payloads (`responses.completed.token_usage`,
`responses.rate_limits.snapshot`) and follow codex's serialised shapes (responses-wire
§2.3, §3.2) so a case can compare them with what codex writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


__all__ = ["CreditsSnapshot", "RateLimitSnapshot", "RateLimitWindow", "TokenUsage"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenUsage:
    """`response.completed.response.usage` flattened the way codex stores it (§2.3)."""

    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_output_tokens: int = 0
    total_tokens: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            input_tokens=self.input_tokens + other.input_tokens,
            cached_input_tokens=self.cached_input_tokens + other.cached_input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            reasoning_output_tokens=self.reasoning_output_tokens + other.reasoning_output_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
        )

    def to_json(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "cached_input_tokens": self.cached_input_tokens,
            "output_tokens": self.output_tokens,
            "reasoning_output_tokens": self.reasoning_output_tokens,
            "total_tokens": self.total_tokens,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimitWindow:
    used_percent: float
    window_minutes: int | None = None
    resets_at: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "used_percent": self.used_percent,
            "window_minutes": self.window_minutes,
            "resets_at": self.resets_at,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditsSnapshot:
    has_credits: bool
    unlimited: bool
    balance: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"has_credits": self.has_credits, "unlimited": self.unlimited,
                "balance": self.balance}  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimitSnapshot:
    """One limit family (`codex`, `codex_other`, ...) as codex's `RateLimitSnapshot`."""

    limit_id: str = "codex"
    limit_name: str | None = None
    primary: RateLimitWindow | None = None
    secondary: RateLimitWindow | None = None
    credits: CreditsSnapshot | None = None
    plan_type: str | None = None

    def has_data(self) -> bool:
        return self.primary is not None or self.secondary is not None or self.credits is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "limit_id": self.limit_id,
            "limit_name": self.limit_name,
            "primary": self.primary.to_json() if self.primary else None,
            "secondary": self.secondary.to_json() if self.secondary else None,
            "credits": self.credits.to_json() if self.credits else None,
            "plan_type": self.plan_type,
        }
