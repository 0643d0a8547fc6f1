"""The realtime schemas are valid 2020-12 and agree with what the client emits and accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from harness.client.realtime import events as ev
from harness.client.realtime.config import RealtimeConfig
from harness.client.realtime.inbound import (
    AudioOut,
    HandoffRequested,
    InputTranscriptDelta,
    ItemAdded,
    ItemDone,
    OutputTranscriptDelta,
    ResponseCancelled,
    ServerError,
    SessionUpdated,
    SpeechStarted,
    TranscriptEntry,
)


SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"


def load(area: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / area / "realtime.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


EVENTS = load("events")
CONFIG = load("config")
STEPS = load("steps")


def test_every_event_def_has_a_one_line_description():
    defs = EVENTS.schema["$defs"]
    assert {ref["$ref"].rsplit("/", 1)[1] for ref in EVENTS.schema["oneOf"]} == set(defs)
    for name, definition in defs.items():
        assert definition["properties"]["type"] == {"const": name}
        assert definition["description"] and "\n" not in definition["description"]


EMITTED = [
    ev.conversation_started(session_id="s", version="v1"),
    ev.conversation_closed(reason=ev.REASON_REQUESTED),
    ev.conversation_closed(reason=ev.REASON_TRANSPORT_CLOSED, close_timed_out=True),
    ev.realtime_error("boom"),
    ev.realtime_error("rejected", http_status=401, request_id="req_1"),
    SessionUpdated("s").to_event(),
    SessionUpdated("s", "i").to_event(),
    AudioOut("AA==", 24000, 1).to_event(),
    AudioOut("AA==", 24000, 1, 1, "item").to_event(),
    InputTranscriptDelta("a").to_event(),
    OutputTranscriptDelta("b").to_event(),
    SpeechStarted().to_event(),
    SpeechStarted("i").to_event(),
    ItemAdded({"type": "response.created"}).to_event(),
    ItemAdded([1]).to_event(),
    ItemDone("i").to_event(),
    HandoffRequested("h", "i", "t", (TranscriptEntry("user", "x"),)).to_event(),
    ResponseCancelled().to_event(),
    ResponseCancelled("r").to_event(),
    ServerError("e").to_event(),
]


@pytest.mark.parametrize("event", EMITTED, ids=lambda event: event["type"])
def test_emitted_events_validate(event):
    EVENTS.validate(event)


@pytest.mark.parametrize(
    "event",
    [
        {"type": "conversation.closed", "reason": "requested", "close_timed_out": False},
        {"type": "realtime.error", "message": ""},
        {
            "type": "realtime.audio_out",
            "data": "x",
            "sample_rate": 1,
            "num_channels": 1,
            "item_id": None,
        },
        {"type": "realtime.unknown"},
        {"type": "error", "message": "conversation is not running"},
    ],
)
def test_invalid_events_are_rejected(event):
    assert not EVENTS.is_valid(event)


CONFIGS = [
    {},
    {
        "version": "v2",
        "type": "transcription",
        "model": "m",
        "api_key": "k",
        "close_timeout_ms": 200,
    },
    {"profile": "r-a", "query_params": {"trace": 1}, "headers": {"x": "y"}, "session_id": "s"},
    {"profile": {"preset": "later", "v2_voice": "alloy", "handoff_transcript_versions": ["v1"]}},
    {"backend_prompt": "b", "startup_context": "", "bearer_token": "", "open_timeout_ms": 5000},
]


@pytest.mark.parametrize("config", CONFIGS)
def test_configs_validate_and_parse(config):
    CONFIG.validate(config)
    RealtimeConfig.from_mapping(config)


@pytest.mark.parametrize(
    "config",
    [
        {"version": "v3"},
        {"unknown": 1},
        {"profile": "r-z"},
        {"profile": {"voice": "x"}},
        {"close_timeout_ms": 0},
    ],
)
def test_bad_configs_are_rejected(config):
    assert not CONFIG.is_valid(config)


@pytest.mark.parametrize(
    "step",
    [
        {"op": "realtime.start", "args": {"prompt": "p", "session_id": "s"}},
        {"op": "realtime.start"},
        {"op": "realtime.audio", "args": {"data": "AA==", "sample_rate": 24000, "num_channels": 1}},
        {"op": "realtime.text", "args": {"text": "hi"}},
        {"op": "realtime.handoff_output", "args": {"text": "done"}},
        {"op": "realtime.turn_complete", "args": {}},
        {"op": "realtime.close"},
    ],
)
def test_steps_validate(step):
    STEPS.validate(step)


@pytest.mark.parametrize(
    "step",
    [
        {"op": "realtime.audio", "args": {}},
        {"op": "realtime.text", "args": {"text": 1}},
        {"op": "realtime.close", "args": {"now": True}},
        {"op": "realtime.unknown"},
    ],
)
def test_bad_steps_are_rejected(step):
    assert not STEPS.is_valid(step)
