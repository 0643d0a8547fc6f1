"""Neutral events the realtime client reports (docs/contracts.md, schemas/events/realtime.schema.json).

Names and fields are implementation-neutral, so any realtime client can report them.
Optional fields are omitted when absent, never sent as null.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


__all__ = [
    "AUDIO_OUT",
    "CLOSED",
    "ERROR",
    "HANDOFF_REQUESTED",
    "INPUT_TRANSCRIPT_DELTA",
    "INPUT_TRANSCRIPT_DONE",
    "ITEM_ADDED",
    "ITEM_DONE",
    "NOOP_REQUESTED",
    "OUTPUT_TRANSCRIPT_DELTA",
    "OUTPUT_TRANSCRIPT_DONE",
    "REALTIME_ERROR",
    "REASON_REQUESTED",
    "REASON_TRANSPORT_CLOSED",
    "RESPONSE_CANCELLED",
    "SESSION_CREATED",
    "SESSION_UPDATED",
    "SPEECH_STARTED",
    "STARTED",
    "conversation_closed",
    "conversation_started",
    "realtime_error",
    "runtime_error",
]

Event = dict[str, Any]

STARTED = "conversation.started"
CLOSED = "conversation.closed"
SESSION_UPDATED = "realtime.session_updated"
SESSION_CREATED = "realtime.session_created"  # [R-A-0] the pre-split handshake's answer
AUDIO_OUT = "realtime.audio_out"
INPUT_TRANSCRIPT_DELTA = "realtime.input_transcript_delta"
OUTPUT_TRANSCRIPT_DELTA = "realtime.output_transcript_delta"
INPUT_TRANSCRIPT_DONE = "realtime.input_transcript_done"  # [later]
OUTPUT_TRANSCRIPT_DONE = "realtime.output_transcript_done"  # [later]
NOOP_REQUESTED = "realtime.noop_requested"  # [later] the remain_silent tool
SPEECH_STARTED = "realtime.speech_started"
ITEM_ADDED = "realtime.item_added"
ITEM_DONE = "realtime.item_done"
HANDOFF_REQUESTED = "realtime.handoff_requested"
RESPONSE_CANCELLED = "realtime.response_cancelled"
REALTIME_ERROR = "realtime.error"
ERROR = "error"

# realtime-wire §6.2/§6.3: the reasons a conversation ends.
REASON_REQUESTED = "requested"
REASON_TRANSPORT_CLOSED = "transport_closed"


def compact(event_type: str, fields: Iterable[tuple[str, Any]]) -> Event:
    """Build an event, dropping fields whose value is None."""
    event: Event = {"type": event_type}
    event.update((key, value) for key, value in fields if value is not None)
    return event


def conversation_started(*, session_id: str, version: str) -> Event:
    """The conversation is connected and its `session.update` sent (realtime-wire §6.2)."""
    return {"type": STARTED, "session_id": session_id, "version": version}


def conversation_closed(*, reason: str, close_timed_out: bool = False) -> Event:
    """The conversation ended; `close_timed_out` only when the close handshake was cut short."""
    event: Event = {"type": CLOSED, "reason": reason}
    if close_timed_out:
        event["close_timed_out"] = True
    return event


def realtime_error(
    message: str, *, http_status: int | None = None, request_id: str | None = None
) -> Event:
    """An error of the realtime conversation (server `error`, transport, connect)."""
    return compact(
        REALTIME_ERROR,
        (("message", message), ("http_status", http_status), ("request_id", request_id)),
    )


def runtime_error(message: str, *, code: str | None = None) -> Event:
    """A runtime error not tied to the socket, e.g. `conversation is not running` (§6.3),
    with codex's `CodexErrorInfo` class as `code` where codex gives one (`bad_request`)."""
    return compact(ERROR, (("message", message), ("code", code)))
