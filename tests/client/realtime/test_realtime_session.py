"""The input-task state machine (realtime-wire §6.4, §6.5), without sockets."""

from __future__ import annotations

import base64
import json

import pytest

from harness.client.realtime.inbound import AudioOut
from harness.client.realtime.kinds import SessionKind, SessionMode
from harness.client.realtime.profile import PRESETS, resolve_profile
from harness.client.realtime.session import OutputAudio, RealtimeSession, Step, audio_duration_ms


RC = PRESETS["r-c"]
PREFIX = '"Agent Final Message":\n\n'
RESPONSE_CREATE = {"type": "response.create"}
RESPONSE_CREATED = {"type": "response.created", "response": {"id": "resp_1"}}
RESPONSE_DONE = {"type": "response.done", "response": {"id": "resp_1", "output": []}}
CODEX_CALL_DONE = {
    "type": "conversation.item.done",
    "item": {
        "type": "function_call",
        "name": "codex",
        "call_id": "call_1",
        "id": "item_1",
        "arguments": '{"prompt":"go"}',
    },
}


def make(kind, *, mode=SessionMode.CONVERSATIONAL, profile=RC):
    return RealtimeSession(kind=kind, mode=mode, instructions="prompt", profile=profile)


def feed(session, obj):
    return session.receive_text(json.dumps(obj))


def pcm(num_samples, channels=1):
    return base64.b64encode(b"\x00\x00" * num_samples * channels).decode()


def user_text(text, content_type):
    return {
        "type": "conversation.item.create",
        "item": {
            "type": "message",
            "role": "user",
            "content": [{"type": content_type, "text": text}],
        },
    }


def test_open_sends_one_session_update():
    step = make(SessionKind.V1).open()
    assert [frame["type"] for frame in step.frames] == ["session.update"]
    assert step.frames[0]["session"]["instructions"] == "prompt"
    assert step.events == ()


def test_v1_transcription_mode_is_normalised():
    session = make(SessionKind.V1, mode=SessionMode.TRANSCRIPTION)
    assert session.mode is SessionMode.CONVERSATIONAL
    assert session.open().frames[0]["session"]["type"] == "quicksilver"


def test_v1_text_has_no_response_create():
    assert make(SessionKind.V1).send_text("hi") == Step(frames=(user_text("hi", "text"),))


def test_v2_text_then_response_create():
    assert make(SessionKind.V2).send_text("hi") == Step(
        frames=(user_text("hi", "input_text"), RESPONSE_CREATE)
    )


def test_v2_text_during_response_defers_create_until_done():
    session = make(SessionKind.V2)
    created = feed(session, RESPONSE_CREATED)
    assert created == Step(events=({"type": "realtime.item_added", "item": RESPONSE_CREATED},))
    assert session.response_in_progress
    assert session.send_text("later") == Step(frames=(user_text("later", "input_text"),))
    assert session.pending_response_create
    done = feed(session, RESPONSE_DONE)
    assert done.frames == (RESPONSE_CREATE,)
    assert done.events == ({"type": "realtime.item_added", "item": RESPONSE_DONE},)
    assert session.response_in_progress
    assert not session.pending_response_create
    # No second flush.
    assert feed(session, RESPONSE_DONE).frames == ()


def test_response_cancelled_flushes_on_v2():
    session = make(SessionKind.V2)
    feed(session, RESPONSE_CREATED)
    session.send_text("x")
    step = feed(session, {"type": "response.cancelled", "response": {"id": "resp_1"}})
    assert step == Step(
        frames=(RESPONSE_CREATE,),
        events=({"type": "realtime.response_cancelled", "response_id": "resp_1"},),
    )


def test_active_response_error_is_swallowed_and_retried():
    session = make(SessionKind.V2)
    error = {
        "type": "error",
        "error": {"message": "Conversation already has an active response in progress: resp_1"},
    }
    assert feed(session, error) == Step()
    assert session.response_in_progress
    assert session.pending_response_create
    assert feed(session, RESPONSE_DONE).frames == (RESPONSE_CREATE,)


def test_active_response_error_is_forwarded_on_v1():
    message = "Conversation already has an active response in progress: resp_1"
    step = feed(make(SessionKind.V1), {"type": "error", "message": message})
    assert step == Step(events=({"type": "realtime.error", "message": message},), stop=True)


