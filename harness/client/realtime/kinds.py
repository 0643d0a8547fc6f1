"""Protocol version and session mode of a realtime conversation.

The runtime branches on these enums directly (as Codex core branches on
`RealtimeSessionKind`), never on flags derived from the event parser.
"""

from __future__ import annotations

from enum import StrEnum


__all__ = ["SessionKind", "SessionMode", "normalized_mode"]


class SessionKind(StrEnum):
    """Which realtime wire protocol the conversation speaks (realtime-wire §2)."""

    V1 = "v1"
    """The `quicksilver` protocol: `conversation.*` events and handoff appends."""
    V2 = "v2"
    """The GA Realtime protocol: `response.*` events and the delegation function tool."""


class SessionMode(StrEnum):
    """What the realtime session is for (config key `type`, realtime-wire §2)."""

    CONVERSATIONAL = "conversational"
    TRANSCRIPTION = "transcription"


def normalized_mode(kind: SessionKind, mode: SessionMode) -> SessionMode:
    """Return the mode actually used: v1 is always conversational (realtime-wire §2)."""
    if kind is SessionKind.V1:
        return SessionMode.CONVERSATIONAL
    return mode
