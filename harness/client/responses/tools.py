"""Conversation items the turn loop builds: user input, tool calls and their outputs.

Tool outputs are scripted by the case (`tool_outputs`), keyed by call id or tool name;
`view_image` images get `detail: "original"` only under the seed's gate (§8).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


__all__ = [
    "ToolCall",
    "output_item",
    "supports_original_detail",
    "tool_call_of",
    "user_input_items",
]

VIEW_IMAGE = "view_image"
ORIGINAL_DETAIL_FEATURE = "view_image_original_resolution"
_CALL_OUTPUT_TYPES = {
    "function_call": "function_call_output",
    "local_shell_call": "function_call_output",
    "custom_tool_call": "custom_tool_call_output",
}


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A call the model made; `kind` is the item type it came in."""

    call_id: str
    name: str
    kind: str
    arguments: str | None = None


def user_input_items(value: object) -> list[dict[str, Any]]:
    """`input: str | list[item]`: a string becomes one user `input_text` message."""
    if isinstance(value, str):
        return [{"type": "message", "role": "user",
                 "content": [{"type": "input_text", "text": value}]}]  # fmt: skip
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return [dict(item) for item in value]
    raise ValueError("responses.turn 'input' must be a string or a list of item objects")


def tool_call_of(item: Mapping[str, Any]) -> ToolCall | None:
    """The call an output item asks for, or None for non-call items."""
    kind = item.get("type")
    if kind not in _CALL_OUTPUT_TYPES:
        return None
    call_id = item.get("call_id") or item.get("id")
    if not isinstance(call_id, str):
        return None
    name = item.get("name")
    if kind == "local_shell_call":
        name = "local_shell"
    arguments = item.get("arguments") if kind == "function_call" else item.get("input")
    return ToolCall(call_id=call_id, name=name if isinstance(name, str) else "", kind=kind,
                    arguments=arguments if isinstance(arguments, str) else None)  # fmt: skip


MIN_ORIGINAL_RESOLUTION_VERSION = (5, 3)
_U32_MAX = 2**32 - 1


def supports_original_detail(model: str) -> bool:
    """The seed's slug gate, as codex core tools/handlers/view_image.rs
    `supports_original_resolution_model` has it (view-image-original seed revision).

    The last `/` segment of the slug must start with `gpt-` (case-sensitive); the digits
    and dots after it are the version, `major[.minor]` (a missing or unparseable minor is
    0, an unparseable major or an empty version fails); `(major, minor) >= (5, 3)`. The
    suffix plays no part: `gpt-5.3` qualifies as `gpt-5.3-codex` does, `custom/gpt-5.4`
    too, while `o3`, `gpt-5` and `GPT-5.4` do not.
    """
    slug = model.rsplit("/", 1)[-1]
    if not slug.startswith("gpt-"):
        return False
    rest = slug[len("gpt-") :]
    end = next(
        (i for i, ch in enumerate(rest) if not (ch.isascii() and ch.isdigit()) and ch != "."),
        len(rest),
    )
    version = rest[:end]
    if not version:
        return False
    parts = version.split(".")
    major = _u32(parts[0])
    if major is None:
        return False
    minor = _u32(parts[1]) if len(parts) > 1 else None
    return (major, minor if minor is not None else 0) >= MIN_ORIGINAL_RESOLUTION_VERSION


def _u32(text: str) -> int | None:
    """Rust `str::parse::<u32>`: ASCII digits (an optional leading `+`) within range."""
    digits = text[1:] if text.startswith("+") else text
    if not digits or not (digits.isascii() and digits.isdigit()):
        return None
    value = int(digits)
    return value if value <= _U32_MAX else None


def output_item(
    call: ToolCall,
    outputs: Mapping[str, Any],
    *,
    original_detail: bool,
) -> dict[str, Any]:
    """The `*_output` item answering `call`; unscripted calls get codex's fallback text."""
    if call.call_id in outputs:
        scripted: Any = outputs[call.call_id]
    elif call.name in outputs:
        scripted = outputs[call.name]
    else:
        scripted = f"unsupported call: {call.name}"
    if call.name == VIEW_IMAGE:
        scripted = _view_image_output(scripted, original_detail=original_detail)
    elif not isinstance(scripted, str | list):
        scripted = str(scripted)
    return {"type": _CALL_OUTPUT_TYPES[call.kind], "call_id": call.call_id, "output": scripted}


def _view_image_output(scripted: Any, *, original_detail: bool) -> Any:
    """A string is an image URL; every `input_image` gets or loses `detail` by the gate."""
    if isinstance(scripted, str) and not scripted.startswith("unsupported call"):
        scripted = [{"type": "input_image", "image_url": scripted}]
    if not isinstance(scripted, list):
        return scripted
    items: list[Any] = []
    for part in scripted:
        if isinstance(part, dict) and part.get("type") == "input_image":
            part = {k: v for k, v in part.items() if k != "detail"}
            if original_detail:
                part["detail"] = "original"
        items.append(part)
    return items
