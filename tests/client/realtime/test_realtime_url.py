"""realtime_url against every example URL of realtime-wire §1."""

from __future__ import annotations

import pytest

from harness.client.realtime.kinds import SessionKind
from harness.client.realtime.url import normalize_realtime_path, realtime_url


V1 = SessionKind.V1
V2 = SessionKind.V2
PARAMS = {"trace": "1", "intent": "ignored"}


@pytest.mark.parametrize(
    ("base_url", "version", "model", "params", "expected"),
    [
        (
            "http://127.0.0.1:8011",
            V1,
            None,
            None,
            "ws://127.0.0.1:8011/v1/realtime?intent=quicksilver",
        ),
        (
            "wss://example.com",
            V1,
            "realtime-test-model",
            None,
            "wss://example.com/v1/realtime?intent=quicksilver&model=realtime-test-model",
        ),
        (
            "https://api.openai.com/v1",
            V1,
            "snapshot",
            None,
            "wss://api.openai.com/v1/realtime?intent=quicksilver&model=snapshot",
        ),
        (
            "https://example.com/openai/v1",
            V1,
            "snapshot",
            None,
            "wss://example.com/openai/v1/realtime?intent=quicksilver&model=snapshot",
        ),
        (
            "https://example.com/v1/realtime?foo=bar",
            V1,
            "snapshot",
            PARAMS,
            "wss://example.com/v1/realtime?foo=bar&intent=quicksilver&model=snapshot&trace=1",
        ),
        (
            "https://example.com/v1/realtime?foo=bar",
            V2,
            "snapshot",
            PARAMS,
            "wss://example.com/v1/realtime?foo=bar&model=snapshot&trace=1",
        ),
        # v1 + transcription and v2 + transcription: the mode never changes the URL.
        ("https://example.com", V1, None, None, "wss://example.com/v1/realtime?intent=quicksilver"),
        ("https://example.com", V2, None, None, "wss://example.com/v1/realtime"),
        # Core suite handshake URIs (R-C v1 with a test model; later v2 default model).
        (
            "http://127.0.0.1:9/v1",
            V1,
            "realtime-test-model",
            None,
            "ws://127.0.0.1:9/v1/realtime?intent=quicksilver&model=realtime-test-model",
        ),
        (
            "http://127.0.0.1:9",
            V2,
            "gpt-realtime-1.5",
            None,
            "ws://127.0.0.1:9/v1/realtime?model=gpt-realtime-1.5",
        ),
    ],
)
def test_reference_urls(base_url, version, model, params, expected):
    assert realtime_url(base_url, version=version, model=model, query_params=params) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("", "/v1/realtime"),
        ("/", "/v1/realtime"),
        ("/v1/realtime", "/v1/realtime"),
        ("/proxy/realtime/", "/proxy/realtime"),
        ("/v1", "/v1/realtime"),
        ("/openai/v1/", "/openai/v1/realtime"),
        ("/custom", "/custom"),
    ],
)
def test_path_normalisation(path, expected):
    assert normalize_realtime_path(path) == expected


def test_provider_model_param_kept_without_configured_model():
    url = realtime_url("https://example.com", version=V2, query_params={"model": "from-provider"})
    assert url == "wss://example.com/v1/realtime?model=from-provider"


def test_provider_model_param_dropped_when_model_configured():
    url = realtime_url(
        "https://example.com", version=V2, model="configured", query_params={"model": "x", "a": "b"}
    )
    assert url == "wss://example.com/v1/realtime?model=configured&a=b"


def test_intent_param_never_passed_through_on_v2():
    assert realtime_url("ws://h", version=V2, query_params={"intent": "x"}) == "ws://h/v1/realtime"


def test_no_question_mark_when_nothing_to_add():
    assert realtime_url("wss://h/v1/realtime", version=V2) == "wss://h/v1/realtime"


@pytest.mark.parametrize("scheme", ["ftp", "file", "grpc"])
def test_unsupported_scheme(scheme):
    with pytest.raises(ValueError, match=f"^unsupported realtime api_url scheme: {scheme}$"):
        realtime_url(f"{scheme}://example.com", version=V1)
