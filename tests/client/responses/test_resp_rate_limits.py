"""Rate-limit header families and the websocket `codex.rate_limits` event (§3.2)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.client.responses.headers import Headers
from harness.client.responses.models import CreditsSnapshot, RateLimitSnapshot, RateLimitWindow
from harness.client.responses.rate_limits import (
    parse_promo_message,
    parse_rate_limit_event,
    parse_rate_limit_for_limit,
    parse_rate_limit_updates,
)


def test_default_family_full() -> None:
    headers = Headers.of({
        "x-codex-primary-used-percent": "12.5", "x-codex-primary-window-minutes": "60",
        "x-codex-primary-reset-at": "1704069000", "x-codex-secondary-used-percent": "40",
        "x-codex-secondary-window-minutes": "10080", "x-codex-credits-has-credits": "TRUE",
        "x-codex-credits-unlimited": "0", "x-codex-credits-balance": " 12.5 ",
        "x-codex-limit-name": " codex ",
    })  # fmt: skip
    assert parse_rate_limit_updates(headers) == [
        RateLimitSnapshot(
            limit_name="codex",
            primary=RateLimitWindow(used_percent=12.5, window_minutes=60, resets_at=1704069000),
            secondary=RateLimitWindow(used_percent=40.0, window_minutes=10080),
            credits=CreditsSnapshot(has_credits=True, unlimited=False, balance="12.5"),
        )
    ]


def test_default_snapshot_always_present() -> None:
    assert parse_rate_limit_updates(Headers()) == [RateLimitSnapshot()]


WINDOWS = [
    ({"x-codex-primary-used-percent": "0"}, None),
    ({"x-codex-primary-used-percent": "0", "x-codex-primary-window-minutes": "0"}, None),
    ({"x-codex-primary-used-percent": "0", "x-codex-primary-window-minutes": "5"},
     RateLimitWindow(used_percent=0.0, window_minutes=5)),
    ({"x-codex-primary-used-percent": "0", "x-codex-primary-reset-at": "0"},
     RateLimitWindow(used_percent=0.0, resets_at=0)),
    ({"x-codex-primary-used-percent": "nan"}, None),
    ({"x-codex-primary-used-percent": "inf"}, None),
    ({"x-codex-primary-used-percent": "abc"}, None),
    ({"x-codex-primary-window-minutes": "5"}, None),
    ({"x-codex-primary-used-percent": "3", "x-codex-primary-window-minutes": "x"},
     RateLimitWindow(used_percent=3.0)),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "window"), WINDOWS)
def test_window_exists_only_with_data(raw: dict[str, str], window: RateLimitWindow | None) -> None:
    assert parse_rate_limit_for_limit(Headers.of(raw), None).primary == window


def test_credits_need_both_flags() -> None:
    only_one = Headers.of({"x-codex-credits-has-credits": "true"})
    bad = Headers.of({"x-codex-credits-has-credits": "yes", "x-codex-credits-unlimited": "1"})
    assert parse_rate_limit_for_limit(only_one, None).credits is None
    assert parse_rate_limit_for_limit(bad, None).credits is None


def test_other_families_only_with_data_sorted() -> None:
    headers = Headers.of({
        "X-Codex-Other-Primary-Used-Percent": "80", "x-codex-other-limit-name": "gpt-5.2-codex-sonic",
        "x-zeta-primary-used-percent": "0", "x-alpha-primary-used-percent": "1",
    })  # fmt: skip
    snapshots = parse_rate_limit_updates(headers)
    assert [s.limit_id for s in snapshots] == ["codex", "alpha", "codex_other"]
    assert snapshots[2].limit_name == "gpt-5.2-codex-sonic"
    assert snapshots[2].primary == RateLimitWindow(used_percent=80.0)


def test_active_limit_family_by_id() -> None:
    headers = Headers.of({"x-codex-bengalfox-primary-used-percent": "100"})
    snapshot = parse_rate_limit_for_limit(headers, "codex_bengalfox")
    assert snapshot.limit_id == "codex_bengalfox"
    assert snapshot.primary == RateLimitWindow(used_percent=100.0)


def test_promo_message() -> None:
    assert parse_promo_message(Headers.of({"x-codex-promo-message": " Try Pro "})) == "Try Pro"
    assert parse_promo_message(Headers.of({"x-codex-promo-message": "  "})) is None


def test_snapshot_json_shape() -> None:
    snapshot = RateLimitSnapshot(primary=RateLimitWindow(used_percent=12.5, window_minutes=10,
                                                         resets_at=1704069000))  # fmt: skip
    assert snapshot.to_json() == {
        "limit_id": "codex", "limit_name": None,
        "primary": {"used_percent": 12.5, "window_minutes": 10, "resets_at": 1704069000},
        "secondary": None, "credits": None, "plan_type": None,
    }  # fmt: skip


EVENTS: list[tuple[dict[str, Any], RateLimitSnapshot | None]] = [
    ({"type": "codex.rate_limits"}, RateLimitSnapshot()),
    ({"type": "codex.rate_limits", "limit_name": "Codex-Other"},
     RateLimitSnapshot(limit_id="codex_other")),
    ({"type": "codex.rate_limits", "metered_limit_name": "a", "limit_name": "b"},
     RateLimitSnapshot(limit_id="a")),
    ({"type": "codex.rate_limits", "rate_limits": {"primary": {"used_percent": 5.5},
                                                   "secondary": {"used_percent": 1,
                                                                 "window_minutes": 7}}},
     RateLimitSnapshot(primary=RateLimitWindow(used_percent=5.5),
                       secondary=RateLimitWindow(used_percent=1.0, window_minutes=7))),
    ({"type": "codex.rate_limits", "rate_limits": {"primary": {"window_minutes": 7}}}, None),
    ({"type": "codex.rate_limits", "credits": {"has_credits": True}}, None),
    ({"type": "other"}, None),
]  # fmt: skip


@pytest.mark.parametrize(("event", "expected"), EVENTS)
def test_rate_limit_event(event: dict[str, Any], expected: RateLimitSnapshot | None) -> None:
    assert parse_rate_limit_event(event) == expected
