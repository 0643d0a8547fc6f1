"""Parsing of server frames (realtime-wire §4) and the active transcript (§5)."""

from __future__ import annotations

import json

import pytest

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
    TranscriptAccumulator,
    TranscriptEntry,
    extract_input_transcript,
    parse_event,
)
from harness.client.realtime.kinds import SessionKind
from harness.client.realtime.profile import PRESETS


RC = PRESETS["r-c"]


def v1(obj):
    return parse_event(json.dumps(obj), kind=SessionKind.V1, profile=RC)


def v2(obj, profile=RC):
    return parse_event(json.dumps(obj), kind=SessionKind.V2, profile=profile)


CODEX_CALL = {
    "type": "function_call",
    "name": "codex",
    "call_id": "call_1",
    "id": "item_1",
    "arguments": '{"prompt":"delegate now"}',
}
RESPONSE_CREATED = {"type": "response.created", "response": {"id": "resp_1"}}
RESPONSE_DONE = {"type": "response.done", "response": {"id": "resp_1", "output": []}}


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (
            {"type": "session.updated", "session": {"id": "sess_1", "instructions": "hi"}},
            SessionUpdated("sess_1", "hi"),
        ),
        ({"type": "session.updated", "session": {"id": "sess_1"}}, SessionUpdated("sess_1")),
        ({"type": "session.updated", "session": {"instructions": "no id"}}, None),
        (
            {
                "type": "conversation.output_audio.delta",
                "delta": "AAA=",
                "sample_rate": 24000,
                "channels": 1,
            },
            AudioOut("AAA=", 24000, 1),
        ),
        (
            {
                "type": "conversation.output_audio.delta",
                "data": "AAA=",
                "sample_rate": 16000,
                "num_channels": 2,
                "samples_per_channel": 512,
                "item_id": "ignored on v1",
            },
            AudioOut("AAA=", 16000, 2, 512, None),
        ),
        ({"type": "conversation.output_audio.delta", "delta": "AAA=", "channels": 1}, None),
        ({"type": "conversation.output_audio.delta", "delta": "AAA=", "sample_rate": 24000}, None),
        (
            {"type": "conversation.input_transcript.delta", "delta": "hel"},
            InputTranscriptDelta("hel"),
        ),
        ({"type": "conversation.input_transcript.delta"}, None),
        (
            {"type": "conversation.output_transcript.delta", "delta": "lo"},
            OutputTranscriptDelta("lo"),
        ),
        ({"type": "conversation.item.added", "item": {"id": "i1"}}, ItemAdded({"id": "i1"})),
        ({"type": "conversation.item.added"}, None),
        ({"type": "conversation.item.done", "item": {"id": "i1"}}, ItemDone("i1")),
        (
            {
                "type": "conversation.handoff.requested",
                "handoff_id": "handoff_1",
                "item_id": "item_2",
                "input_transcript": "delegate now",
            },
            HandoffRequested("handoff_1", "item_2", "delegate now"),
        ),
        ({"type": "conversation.handoff.requested", "handoff_id": "h", "item_id": "i"}, None),
        ({"type": "error", "message": "boom"}, ServerError("boom")),
        ({"type": "error", "error": {"message": "nested"}}, ServerError("nested")),
        ({"type": "error", "error": {"code": "x"}}, ServerError('{"code":"x"}')),
        ({"type": "error"}, None),
        # v2-only types are ignored by the v1 parser.
        (RESPONSE_CREATED, None),
        ({"type": "input_audio_buffer.speech_started"}, None),
        ({"type": "response.output_audio.delta", "delta": "AAA="}, None),
    ],
)
def test_v1_parse(frame, expected):
    assert v1(frame) == expected


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ({"type": "session.updated", "session": {"id": "sess_2"}}, SessionUpdated("sess_2")),
        ({"type": "response.output_audio.delta", "delta": "AAA="}, AudioOut("AAA=", 24000, 1)),
        (
            {
                "type": "response.audio.delta",
                "delta": "AAA=",
                "sample_rate": 48000,
                "num_channels": 2,
                "samples_per_channel": 10,
                "item_id": "item_a",
            },
            AudioOut("AAA=", 48000, 2, 10, "item_a"),
        ),
        ({"type": "response.output_audio.delta", "data": "AAA="}, None),
        (
            {"type": "conversation.item.input_audio_transcription.delta", "delta": "he"},
            InputTranscriptDelta("he"),
        ),
        (
            {
                "type": "conversation.item.input_audio_transcription.completed",
                "transcript": "hello",
            },
            InputTranscriptDelta("hello"),
        ),
        ({"type": "response.output_text.delta", "delta": "a"}, OutputTranscriptDelta("a")),
        (
            {"type": "response.output_audio_transcript.delta", "delta": "b"},
            OutputTranscriptDelta("b"),
        ),
        ({"type": "input_audio_buffer.speech_started", "item_id": "u1"}, SpeechStarted("u1")),
        ({"type": "input_audio_buffer.speech_started"}, SpeechStarted(None)),
        ({"type": "conversation.item.added", "item": {"id": "x"}}, ItemAdded({"id": "x"})),
        ({"type": "conversation.item.done", "item": {"id": "x", "type": "message"}}, ItemDone("x")),
        (
            {"type": "conversation.item.done", "item": CODEX_CALL},
            HandoffRequested("call_1", "item_1", "delegate now"),
        ),
        (
            {
                "type": "conversation.item.done",
                "item": {"type": "function_call", "name": "codex", "id": "only_id"},
            },
            HandoffRequested("only_id", "only_id", ""),
        ),
        (
            # An empty call_id / id is present (Rust Option), not a reason to fall back.
            {"type": "conversation.item.done", "item": {**CODEX_CALL, "call_id": ""}},
            HandoffRequested("", "item_1", "delegate now"),
        ),
        (
            {"type": "conversation.item.done", "item": {**CODEX_CALL, "id": ""}},
            HandoffRequested("call_1", "", "delegate now"),
        ),
        (
            {"type": "conversation.item.done", "item": {**CODEX_CALL, "name": "other_tool"}},
            ItemDone("item_1"),
        ),
        (RESPONSE_CREATED, ItemAdded(RESPONSE_CREATED)),
        (RESPONSE_DONE, ItemAdded(RESPONSE_DONE)),
        (
            {
                "type": "response.done",
                "response": {"id": "r", "output": [{"type": "message"}, CODEX_CALL]},
            },
            HandoffRequested("call_1", "item_1", "delegate now"),
        ),
        ({"type": "response.cancelled", "response": {"id": "resp_9"}}, ResponseCancelled("resp_9")),
        ({"type": "response.cancelled", "response_id": "resp_8"}, ResponseCancelled("resp_8")),
        ({"type": "response.cancelled"}, ResponseCancelled(None)),
        ({"type": "error", "error": {"message": "bad"}}, ServerError("bad")),
        # v1-only types are ignored by the v2 parser.
        (
            {
                "type": "conversation.handoff.requested",
                "handoff_id": "h",
                "item_id": "i",
                "input_transcript": "t",
            },
            None,
        ),
        ({"type": "conversation.input_transcript.delta", "delta": "x"}, None),
    ],
)
def test_v2_parse(frame, expected):
    assert v2(frame) == expected


