"""Retry policy, pure: which failures the transport retries and how long to wait.

Both layers use codex's curve `base * 2^(n-1) * U[0.9, 1.1)` (responses-wire §4.1,
§4.3); the base is configurable (`retry_base_delay_ms`) so cases run fast.
"""

from __future__ import annotations

import random

from harness.client.responses.errors import ApiError


__all__ = ["backoff_s", "transport_retryable"]


def backoff_s(base_ms: int, attempt: int, rng: random.Random) -> float:
    """Delay before retry number `attempt` (1-based), in seconds."""
    jitter = rng.uniform(0.9, 1.1)
    return float(base_ms * (2 ** max(attempt - 1, 0)) * jitter / 1000.0)


def transport_retryable(error: ApiError) -> bool:
    """HTTP layer: 5xx and network/timeouts retry; 401, 429 and other 4xx never (§4.1)."""
    if error.kind in ("network", "timeout"):
        return True
    return error.kind == "http" and error.status is not None and error.status >= 500