@pytest.mark.parametrize("kind", list(SessionKind))
def test_other_error_is_forwarded_and_stops(kind):
    step = feed(make(kind), {"type": "error", "message": "boom"})
    assert step == Step(events=({"type": "realtime.error", "message": "boom"},), stop=True)


@pytest.mark.parametrize("kind", list(SessionKind))
def test_binary_and_close_stop_with_reference_messages(kind):
    session = make(kind)
    assert session.receive_binary() == Step(
        events=(
            {"type": "realtime.error", "message": "unexpected binary realtime websocket event"},
        ),
        stop=True,
    )
    assert session.transport_closed() == Step(
        events=({"type": "realtime.error", "message": "realtime websocket connection is closed"},),
        stop=True,
    )


@pytest.mark.parametrize("payload", ["{", '{"type":"response.output_item.added"}'])
def test_unknown_frames_produce_nothing(payload):
    assert make(SessionKind.V2).receive_text(payload) == Step()


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (AudioOut(pcm(2400), 24000, 1), 100),
        (AudioOut(pcm(2400, channels=2), 24000, 2), 100),
        (AudioOut(pcm(100), 24000, 1, samples_per_channel=480), 20),
        (AudioOut(pcm(4), 0, 0), 4000),  # sample rate and channels are at least 1
        (AudioOut("!!not base64!!", 24000, 1), 0),
        (AudioOut(pcm(23), 24000, 1), 0),  # integer maths rounds down
        (AudioOut(pcm(24), 24000, 1), 1),
    ],
)
def test_audio_duration_ms(frame, expected):
    assert audio_duration_ms(frame) == expected


def audio_delta(item_id, samples, **extra):
    return {
        "type": "response.output_audio.delta",
        "delta": pcm(samples),
        "item_id": item_id,
        **extra,
    }


def test_barge_in_truncates_accumulated_audio():
    session = make(SessionKind.V2)
    feed(session, audio_delta("item_a", 2400))
    feed(session, audio_delta("item_a", 1200))
    assert session.output_audio == OutputAudio("item_a", 150)
    step = feed(session, {"type": "input_audio_buffer.speech_started", "item_id": "item_a"})
    assert step.frames == (
        {
            "type": "conversation.item.truncate",
            "item_id": "item_a",
            "content_index": 0,
            "audio_end_ms": 150,
        },
    )
    assert step.events == ({"type": "realtime.speech_started", "item_id": "item_a"},)
    assert session.output_audio is None
    assert feed(session, {"type": "input_audio_buffer.speech_started"}).frames == ()


def test_new_item_restarts_audio_tracking_and_untracked_frames_are_ignored():
    session = make(SessionKind.V2)
    feed(session, audio_delta("item_a", 2400))
    feed(session, audio_delta("item_b", 480))
    feed(session, {"type": "response.output_audio.delta", "delta": pcm(2400)})  # no item_id
    feed(session, audio_delta("item_b", 0))  # zero duration
    assert session.output_audio == OutputAudio("item_b", 20)
    step = feed(session, {"type": "input_audio_buffer.speech_started"})
    assert step.frames[0]["audio_end_ms"] == 20


def test_speech_for_other_item_sends_no_truncate_but_resets():
    session = make(SessionKind.V2)
    feed(session, audio_delta("item_a", 2400))
    assert (
        feed(session, {"type": "input_audio_buffer.speech_started", "item_id": "other"}).frames
        == ()
    )
    assert session.output_audio is None


@pytest.mark.parametrize("reset", [RESPONSE_DONE, {"type": "response.cancelled"}, CODEX_CALL_DONE])
def test_audio_state_reset(reset):
    session = make(SessionKind.V2)
    feed(session, audio_delta("item_a", 2400))
    feed(session, reset)
    assert session.output_audio is None


def test_v1_never_truncates():
    session = make(SessionKind.V1)
    feed(
        session,
        {
            "type": "conversation.output_audio.delta",
            "delta": pcm(2400),
            "sample_rate": 24000,
            "channels": 1,
        },
    )
    assert session.output_audio is None
    step = feed(session, {"type": "input_audio_buffer.speech_started"})
    assert step == Step()


