"""The application defaults a Codex-like app puts in its requests (the reference client, R-C).

What the SDK leaves to its application — what ``session.update`` says, how a delegated call
is recognised and answered, what a turn's request body holds — follows the step definitions
(schemas/steps/) and the reference client's defaults, so that any difference the suite
finds is the SDK's.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any


__all__ = [
    "ACTIVE_RESPONSE_PREFIX",
    "CLOSED",
    "FINAL_MESSAGE_PREFIX",
    "MAX_REQUESTS_PER_TURN",
    "NOT_RUNNING",
    "USAGE_KEYS",
    "audio_ms",
    "handoff",
    "session_body",
    "str_of",
    "tool_call",
    "tool_output",
    "uint",
    "user_items",
]

_PCM = {"type": "audio/pcm", "rate": 24_000}
_TOOL_NAME = "codex"
_TOOL_DESCRIPTION = (
    "Delegate a request to Codex and return the final result to the user. Use this as the "
    "default action. If the user asks to do something next, later, after this, or once "
    "current work finishes, call this tool so the work is actually queued instead of "
    "merely promising to do it later."
)
_TOOL_PROMPT_DESCRIPTION = "The user request to delegate to Codex."
_TOOL_ARGUMENT_KEYS = ("input_transcript", "input", "text", "prompt", "query")
_CALL_OUTPUT_TYPES = {
    "function_call": "function_call_output",
    "local_shell_call": "function_call_output",
    "custom_tool_call": "custom_tool_call_output",
}
FINAL_MESSAGE_PREFIX = '"Agent Final Message":\n\n'
ACTIVE_RESPONSE_PREFIX = "Conversation already has an active response in progress:"
NOT_RUNNING = "conversation is not running"
CLOSED = "realtime websocket connection is closed"
MAX_REQUESTS_PER_TURN = 64
USAGE_KEYS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens", "total_tokens")


def str_of(obj: Any, key: str) -> str | None:
    value = obj.get(key) if isinstance(obj, Mapping) else None
    return value if isinstance(value, str) else None


def uint(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


# --- realtime -----------------------------------------------------------------------------


def _input_transcript(arguments: str) -> str:
    if arguments == "":
        return ""
    try:
        parsed = json.loads(arguments)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        for key in _TOOL_ARGUMENT_KEYS:
            value = parsed.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return arguments


def handoff(item: Any) -> dict[str, Any] | None:
    """A ``function_call`` item naming the delegation tool, as a handoff event."""
    if not isinstance(item, Mapping) or item.get("type") != "function_call" or item.get("name") != _TOOL_NAME:
        return None
    item_id, call_id = str_of(item, "id"), str_of(item, "call_id")
    call_id = call_id if call_id is not None else item_id
    if call_id is None:
        return None
    return {"type": "realtime.handoff_requested", "handoff_id": call_id,
            "item_id": call_id if item_id is None else item_id,
            "input_transcript": _input_transcript(str_of(item, "arguments") or ""), "active_transcript": []}  # fmt: skip


def audio_ms(data: str, sample_rate: int, channels: int, samples: int | None) -> int:
    if samples is None:
        try:
            samples = len(base64.b64decode(data, validate=True)) // 2 // max(channels, 1)
        except (binascii.Error, ValueError):
            return 0
    return min(samples * 1000 // max(sample_rate, 1), 2**32 - 1)


def session_body(mode: str, instructions: str) -> dict[str, Any]:
    """The GA ``session.update`` session the app configures (conversational or transcription)."""
    if mode == "transcription":
        return {"type": "transcription", "audio": {"input": {"format": dict(_PCM)}}}
    return {
        "type": "realtime",
        "instructions": instructions,
        "output_modalities": ["audio"],
        "audio": {
            "input": {
                "format": dict(_PCM),
                "noise_reduction": {"type": "near_field"},
                "turn_detection": {"type": "server_vad", "interrupt_response": True, "create_response": True},
            },
            "output": {"format": dict(_PCM), "voice": "marin"},
        },
        "tools": [{
            "type": "function",
            "name": _TOOL_NAME,
            "description": _TOOL_DESCRIPTION,
            "parameters": {
                "type": "object",
                "properties": {"prompt": {"type": "string", "description": _TOOL_PROMPT_DESCRIPTION}},
                "required": ["prompt"],
                "additionalProperties": False,
            },
        }],
        "tool_choice": "auto",
    }  # fmt: skip


# --- responses ----------------------------------------------------------------------------


def user_items(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": value}]}]
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return [dict(item) for item in value]
    raise ValueError("responses.turn 'input' must be a string or a list of item objects")


def tool_call(item: Mapping[str, Any]) -> dict[str, Any] | None:
    kind = item.get("type")
    if kind not in _CALL_OUTPUT_TYPES:
        return None
    call_id = item.get("call_id") or item.get("id")
    if not isinstance(call_id, str):
        return None
    name = "local_shell" if kind == "local_shell_call" else item.get("name")
    arguments = item.get("arguments") if kind == "function_call" else item.get("input")
    return {"call_id": call_id, "name": name if isinstance(name, str) else "", "kind": kind,
            "arguments": arguments if isinstance(arguments, str) else None}  # fmt: skip


def tool_output(call: Mapping[str, Any], outputs: Mapping[str, Any]) -> dict[str, Any]:
    if call["call_id"] in outputs:
        scripted: Any = outputs[call["call_id"]]
    elif call["name"] in outputs:
        scripted = outputs[call["name"]]
    else:
        scripted = f"unsupported call: {call['name']}"
    if call["name"] == "view_image" and isinstance(scripted, str) and not scripted.startswith("unsupported call"):
        scripted = [{"type": "input_image", "image_url": scripted}]
    if not isinstance(scripted, str | list):
        scripted = str(scripted)
    return {"type": _CALL_OUTPUT_TYPES[call["kind"]], "call_id": call["call_id"], "output": scripted}
