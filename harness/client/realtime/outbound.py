"""Outbound client messages: the JSON text frames the client sends (realtime-wire §3).

Each builder returns a plain dict; key order follows the Rust struct order, but
conformance checks compare JSON values (realtime-wire §10.6).
"""

from __future__ import annotations

from typing import Any

from harness.client.realtime.kinds import SessionKind, SessionMode, normalized_mode
from harness.client.realtime.profile import RealtimeProfile, V2SessionShape


__all__ = [
    "AGENT_FINAL_MESSAGE_PREFIX",
    "AUDIO_SAMPLE_RATE",
    "audio_append",
    "conversation_handoff_append",
    "final_message_text",
    "function_call_output",
    "handoff_reply",
    "noop_output",
    "pre_split_audio",
    "pre_split_session",
    "response_create",
    "session_update",
    "text_item",
    "truncate",
]

AUDIO_SAMPLE_RATE = 24_000
AGENT_FINAL_MESSAGE_PREFIX = '"Agent Final Message":\n\n'

Frame = dict[str, Any]


def _pcm_format() -> dict[str, Any]:
    return {"type": "audio/pcm", "rate": AUDIO_SAMPLE_RATE}


def _v1_session(instructions: str, profile: RealtimeProfile) -> dict[str, Any]:
    # realtime-wire §3.1: no tools, tool_choice, modalities, noise reduction or VAD.
    return {
        "type": "quicksilver",
        "instructions": instructions,
        "audio": {"input": {"format": _pcm_format()}, "output": {"voice": profile.v1_voice}},
    }


def _codex_tool(profile: RealtimeProfile) -> dict[str, Any]:
    return {
        "type": "function",
        "name": profile.tool_name,
        "description": profile.tool_description,
        "parameters": {
            "type": "object",
            "properties": {
                "prompt": {"type": "string", "description": profile.tool_prompt_description}
            },
            "required": ["prompt"],
            "additionalProperties": False,
        },
    }


def _v2_conversational_session(instructions: str, profile: RealtimeProfile) -> dict[str, Any]:
    if profile.v2_session_shape is V2SessionShape.MINIMAL:
        # [R-A] realtime-wire §3.2: voice only, no formats/VAD/tool_choice.
        return {
            "type": "realtime",
            "instructions": instructions,
            "audio": {"input": {"format": _pcm_format()}, "output": {"voice": profile.v2_voice}},
            "tools": [_codex_tool(profile)],
        }
    # R-C realtime-wire §3.2.
    return {
        "type": "realtime",
        "instructions": instructions,
        "output_modalities": ["audio"],
        "audio": {
            "input": {
                "format": _pcm_format(),
                "noise_reduction": {"type": "near_field"},
                "turn_detection": {
                    "type": "server_vad",
                    "interrupt_response": True,
                    "create_response": True,
                },
            },
            "output": {"format": _pcm_format(), "voice": profile.v2_voice},
        },
        "tools": [_codex_tool(profile)],
        "tool_choice": "auto",
    }


def _v2_transcription_session() -> dict[str, Any]:
    # realtime-wire §3.3: no instructions, output audio, tools, tool_choice or modalities.
    return {"type": "transcription", "audio": {"input": {"format": _pcm_format()}}}


def session_update(
    *,
    kind: SessionKind,
    mode: SessionMode,
    instructions: str,
    profile: RealtimeProfile,
) -> Frame:
    """The one `session.update` sent right after connecting (realtime-wire §1, §3.1-3.3)."""
    if kind is SessionKind.V1:
        session = _v1_session(instructions, profile)
    elif normalized_mode(kind, mode) is SessionMode.TRANSCRIPTION:
        session = _v2_transcription_session()
    else:
        session = _v2_conversational_session(instructions, profile)
    return {"type": "session.update", "session": session}


def audio_append(data: str) -> Frame:
    """Input audio: only the base64 data goes on the wire (realtime-wire §3.4)."""
    return {"type": "input_audio_buffer.append", "audio": data}


def text_item(text: str, *, kind: SessionKind) -> Frame:
    """A user text message: `text` content on v1, `input_text` on v2 (realtime-wire §3.5)."""
    content_type = "text" if kind is SessionKind.V1 else "input_text"
    return {
        "type": "conversation.item.create",
        "item": {
            "type": "message",
            "role": "user",
            "content": [{"type": content_type, "text": text}],
        },
    }


def final_message_text(text: str, *, kind: SessionKind, profile: RealtimeProfile) -> str:
    """Prefix handoff output with `"Agent Final Message"` where the profile says so (§3.6)."""
    if kind in profile.final_message_prefix_versions:
        return AGENT_FINAL_MESSAGE_PREFIX + text
    return text


def conversation_handoff_append(handoff_id: str, output_text: str) -> Frame:
    """v1 handoff reply (realtime-wire §3.6)."""
    return {
        "type": "conversation.handoff.append",
        "handoff_id": handoff_id,
        "output_text": output_text,
    }


def function_call_output(call_id: str, output: str) -> Frame:
    """v2 handoff reply: the delegation tool's result (realtime-wire §3.6)."""
    return {
        "type": "conversation.item.create",
        "item": {"type": "function_call_output", "call_id": call_id, "output": output},
    }


def handoff_reply(
    handoff_id: str, text: str, *, kind: SessionKind, profile: RealtimeProfile
) -> Frame:
    """`send_conversation_handoff_append`: the per-version handoff reply with its prefix."""
    output = final_message_text(text, kind=kind, profile=profile)
    if kind is SessionKind.V1:
        return conversation_handoff_append(handoff_id, output)
    return function_call_output(handoff_id, output)


def truncate(item_id: str, audio_end_ms: int) -> Frame:
    """Barge-in: cut the assistant audio item at what was played (realtime-wire §3.7)."""
    return {
        "type": "conversation.item.truncate",
        "item_id": item_id,
        "content_index": 0,
        "audio_end_ms": audio_end_ms,
    }


def response_create() -> Frame:
    """Ask the server for a response (realtime-wire §3, §3.5); no other fields."""
    return {"type": "response.create"}


# --- the first revision (R-A-0, codex-api endpoint/realtime_websocket.rs, realtime-wire §9) ---


def pre_split_session(
    message_type: str, *, backend_prompt: str, conversation_id: str | None
) -> Frame:
    """`session.create` (the handshake) or `session.update` (a prompt change) of R-A-0.

    Both carry `{backend_prompt, conversation_id?}`; `conversation_id` is omitted when the
    conversation names none (`skip_serializing_if = "Option::is_none"`).
    """
    if message_type not in ("session.create", "session.update"):
        raise ValueError(f"not a pre-split session message: {message_type}")
    session: dict[str, Any] = {"backend_prompt": backend_prompt}
    if conversation_id is not None:
        session["conversation_id"] = conversation_id
    return {"type": message_type, "session": session}


def pre_split_audio(
    data: str, *, sample_rate: int, num_channels: int, samples_per_channel: int | None
) -> Frame:
    """R-A-0 input audio: `response.input_audio.delta` with the frame's format fields."""
    frame: Frame = {
        "type": "response.input_audio.delta",
        "delta": data,
        "sample_rate": sample_rate,
        "num_channels": num_channels,
    }
    if samples_per_channel is not None:
        frame["samples_per_channel"] = samples_per_channel
    return frame


def noop_output(call_id: str) -> Frame:
    """[later] the answer to a silence-tool call: an empty function_call_output, no prefix.

    Codex core (later realtime_conversation.rs; core suite
    `realtime_v2_noop_tool_call_returns_empty_function_output_without_response`) sends it
    without a response.create.
    """
    return function_call_output(call_id, "")
