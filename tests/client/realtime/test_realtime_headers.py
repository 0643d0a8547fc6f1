"""Handshake headers and their merge rule (realtime-wire §1 "Request headers")."""

from __future__ import annotations

import pytest

from harness.client.realtime.headers import (
    handshake_headers,
    merge_request_headers,
    resolve_api_key,
)
from harness.client.realtime.kinds import SessionKind
from harness.client.realtime.profile import PRESETS


def test_merge_rule_from_reference_unit_test():
    merged = merge_request_headers(
        {"originator": "provider", "x-priority": "provider"},
        {"x-priority": "extra"},
        {"originator": "default", "x-default-only": "default"},
    )
    assert merged == {"originator": "provider", "x-priority": "extra", "x-default-only": "default"}


def test_merge_is_case_insensitive():
    merged = merge_request_headers({"X-Thing": "p"}, {"x-thing": "e"}, {"X-THING": "d"})
    assert merged == {"x-thing": "e"}


@pytest.mark.parametrize(
    ("bearer", "api_key", "expected"),
    [
        ("token", "key", "token"),
        ("", "key", "key"),  # an empty bearer token is ignored
        (None, "key", "key"),
        (None, "", None),
        (None, None, None),
    ],
)
def test_resolve_api_key(bearer, api_key, expected):
    assert resolve_api_key(bearer_token=bearer, api_key=api_key) == expected


def test_handshake_headers_rc_v1():
    headers = handshake_headers(
        provider_headers={"X-Provider": "p"},
        api_key="dummy",
        session_id="sess_1",
        kind=SessionKind.V1,
        profile=PRESETS["r-c"],
    )
    assert headers == {
        "x-provider": "p",
        "x-session-id": "sess_1",
        "authorization": "Bearer dummy",
        "originator": "codex_cli_rs",
        "user-agent": "wireplay-reference/0.1.0",
    }
    assert "openai-beta" not in headers


def test_provider_cannot_override_authorization_but_beats_default_originator():
    headers = handshake_headers(
        provider_headers={"Authorization": "Bearer provider", "originator": "custom"},
        api_key="dummy",
        session_id=None,
        kind=SessionKind.V2,
        profile=PRESETS["r-c"],
    )
    assert headers["authorization"] == "Bearer dummy"
    assert headers["originator"] == "custom"
    assert "x-session-id" not in headers


@pytest.mark.parametrize(
    ("preset", "kind", "expected"),
    [
        ("r-c", SessionKind.V1, None),
        ("later", SessionKind.V1, "quicksilver=v1"),
        ("later", SessionKind.V2, None),
    ],
)
def test_alpha_header_per_profile(preset, kind, expected):
    headers = handshake_headers(
        provider_headers=None, api_key="k", session_id="s", kind=kind, profile=PRESETS[preset]
    )
    assert headers.get("openai-alpha") == expected
