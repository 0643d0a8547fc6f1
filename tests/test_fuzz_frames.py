"""Property-based fuzzing of server frames sent to the reference client.

Arbitrary JSON, truncated JSON, huge strings, wrong types for known event types and
unknown types go through the pure cores (every example) and, a few, through a real
loopback connection. The client may report errors, but it must never raise out of
its parsers, and over the wire it must never hang or crash (outcome ERROR/TIMEOUT).
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from harness.adapters.reference import ReferenceAdapter
from harness.case.loader import parse_case_text
from harness.client.realtime.kinds import SessionKind, SessionMode
from harness.client.realtime.profile import RealtimeProfile
from harness.client.realtime.session import RealtimeSession
from harness.client.responses.profile import ResponsesProfile
from harness.client.responses.stream import StreamProcessor
from harness.runner import run_case
from harness.vocabulary import vocabulary_problems


REALTIME_TYPES = [
    "session.updated", "conversation.output_audio.delta", "conversation.input_transcript.delta",
    "conversation.output_transcript.delta", "conversation.item.added", "conversation.item.done",
    "conversation.handoff.requested", "error", "response.output_audio.delta", "response.audio.delta",
    "conversation.item.input_audio_transcription.delta", "conversation.item.input_audio_transcription.completed",
    "response.output_text.delta", "response.output_audio_transcript.delta", "input_audio_buffer.speech_started",
    "response.created", "response.done", "response.cancelled",
]
RESPONSES_TYPES = [
    "response.created", "response.output_item.added", "response.output_item.done", "response.output_text.delta",
    "response.reasoning_summary_text.delta", "response.reasoning_text.delta", "response.reasoning_summary_part.added",
    "response.completed", "response.failed", "response.incomplete", "response.done", "codex.rate_limits", "error",
    "response.metadata", "codex.response.metadata",
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
huge = st.integers(min_value=10_000, max_value=200_000).map(lambda n: "x" * n)
field_names = st.sampled_from(["delta", "item", "response", "session", "error", "id", "item_id", "call_id", "name",
                               "arguments", "message", "status", "headers", "rate_limits", "usage", "output"])


def known_type_frames(types: list[str]) -> st.SearchStrategy[str]:
    """Known types with fields of arbitrary (often wrong) types and sizes."""
    event = st.fixed_dictionaries(
        {"type": st.sampled_from(types)},
        optional=dict.fromkeys(["delta", "item", "response", "session", "error", "arguments", "headers"], json_values | huge),
    )
    return event.map(json.dumps)


def frames(types: list[str]) -> st.SearchStrategy[str]:
    arbitrary = json_values.map(json.dumps)
    unknown = st.dictionaries(field_names, json_values, max_size=4).map(lambda d: json.dumps({"type": "future.event", **d}))
    known = known_type_frames(types)
    truncated = known.flatmap(lambda text: st.integers(0, max(0, len(text) - 1)).map(lambda n: text[:n]))
    raw = st.text(max_size=200)
    return st.one_of(arbitrary, unknown, known, truncated, raw)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([SessionKind.V1, SessionKind.V2]), st.lists(frames(REALTIME_TYPES), max_size=6))
def test_realtime_session_never_raises(kind, payloads):
    session = RealtimeSession(kind=kind, mode=SessionMode.CONVERSATIONAL, instructions="x", profile=RealtimeProfile())
    session.open()
    for payload in payloads:
        step = session.receive_text(payload)
        for event in step.events:
            assert isinstance(event, dict) and isinstance(event.get("type"), str)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["sse", "websocket"]), st.lists(frames(RESPONSES_TYPES), max_size=6))
def test_responses_stream_never_raises(transport, payloads):
    stream = StreamProcessor(transport=transport, profile=ResponsesProfile())
    for payload in payloads:
        stream.feed(payload)


CASE = """
id: foundation.fuzz.frames
title: fuzzed frames over a real connection
seed: foundation
timeout: 8
client:
  config:
    realtime: {version: v2, api_key: sk-test-fuzz, close_timeout_ms: 200}
  steps:
    - realtime.start: {prompt: fuzz}
    - sleep: 0.05
    - realtime.close: {}
server:
  exchanges:
    - websocket: {path: /v1/realtime}
      extra_messages: allow
      script:
        - expect: {type: session.update}
"""


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(frames(REALTIME_TYPES), min_size=1, max_size=5))
@example(["\U00010000"])  # JSON writes it as a surrogate pair escape, which libyaml refuses
@example(["\ud800"])  # a lone surrogate: not valid UTF-8 on the wire
def test_fuzzed_frames_over_the_wire_never_hang_or_crash_the_client(payloads):
    text = CASE + "".join(f"        - send_text: {json.dumps(p)}\n" for p in payloads)
    case = parse_case_text(text, file=Path("cases/foundation/fuzz.yaml"))
    run = run_case(case, adapter=ReferenceAdapter())
    assert run.status == "completed", run.error
    for _, event in run.events:
        assert vocabulary_problems(event) == [], event