def v1_handoff(session, handoff_id="handoff_1"):
    return feed(
        session,
        {
            "type": "conversation.handoff.requested",
            "handoff_id": handoff_id,
            "item_id": "item_2",
            "input_transcript": "delegate now",
        },
    )


def test_v1_handoff_attaches_transcript_and_appends_each_output():
    session = make(SessionKind.V1)
    for kind, delta in (("input", "delegate "), ("input", "now"), ("output", "working")):
        feed(session, {"type": f"conversation.{kind}_transcript.delta", "delta": delta})
    step = v1_handoff(session)
    assert step.events == (
        {
            "type": "realtime.handoff_requested",
            "handoff_id": "handoff_1",
            "item_id": "item_2",
            "input_transcript": "delegate now",
            "active_transcript": [
                {"role": "user", "text": "delegate now"},
                {"role": "assistant", "text": "working"},
            ],
        },
    )
    assert session.active_handoff == "handoff_1"
    # The transcript was cleared by the handoff.
    assert v1_handoff(session, "handoff_2").events[0]["active_transcript"] == []
    for text in ("first", "second"):
        assert session.handoff_output(text).frames == (
            {
                "type": "conversation.handoff.append",
                "handoff_id": "handoff_2",
                "output_text": PREFIX + text,
            },
        )
    # The v1 handoff stays active across item.done, until the turn completes.
    feed(session, {"type": "conversation.item.done", "item": {"id": "item_2"}})
    assert session.active_handoff == "handoff_2"
    assert session.turn_complete() == Step()
    assert session.active_handoff is None
    assert session.handoff_output("late") == Step()


def test_handoff_output_without_handoff_is_ignored():
    for kind in SessionKind:
        session = make(kind)
        assert session.handoff_output("x") == Step()
        assert session.last_output_text is None


def test_v2_handoff_keeps_last_output_for_final_tool_call():
    session = make(SessionKind.V2)
    feed(session, {"type": "conversation.item.input_audio_transcription.delta", "delta": "go"})
    step = feed(session, CODEX_CALL_DONE)
    # R-C attaches the active transcript on v1 only.
    assert step.events[0]["active_transcript"] == []
    assert step.events[0]["handoff_id"] == "call_1"
    assert session.handoff_output("draft") == Step()
    assert session.handoff_output("final answer") == Step()
    assert session.turn_complete() == Step(
        frames=(
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "function_call_output",
                    "call_id": "call_1",
                    "output": PREFIX + "final answer",
                },
            },
            RESPONSE_CREATE,
        )
    )
    assert session.active_handoff is None
    assert session.last_output_text is None
    assert session.turn_complete() == Step()


def test_v2_final_tool_call_defers_response_create():
    session = make(SessionKind.V2)
    feed(session, CODEX_CALL_DONE)
    session.handoff_output("result")
    feed(session, RESPONSE_CREATED)
    step = session.turn_complete()
    assert [frame["type"] for frame in step.frames] == ["conversation.item.create"]
    assert feed(session, RESPONSE_DONE).frames == (RESPONSE_CREATE,)


def test_v2_turn_complete_without_output_sends_nothing():
    session = make(SessionKind.V2)
    feed(session, CODEX_CALL_DONE)
    assert session.turn_complete() == Step()


def test_handoff_clears_response_in_progress():
    session = make(SessionKind.V2)
    feed(session, RESPONSE_CREATED)
    feed(session, CODEX_CALL_DONE)
    assert not session.response_in_progress


def test_profile_settings_change_handoff_behaviour():
    # R-A: no prefix, transcript on v2 handoffs too.
    session = make(SessionKind.V2, profile=PRESETS["r-a"])
    feed(session, {"type": "response.output_audio_transcript.delta", "delta": "ok"})
    assert feed(session, CODEX_CALL_DONE).events[0]["active_transcript"] == [
        {"role": "assistant", "text": "ok"}
    ]
    session.handoff_output("plain")
    assert session.turn_complete().frames[0]["item"]["output"] == "plain"
    # A single override on top of R-C.
    session = make(SessionKind.V1, profile=resolve_profile({"handoff_transcript_versions": []}))
    feed(session, {"type": "conversation.input_transcript.delta", "delta": "x"})
    assert v1_handoff(session).events[0]["active_transcript"] == []
