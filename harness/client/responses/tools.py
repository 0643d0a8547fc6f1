"""Conversation items the turn loop builds: user input, tool calls and their outputs.

Tool outputs are scripted by the case (`tool_outputs`), keyed by call id or tool name;
`view_image` images get `detail: "original"` only under the seed's gate (§8).
"""

from __future__ import annotations

import re
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
_SLUG = re.compile(r"^gpt-(\d+)(?:\.(\d+))?(.*)$", re.IGNORECASE)


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


def supports_original_detail(model: str) -> bool:
    """`gpt-5.3-codex` or newer (seed 'view_image original resolution').

    Newer means a higher version (gpt-5.4, gpt-6, with or without `-codex`); at exactly
    5.3 only the `-codex` models qualify.
    """
    match = _SLUG.match(model.strip())
    if match is None:
        return False
    version = (int(match.group(1)), int(match.group(2) or 0))
    if version != (5, 3):
        return version > (5, 3)
    return "codex" in match.group(3).lower()


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
