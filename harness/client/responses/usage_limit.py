"""The `usage_limit_reached` display text, which depends on plan, limit and reset time.

Codex formats the reset time in local time; the reference client uses UTC so runs are
reproducible on any machine (responses-wire §4.2 `UsageLimitReached`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


__all__ = ["UsageLimit", "usage_limit_message"]

_HIT = "You've hit your usage limit."
_TEAM = frozenset({"team", "business", "self_serve_business_usage_based",
                   "enterprise_cbp_usage_based"})  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageLimit:
    plan_type: str | None = None
    resets_at: int | None = None
    limit_name: str | None = None
    promo_message: str | None = None


def usage_limit_message(limit: UsageLimit, *, now_s: float) -> str:
    """Pick the text by limit name, promo, then plan (codex `UsageLimitReachedError`)."""
    after_or = _after_or(limit.resets_at, now_s)
    name = (limit.limit_name or "").strip()
    if name and name.lower() != "codex":
        return f"You've hit your usage limit for {name}. Switch to another model now,{after_or}"
    if limit.promo_message:
        return f"{_HIT} {limit.promo_message},{after_or}"
    plan = (limit.plan_type or "").lower()
    if plan == "plus":
        return (
            f"{_HIT} Upgrade to Pro (https://chatgpt.com/explore/pro), visit "
            f"https://chatgpt.com/codex/settings/usage to purchase more credits{after_or}"
        )
    if plan in _TEAM:
        return f"{_HIT} To get more access now, send a request to your admin{after_or}"
    if plan in ("free", "go"):
        return (
            f"{_HIT} Upgrade to Plus to continue using Codex "
            f"(https://chatgpt.com/explore/plus),{after_or}"
        )
    if plan in ("pro", "prolite"):
        return (
            f"{_HIT} Visit https://chatgpt.com/codex/settings/usage to purchase more "
            f"credits{after_or}"
        )
    return f"{_HIT}{_retry_suffix(limit.resets_at, now_s)}"


def _retry_suffix(resets_at: int | None, now_s: float) -> str:
    if resets_at is None:
        return " Try again later."
    return f" Try again at {format_retry_timestamp(resets_at, now_s)}."


def _after_or(resets_at: int | None, now_s: float) -> str:
    if resets_at is None:
        return " or try again later."
    return f" or try again at {format_retry_timestamp(resets_at, now_s)}."


def format_retry_timestamp(resets_at: int, now_s: float) -> str:
    """`3:07 PM` on the same day, else `Jan 2nd, 2024 3:07 PM` (UTC)."""
    reset = dt.datetime.fromtimestamp(resets_at, tz=dt.UTC)
    now = dt.datetime.fromtimestamp(now_s, tz=dt.UTC)
    clock = f"{reset.hour % 12 or 12}:{reset.minute:02d} {'AM' if reset.hour < 12 else 'PM'}"
    if reset.date() == now.date():
        return clock
    return f"{reset.strftime('%b')} {reset.day}{_day_suffix(reset.day)}, {reset.year} {clock}"


def _day_suffix(day: int) -> str:
    if 11 <= day <= 13:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
