"""What a realtime handoff asks the agent to do: the routed text (codex core R-C).

Pure functions, so the rule is testable without sockets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


__all__ = ["assistant_message_text", "routed_text"]


def routed_text(handoff: Mapping[str, Any]) -> str | None:
    """`realtime_text_from_handoff_request` (core/src/realtime_conversation.rs, R-C; §6.5).

    The active transcript as `role: text` lines joined with newlines when it is not empty,
    else the input transcript when that is not empty, else None: no turn is started.
    (Later revisions prefer the input transcript and wrap both in `<realtime_delegation>`.)
    """
    lines = "\n".join(
        f"{entry.get('role', '')}: {entry.get('text', '')}"
        for entry in handoff.get("active_transcript") or ()
        if isinstance(entry, Mapping)
    )
    if lines:
        return lines
    text = handoff.get("input_transcript")
    if isinstance(text, str) and text:
        return text
    return None


def assistant_message_text(item: Mapping[str, Any]) -> str | None:
    """The text codex mirrors for a completed output item (`realtime_text_for_event`, R-C).

    An assistant `message` item is codex's `TurnItem::AgentMessage`; its text is every
    `output_text` part concatenated (`agent_message_text`). Any other item mirrors nothing.
    """
    if item.get("type") != "message" or item.get("role") != "assistant":
        return None
    parts = item.get("content")
    if not isinstance(parts, list):
        return ""
    return "".join(
        str(part.get("text", ""))
        for part in parts
        if isinstance(part, Mapping) and part.get("type") == "output_text"
    )
