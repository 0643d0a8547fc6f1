"""Rate-limit parsing: `x-{limit}-*` header families and the websocket event (§3.2).

Both sources produce the same `RateLimitSnapshot`, so HTTP and websocket runs report
the same `responses.rate_limits` event.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from harness.client.responses.headers import Headers
from harness.client.responses.models import CreditsSnapshot, RateLimitSnapshot, RateLimitWindow


__all__ = [
    "ACTIVE_LIMIT",
    "parse_promo_message",
    "parse_rate_limit_event",
    "parse_rate_limit_for_limit",
    "parse_rate_limit_updates",
]

ACTIVE_LIMIT = "x-codex-active-limit"
_USED_SUFFIX = "-primary-used-percent"


def parse_rate_limit_updates(headers: Headers) -> list[RateLimitSnapshot]:
    """Every family: the default `codex` one always (even empty), others only with data."""
    snapshots = [parse_rate_limit_for_limit(headers, None)]
    limit_ids = sorted(
        {
            _normalize_limit_id(name[2 : -len(_USED_SUFFIX)])
            for name in headers.names()
            if name.startswith("x-") and name.endswith(_USED_SUFFIX)
        }
        - {"codex"}
    )
    for limit_id in limit_ids:
        snapshot = parse_rate_limit_for_limit(headers, limit_id)
        if snapshot.has_data():
            snapshots.append(snapshot)
    return snapshots


def parse_rate_limit_for_limit(headers: Headers, limit_id: str | None) -> RateLimitSnapshot:
    """One family; `limit_id` `codex_other` reads headers `x-codex-other-*`."""
    normalized = (limit_id or "").strip() or "codex"
    prefix = "x-" + normalized.lower().replace("_", "-")
    name = headers.get(f"{prefix}-limit-name")
    return RateLimitSnapshot(
        limit_id=_normalize_limit_id(normalized.lower().replace("_", "-")),
        limit_name=(name.strip() or None) if name is not None else None,
        primary=_window(headers, f"{prefix}-primary"),
        secondary=_window(headers, f"{prefix}-secondary"),
        credits=_credits(headers),
    )


def parse_promo_message(headers: Headers) -> str | None:
    value = headers.get("x-codex-promo-message")
    return (value.strip() or None) if value is not None else None


def parse_rate_limit_event(event: Mapping[str, Any]) -> RateLimitSnapshot | None:
    """The websocket `codex.rate_limits` event; None when it does not parse (§3.2)."""
    if event.get("type") != "codex.rate_limits":
        return None
    details = event.get("rate_limits")
    primary = secondary = None
    if details is not None:
        if not isinstance(details, Mapping):
            return None
        try:
            primary = _event_window(details.get("primary"))
            secondary = _event_window(details.get("secondary"))
        except ValueError:
            return None
    credit_snapshot = None
    raw_credits = event.get("credits")
    if raw_credits is not None:
        if not (
            isinstance(raw_credits, Mapping)
            and isinstance(raw_credits.get("has_credits"), bool)
            and isinstance(raw_credits.get("unlimited"), bool)
            and isinstance(raw_credits.get("balance"), str | None)
        ):
            return None
        credit_snapshot = CreditsSnapshot(
            has_credits=raw_credits["has_credits"],
            unlimited=raw_credits["unlimited"],
            balance=raw_credits.get("balance"),
        )
    # codex deserializes the whole event into a typed struct (`RateLimitEvent`): a field of
    # the wrong type fails it, and the event gives no snapshot at all.
    names = [event.get(key) for key in ("metered_limit_name", "limit_name")]
    plan_type = event.get("plan_type")
    if not all(isinstance(value, str | None) for value in (*names, plan_type)):
        return None
    # `metered_limit_name.or(limit_name)`: the fallback applies only when the first is
    # absent or null; an empty name is still a name (normalised to "").
    limit = next((name for name in names if name is not None), None)
    return RateLimitSnapshot(
        limit_id=_normalize_limit_id(limit) if limit is not None else "codex",
        primary=primary,
        secondary=secondary,
        credits=credit_snapshot,
        plan_type=plan_type,
    )


def _event_window(raw: object) -> RateLimitWindow | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ValueError("window")
    used = raw.get("used_percent")
    if isinstance(used, bool) or not isinstance(used, int | float):
        raise ValueError("used_percent")
    minutes, reset = raw.get("window_minutes"), raw.get("reset_at")
    for value in (minutes, reset):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError("integer")
    return RateLimitWindow(used_percent=float(used), window_minutes=minutes, resets_at=reset)


def _window(headers: Headers, prefix: str) -> RateLimitWindow | None:
    used = _float(headers.get(f"{prefix}-used-percent"))
    if used is None:
        return None
    minutes = _int(headers.get(f"{prefix}-window-minutes"))
    reset = _int(headers.get(f"{prefix}-reset-at"))
    # A window exists only when it says something (§3.2).
    if used == 0.0 and not minutes and reset is None:
        return None
    return RateLimitWindow(used_percent=used, window_minutes=minutes, resets_at=reset)


def _credits(headers: Headers) -> CreditsSnapshot | None:
    has_credits = _bool(headers.get("x-codex-credits-has-credits"))
    unlimited = _bool(headers.get("x-codex-credits-unlimited"))
    if has_credits is None or unlimited is None:
        return None
    balance = headers.get("x-codex-credits-balance")
    balance = (balance.strip() or None) if balance is not None else None
    return CreditsSnapshot(has_credits=has_credits, unlimited=unlimited, balance=balance)


def _float(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _int(raw: str | None) -> int | None:
    if raw is None:
        return None
    text = raw.strip()
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isdigit() or not digits.isascii():
        return None
    return int(text)


def _bool(raw: str | None) -> bool | None:
    if raw is None:
        return None
    if raw.lower() == "true" or raw == "1":
        return True
    if raw.lower() == "false" or raw == "0":
        return False
    return None


def _normalize_limit_id(name: str) -> str:
    return name.strip().lower().replace("-", "_")
