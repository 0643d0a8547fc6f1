"""Outbound frames, compared with the JSON of realtime-wire §3."""

from __future__ import annotations

import json

import pytest

from harness.client.realtime import outbound
from harness.client.realtime.kinds import SessionKind, SessionMode
from harness.client.realtime.profile import PRESETS, resolve_profile


RC = PRESETS["r-c"]
V1 = SessionKind.V1
V2 = SessionKind.V2

RC_V2_SESSION_UPDATE = json.loads(
    """
{"type":"session.update","session":{"type":"realtime","instructions":"backend prompt",
 "output_modalities":["audio"],
 "audio":{"input":{"format":{"type":"audio/pcm","rate":24000},
                   "noise_reduction":{"type":"near_field"},
                   "turn_detection":{"type":"server_vad","interrupt_response":true,"create_response":true}},
          "output":{"format":{"type":"audio/pcm","rate":24000},"voice":"marin"}},
 "tools":[{"type":"function","name":"codex",
   "description":"Delegate a request to Codex and return the final result to the user. Use this as the default action. If the user asks to do something next, later, after this, or once current work finishes, call this tool so the work is actually queued instead of merely promising to do it later.",
   "parameters":{"type":"object","properties":{"prompt":{"type":"string","description":"The user request to delegate to Codex."}},
                 "required":["prompt"],"additionalProperties":false}}],
 "tool_choice":"auto"}}
"""
)
V1_SESSION_UPDATE = {
    "type": "session.update",
    "session": {
        "type": "quicksilver",
        "instructions": "backend prompt",
        "audio": {
            "input": {"format": {"type": "audio/pcm", "rate": 24000}},
            "output": {"voice": "fathom"},
        },
    },
}
TRANSCRIPTION_SESSION_UPDATE = {
    "type": "session.update",
    "session": {
        "type": "transcription",
        "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000}}},
    },
}


def update(kind, mode, profile=RC):
    return outbound.session_update(
        kind=kind, mode=mode, instructions="backend prompt", profile=profile
    )


@pytest.mark.parametrize("mode", list(SessionMode))
def test_v1_session_update_is_always_quicksilver(mode):
    assert update(V1, mode) == V1_SESSION_UPDATE


def test_v2_conversational_session_update_rc():
    assert update(V2, SessionMode.CONVERSATIONAL) == RC_V2_SESSION_UPDATE


def test_v2_conversational_session_update_ra_minimal():
    session = update(V2, SessionMode.CONVERSATIONAL, PRESETS["r-a"])["session"]
    assert session == {
        "type": "realtime",
        "instructions": "backend prompt",
        "audio": {
            "input": {"format": {"type": "audio/pcm", "rate": 24000}},
            "output": {"voice": "alloy"},
        },
        "tools": [
            {
                "type": "function",
                "name": "codex",
                "description": "Delegate work to Codex and return the result.",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "prompt": {
                            "type": "string",
                            "description": "Prompt text for the delegated Codex task.",
                        }
                    },
                    "required": ["prompt"],
                    "additionalProperties": False,
                },
            }
        ],
    }


def test_later_profile_renames_tool_and_v1_voice():
    v2 = update(V2, SessionMode.CONVERSATIONAL, PRESETS["later"])["session"]
    assert v2["tools"][0]["name"] == "background_agent"
    assert v2["audio"]["output"]["voice"] == "marin"
    assert update(V1, SessionMode.CONVERSATIONAL, PRESETS["later"])["session"]["audio"][
        "output"
    ] == {"voice": "cove"}


def test_profile_override_changes_voice_only():
    profile = resolve_profile({"preset": "r-a", "v2_voice": "marin"})
    assert update(V2, SessionMode.CONVERSATIONAL, profile)["session"]["audio"]["output"] == {
        "voice": "marin"
    }


@pytest.mark.parametrize("preset", ["r-a", "r-c", "later"])
def test_v2_transcription_omits_tools_instructions_and_output(preset):
    frame = update(V2, SessionMode.TRANSCRIPTION, PRESETS[preset])
    assert frame == TRANSCRIPTION_SESSION_UPDATE


def test_audio_append_sends_only_data():
    assert outbound.audio_append("AAAA") == {"type": "input_audio_buffer.append", "audio": "AAAA"}


@pytest.mark.parametrize(("kind", "content_type"), [(V1, "text"), (V2, "input_text")])
def test_text_item(kind, content_type):
    assert outbound.text_item("hello", kind=kind) == {
        "type": "conversation.item.create",
        "item": {
            "type": "message",
            "role": "user",
            "content": [{"type": content_type, "text": "hello"}],
        },
    }


def test_v1_handoff_reply_rc():
    assert outbound.handoff_reply("handoff_1", "assistant says hi", kind=V1, profile=RC) == {
        "type": "conversation.handoff.append",
        "handoff_id": "handoff_1",
        "output_text": '"Agent Final Message":\n\nassistant says hi',
    }


def test_v2_handoff_reply_rc():
    assert outbound.handoff_reply("call_1", "delegated result", kind=V2, profile=RC) == {
        "type": "conversation.item.create",
        "item": {
            "type": "function_call_output",
            "call_id": "call_1",
            "output": '"Agent Final Message":\n\ndelegated result',
        },
    }


@pytest.mark.parametrize(
    ("preset", "kind", "prefixed"),
    [
        ("r-a", V1, False),
        ("r-a", V2, False),
        ("r-c", V1, True),
        ("r-c", V2, True),
        ("later", V1, True),
        ("later", V2, False),
    ],
)
def test_final_message_prefix_per_profile(preset, kind, prefixed):
    text = outbound.final_message_text("x", kind=kind, profile=PRESETS[preset])
    assert text == ('"Agent Final Message":\n\nx' if prefixed else "x")


def test_truncate_and_response_create():
    assert outbound.truncate("item_9", 250) == {
        "type": "conversation.item.truncate",
        "item_id": "item_9",
        "content_index": 0,
        "audio_end_ms": 250,
    }
    assert outbound.response_create() == {"type": "response.create"}
