"""Config keys and profile presets/overrides."""

from __future__ import annotations

import pytest

from harness.client.realtime.config import RealtimeConfig
from harness.client.realtime.kinds import SessionKind, SessionMode
from harness.client.realtime.profile import (
    PRESETS,
    RealtimeProfile,
    V2SessionShape,
    resolve_profile,
)


def test_defaults_are_rc_v1_conversational():
    cfg = RealtimeConfig.from_mapping({})
    assert cfg.kind is SessionKind.V1
    assert cfg.mode is SessionMode.CONVERSATIONAL
    assert cfg.profile == RealtimeProfile()
    assert cfg.profile.name == "r-c"
    assert cfg.model is None
    assert cfg.close_timeout_ms == 1000


def test_v1_transcription_becomes_conversational():
    assert (
        RealtimeConfig.from_mapping({"version": "v1", "type": "transcription"}).mode
        is SessionMode.CONVERSATIONAL
    )
    assert (
        RealtimeConfig.from_mapping({"version": "v2", "type": "transcription"}).mode
        is SessionMode.TRANSCRIPTION
    )


def test_later_profile_defaults_version_and_model():
    cfg = RealtimeConfig.from_mapping({"profile": "later"})
    assert cfg.kind is SessionKind.V2
    assert cfg.model == "gpt-realtime-1.5"
    assert (
        RealtimeConfig.from_mapping({"profile": "later", "model": "m", "version": "v1"}).model
        == "m"
    )


def test_profile_object_overrides_single_settings():
    profile = resolve_profile(
        {
            "preset": "r-a",
            "v2_voice": "marin",
            "final_message_prefix_versions": ["v2"],
            "v2_session_shape": "full",
            "default_version": "v2",
        }
    )
    assert profile.name == "r-a"
    assert profile.v2_voice == "marin"
    assert profile.final_message_prefix_versions == frozenset({SessionKind.V2})
    assert profile.v2_session_shape is V2SessionShape.FULL
    assert profile.default_version is SessionKind.V2
    assert profile.tool_description == PRESETS["r-a"].tool_description


def test_profile_object_without_preset_starts_from_rc():
    assert resolve_profile({"tool_name": "x"}) == PRESETS["r-c"].overridden({"tool_name": "x"})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("r-z", "unknown realtime profile preset: r-z"),
        ({"voice": "x"}, "unknown realtime profile setting: voice"),
        ({"handoff_transcript_versions": "v1"}, "must be a list"),
    ],
)
def test_bad_profiles(value, message):
    with pytest.raises(ValueError, match=message):
        resolve_profile(value)


@pytest.mark.parametrize(
    "config",
    [
        {"version": "v3"},
        {"type": "other"},
        {"close_timeout_ms": 0},
        {"close_timeout_ms": True},
        {"model": 3},
        {"headers": []},
    ],
)
def test_bad_values(config):
    with pytest.raises(ValueError):
        RealtimeConfig.from_mapping(config)


@pytest.mark.parametrize(
    ("config", "prompt", "expected"),
    [
        ({}, "op prompt", "op prompt"),
        ({}, None, ""),
        ({"backend_prompt": "backend"}, "op prompt", "backend"),
        ({"backend_prompt": ""}, "op prompt", ""),
        ({"startup_context": "ctx"}, "p", "p\n\nctx"),
        ({"startup_context": ""}, "p", "p"),
        ({"backend_prompt": "b", "startup_context": "ctx"}, "p", "b\n\nctx"),
    ],
)
def test_instructions(config, prompt, expected):
    assert RealtimeConfig.from_mapping(config).instructions(prompt) == expected


def test_query_params_and_headers_are_strings():
    cfg = RealtimeConfig.from_mapping({"query_params": {"trace": 1}, "headers": {"X-A": "b"}})
    assert cfg.query_params == {"trace": "1"}
    assert cfg.headers == {"X-A": "b"}