def test_v2_tool_name_follows_profile():
    later_call = {
        "type": "conversation.item.done",
        "item": {**CODEX_CALL, "name": "background_agent"},
    }
    assert v2(later_call, PRESETS["later"]) == HandoffRequested("call_1", "item_1", "delegate now")
    assert v2(later_call) == ItemDone("item_1")


@pytest.mark.parametrize("kind", list(SessionKind))
@pytest.mark.parametrize(
    "payload", ["not json", "[1,2]", '"text"', "{}", '{"type": 3}', '{"type":"unknown.event"}']
)
def test_unparseable_frames_are_skipped(kind, payload):
    assert parse_event(payload, kind=kind, profile=RC) is None


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ("", ""),
        ('{"prompt":"delegate now"}', "delegate now"),
        ("{}", "{}"),
        ("plain text", "plain text"),
        ('{"input_transcript":"  first  ","prompt":"second"}', "first"),
        ('{"input":"   ","text":"fallback"}', "fallback"),
        ('{"query":"q"}', "q"),
        ('{"prompt":7}', '{"prompt":7}'),
        ('["prompt"]', '["prompt"]'),
    ],
)
def test_extract_input_transcript(arguments, expected):
    assert extract_input_transcript(arguments) == expected


def test_accumulator_reference_example_attaches_and_clears():
    acc = TranscriptAccumulator(attach=True)
    for event in (
        InputTranscriptDelta("delegate "),
        InputTranscriptDelta("now"),
        OutputTranscriptDelta("working"),
    ):
        assert acc.observe(event) == event
    handoff = acc.observe(HandoffRequested("handoff_1", "item_2", "delegate now"))
    assert handoff.active_transcript == (
        TranscriptEntry("user", "delegate now"),
        TranscriptEntry("assistant", "working"),
    )
    assert handoff.to_event()["active_transcript"] == [
        {"role": "user", "text": "delegate now"},
        {"role": "assistant", "text": "working"},
    ]
    assert acc.entries == ()
    assert acc.observe(HandoffRequested("h2", "i2", "")).active_transcript == ()


def test_accumulator_ignores_empty_deltas_and_other_events():
    acc = TranscriptAccumulator(attach=True)
    acc.observe(InputTranscriptDelta(""))
    acc.observe(ItemDone("x"))
    acc.observe(OutputTranscriptDelta("a"))
    acc.observe(InputTranscriptDelta("b"))
    acc.observe(InputTranscriptDelta("c"))
    assert acc.entries == (TranscriptEntry("assistant", "a"), TranscriptEntry("user", "bc"))


def test_accumulator_without_attach_keeps_handoff_empty():
    acc = TranscriptAccumulator(attach=False)
    acc.observe(InputTranscriptDelta("hello"))
    handoff = HandoffRequested("h", "i", "t")
    assert acc.observe(handoff) == handoff
