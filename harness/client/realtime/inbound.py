"""Inbound server frames parsed into realtime events (realtime-wire §4), and the
active-transcript accumulator that decorates handoffs (realtime-wire §5).

Parsing never raises: a frame the client does not understand is skipped (`None`),
exactly as Codex's `parse_realtime_event` drops it.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from harness.client.realtime import events as ev
from harness.client.realtime.kinds import SessionKind
from harness.client.realtime.profile import RealtimeProfile


__all__ = [
    "BINARY_FRAME_MESSAGE",
    "CONNECTION_CLOSED_MESSAGE",
    "AudioOut",
    "HandoffRequested",
    "InboundEvent",
    "InputTranscriptDelta",
    "InputTranscriptDone",
    "ItemAdded",
    "ItemDone",
    "NoopRequested",
    "OutputTranscriptDelta",
    "OutputTranscriptDone",
    "ResponseCancelled",
    "ServerError",
    "SessionCreated",
    "SessionUpdated",
    "SpeechStarted",
    "TranscriptAccumulator",
    "TranscriptEntry",
    "extract_input_transcript",
    "parse_event",
]

BINARY_FRAME_MESSAGE = "unexpected binary realtime websocket event"
CONNECTION_CLOSED_MESSAGE = "realtime websocket connection is closed"

_DEFAULT_V2_SAMPLE_RATE = 24_000
_DEFAULT_V2_CHANNELS = 1
_TOOL_ARGUMENT_KEYS = ("input_transcript", "input", "text", "prompt", "query")


# --- parsed events (RealtimeEvent, realtime-wire §4) -------------------------------


@dataclass(frozen=True, slots=True)
class SessionUpdated:
    session_id: str
    instructions: str | None = None

    def to_event(self) -> ev.Event:
        return ev.compact(
            ev.SESSION_UPDATED,
            (("session_id", self.session_id), ("instructions", self.instructions)),
        )


@dataclass(frozen=True, slots=True)
class AudioOut:
    data: str
    sample_rate: int
    num_channels: int
    samples_per_channel: int | None = None
    item_id: str | None = None

    def to_event(self) -> ev.Event:
        return ev.compact(
            ev.AUDIO_OUT,
            (
                ("data", self.data),
                ("sample_rate", self.sample_rate),
                ("num_channels", self.num_channels),
                ("samples_per_channel", self.samples_per_channel),
                ("item_id", self.item_id),
            ),
        )


@dataclass(frozen=True, slots=True)
class InputTranscriptDelta:
    delta: str

    def to_event(self) -> ev.Event:
        return {"type": ev.INPUT_TRANSCRIPT_DELTA, "delta": self.delta}


@dataclass(frozen=True, slots=True)
class OutputTranscriptDelta:
    delta: str

    def to_event(self) -> ev.Event:
        return {"type": ev.OUTPUT_TRANSCRIPT_DELTA, "delta": self.delta}


@dataclass(frozen=True, slots=True)
class InputTranscriptDone:
    """[later] `InputTranscriptDone`: the completed transcription of the user's turn."""

    text: str

    def to_event(self) -> ev.Event:
        return {"type": ev.INPUT_TRANSCRIPT_DONE, "text": self.text}


@dataclass(frozen=True, slots=True)
class OutputTranscriptDone:
    """[later] `OutputTranscriptDone`: the assistant's completed text or audio transcript."""

    text: str

    def to_event(self) -> ev.Event:
        return {"type": ev.OUTPUT_TRANSCRIPT_DONE, "text": self.text}


@dataclass(frozen=True, slots=True)
class NoopRequested:
    """[later] `NoopRequested`: the model called the silence tool (`remain_silent`)."""

    call_id: str
    item_id: str

    def to_event(self) -> ev.Event:
        return {"type": ev.NOOP_REQUESTED, "call_id": self.call_id, "item_id": self.item_id}


@dataclass(frozen=True, slots=True)
class SessionCreated:
    """[R-A-0] `SessionCreated`: the pre-split server confirmed the session (realtime-wire §9)."""

    session_id: str

    def to_event(self) -> ev.Event:
        return {"type": ev.SESSION_CREATED, "session_id": self.session_id}


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    item_id: str | None = None

    def to_event(self) -> ev.Event:
        return ev.compact(ev.SPEECH_STARTED, (("item_id", self.item_id),))


@dataclass(frozen=True, slots=True)
class ItemAdded:
    """`ConversationItemAdded`: a raw item, or (v2) a whole `response.created/done` event."""

    item: Any

    @property
    def item_type(self) -> str | None:
        """The JSON `type` of the item, which the runtime inspects on v2 (realtime-wire §6.4)."""
        if isinstance(self.item, dict):
            value = self.item.get("type")
            return value if isinstance(value, str) else None
        return None

    def to_event(self) -> ev.Event:
        return {"type": ev.ITEM_ADDED, "item": self.item}


@dataclass(frozen=True, slots=True)
class ItemDone:
    item_id: str

    def to_event(self) -> ev.Event:
        return {"type": ev.ITEM_DONE, "item_id": self.item_id}


@dataclass(frozen=True, slots=True)
class TranscriptEntry:
    role: str
    text: str


@dataclass(frozen=True, slots=True)
class HandoffRequested:
    handoff_id: str
    item_id: str
    input_transcript: str
    active_transcript: tuple[TranscriptEntry, ...] = ()

    def to_event(self) -> ev.Event:
        return {
            "type": ev.HANDOFF_REQUESTED,
            "handoff_id": self.handoff_id,
            "item_id": self.item_id,
            "input_transcript": self.input_transcript,
            "active_transcript": [
                {"role": entry.role, "text": entry.text} for entry in self.active_transcript
            ],
        }


@dataclass(frozen=True, slots=True)
class ResponseCancelled:
    response_id: str | None = None

    def to_event(self) -> ev.Event:
        return ev.compact(ev.RESPONSE_CANCELLED, (("response_id", self.response_id),))


@dataclass(frozen=True, slots=True)
class ServerError:
    """`RealtimeEvent::Error`: a server `error` event or a transport failure."""

    message: str

    def to_event(self) -> ev.Event:
        return ev.realtime_error(self.message)


InboundEvent = (
    SessionUpdated
    | SessionCreated
    | AudioOut
    | InputTranscriptDelta
    | InputTranscriptDone
    | OutputTranscriptDelta
    | OutputTranscriptDone
    | NoopRequested
    | SpeechStarted
    | ItemAdded
    | ItemDone
    | HandoffRequested
    | ResponseCancelled
    | ServerError
)


# --- JSON helpers (protocol_common.rs) ------------------------------------------------


def _str(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) else None


def _uint(value: Any) -> int | None:
    # serde `as_u64`: a non-negative integer, never a bool or a float.
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _present(obj: dict[str, Any], *keys: str) -> Any:
    """The value of the first key present (even when it is null), like `get().or(get())`."""
    for key in keys:
        if key in obj:
            return obj[key]
    return None


def _session_updated(obj: dict[str, Any]) -> SessionUpdated | None:
    session = obj.get("session")
    if not isinstance(session, dict):
        return None
    session_id = _str(session, "id")
    if session_id is None:
        return None
    return SessionUpdated(session_id=session_id, instructions=_str(session, "instructions"))


def _error(obj: dict[str, Any]) -> ServerError | None:
    message = _str(obj, "message")
    if message is not None:
        return ServerError(message)
    error = obj.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return ServerError(error["message"])
    if "error" in obj:
        return ServerError(json.dumps(error, separators=(",", ":"), ensure_ascii=False))
    return None


def _delta(obj: dict[str, Any], key: str = "delta") -> str | None:
    return _str(obj, key)


# --- v1 (protocol_v1.rs, realtime-wire §4.1) -------------------------------------------


def _v1_audio(obj: dict[str, Any]) -> AudioOut | None:
    data = _str(obj, "delta")
    if data is None:
        data = _str(obj, "data")
    sample_rate = _uint(obj.get("sample_rate"))
    num_channels = _uint(_present(obj, "channels", "num_channels"))
    if data is None or sample_rate is None or num_channels is None:
        return None
    return AudioOut(
        data=data,
        sample_rate=sample_rate,
        num_channels=num_channels,
        samples_per_channel=_uint(obj.get("samples_per_channel")),
    )


def _v1_handoff(obj: dict[str, Any]) -> HandoffRequested | None:
    handoff_id = _str(obj, "handoff_id")
    item_id = _str(obj, "item_id")
    input_transcript = _str(obj, "input_transcript")
    if handoff_id is None or item_id is None or input_transcript is None:
        return None
    return HandoffRequested(
        handoff_id=handoff_id, item_id=item_id, input_transcript=input_transcript
    )


def _item_id_of(obj: dict[str, Any]) -> str | None:
    item = obj.get("item")
    return _str(item, "id") if isinstance(item, dict) else None


def _done(
    obj: dict[str, Any], key: str, cls: type[InputTranscriptDone] | type[OutputTranscriptDone]
) -> InboundEvent | None:
    """`parse_transcript_done_event` (later protocol_common.rs): the string field, else dropped."""
    text = _str(obj, key)
    return None if text is None else cls(text)


def _parse_v1(
    message_type: str, obj: dict[str, Any], profile: RealtimeProfile
) -> InboundEvent | None:
    if profile.transcript_done_events:
        # [later] protocol_v1.rs (realtime-wire §4.1): the done events of the v1 aliases.
        match message_type:
            case (
                "conversation.item.input_audio_transcription.completed"
                | "conversation.input_transcript.turn_marked"
            ):
                return _done(obj, "transcript", InputTranscriptDone)
            case "response.output_audio_transcript.done":
                return _done(obj, "transcript", OutputTranscriptDone)
    match message_type:
        case "session.updated":
            return _session_updated(obj)
        case "conversation.output_audio.delta":
            return _v1_audio(obj)
        case "conversation.input_transcript.delta":
            delta = _delta(obj)
            return None if delta is None else InputTranscriptDelta(delta)
        case "conversation.output_transcript.delta":
            delta = _delta(obj)
            return None if delta is None else OutputTranscriptDelta(delta)
        case "conversation.item.added":
            return ItemAdded(obj["item"]) if "item" in obj else None
        case "conversation.item.done":
            item_id = _item_id_of(obj)
            return None if item_id is None else ItemDone(item_id)
        case "conversation.handoff.requested":
            return _v1_handoff(obj)
        case "error":
            return _error(obj)
    return None


# --- v2 (protocol_v2.rs, realtime-wire §4.2) -------------------------------------------


def extract_input_transcript(arguments: str) -> str:
    """The delegated request from the tool-call `arguments` JSON (realtime-wire §4.2)."""
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


def _v2_audio(obj: dict[str, Any]) -> AudioOut | None:
    data = _str(obj, "delta")
    if data is None:
        return None
    sample_rate = _uint(obj.get("sample_rate"))
    num_channels = _uint(_present(obj, "channels", "num_channels"))
    return AudioOut(
        data=data,
        sample_rate=_DEFAULT_V2_SAMPLE_RATE if sample_rate is None else sample_rate,
        num_channels=_DEFAULT_V2_CHANNELS if num_channels is None else num_channels,
        samples_per_channel=_uint(obj.get("samples_per_channel")),
        item_id=_str(obj, "item_id"),
    )


def _call_ids(item: dict[str, Any]) -> tuple[str, str] | None:
    """(call_id, item_id) of a function_call item: call_id else id; id else call_id."""
    # `Option` semantics, as in Rust: an empty string is present, only a missing (or
    # non-string) value falls back.
    item_id = _str(item, "id")
    call_id = _str(item, "call_id")
    if call_id is None:
        call_id = item_id
    if call_id is None:
        return None
    return call_id, (call_id if item_id is None else item_id)


def _noop_call(item: dict[str, Any], noop_tool: str | None) -> NoopRequested | None:
    """[later] a call of the silence tool (`remain_silent`) is a no-op request."""
    if noop_tool is None or item.get("type") != "function_call" or item.get("name") != noop_tool:
        return None
    ids = _call_ids(item)
    return None if ids is None else NoopRequested(call_id=ids[0], item_id=ids[1])


def _tool_call_handoff(item: Any, tool_name: str) -> HandoffRequested | None:
    """A `function_call` item naming the delegation tool becomes a handoff."""
    if not isinstance(item, dict):
        return None
    if item.get("type") != "function_call" or item.get("name") != tool_name:
        return None
    ids = _call_ids(item)
    if ids is None:
        return None
    return HandoffRequested(
        handoff_id=ids[0],
        item_id=ids[1],
        input_transcript=extract_input_transcript(_str(item, "arguments") or ""),
    )


def _v2_item_done(obj: dict[str, Any], profile: RealtimeProfile) -> InboundEvent | None:
    item = obj.get("item")
    if not isinstance(item, dict):
        return None
    handoff = _tool_call_handoff(item, profile.tool_name)
    if handoff is not None:
        return handoff
    noop = _noop_call(item, profile.noop_tool)
    if noop is not None:
        return noop
    item_id = _str(item, "id")
    return None if item_id is None else ItemDone(item_id)


def _v2_response_done(obj: dict[str, Any], tool_name: str) -> InboundEvent:
    response = obj.get("response")
    output = response.get("output") if isinstance(response, dict) else None
    if isinstance(output, list):
        for item in output:
            handoff = _tool_call_handoff(item, tool_name)
            if handoff is not None:
                return handoff
    return ItemAdded(obj)


def _response_id(obj: dict[str, Any]) -> str | None:
    response = obj.get("response")
    if isinstance(response, dict) and isinstance(rid := response.get("id"), str):
        return rid
    return _str(obj, "response_id")


def _parse_v2(
    message_type: str, obj: dict[str, Any], profile: RealtimeProfile
) -> InboundEvent | None:
    tool_name = profile.tool_name
    if profile.transcript_done_events:
        # [later] protocol_v2.rs (realtime-wire §4.2): done events of their own.
        match message_type:
            case "conversation.item.input_audio_transcription.completed":
                return _done(obj, "transcript", InputTranscriptDone)
            case "response.output_text.done":
                return _done(obj, "text", OutputTranscriptDone)
            case "response.output_audio_transcript.done":
                return _done(obj, "transcript", OutputTranscriptDone)
    match message_type:
        case "session.updated":
            return _session_updated(obj)
        case "response.output_audio.delta" | "response.audio.delta":
            return _v2_audio(obj)
        case "conversation.item.input_audio_transcription.delta":
            delta = _delta(obj)
            return None if delta is None else InputTranscriptDelta(delta)
        case "conversation.item.input_audio_transcription.completed":
            # R-C: the completed transcript is reported as one more input delta.
            delta = _delta(obj, "transcript")
            return None if delta is None else InputTranscriptDelta(delta)
        case "response.output_text.delta" | "response.output_audio_transcript.delta":
            delta = _delta(obj)
            return None if delta is None else OutputTranscriptDelta(delta)
        case "input_audio_buffer.speech_started":
            return SpeechStarted(item_id=_str(obj, "item_id"))
        case "conversation.item.added":
            return ItemAdded(obj["item"]) if "item" in obj else None
        case "conversation.item.done":
            return _v2_item_done(obj, profile)
        case "response.created":
            return ItemAdded(obj)
        case "response.done":
            return _v2_response_done(obj, tool_name)
        case "response.cancelled":
            return ResponseCancelled(response_id=_response_id(obj))
        case "error":
            return _error(obj)
    return None


# --- pre-split (R-A-0, endpoint/realtime_websocket.rs, realtime-wire §9) -------------------


def _parse_pre_split(message_type: str, obj: dict[str, Any]) -> InboundEvent | None:
    """`parse_realtime_event` of the first revision: a tagged enum with lenient fields.

    `session.updated` carries only an optional `backend_prompt` there (no session id), which
    the neutral vocabulary has no event for: it is skipped.
    """
    match message_type:
        case "session.created":
            session = obj.get("session")
            session_id = _str(session, "id") if isinstance(session, dict) else None
            if session_id is None:
                session_id = _str(obj, "session_id")
            return None if session_id is None else SessionCreated(session_id)
        case "response.output_audio.delta":
            data = _str(obj, "delta")
            if data is None:
                data = _str(obj, "data")
            sample_rate = _uint(obj.get("sample_rate"))
            num_channels = _uint(obj.get("num_channels"))
            return AudioOut(
                data=data or "",
                sample_rate=0 if sample_rate is None else sample_rate,
                num_channels=1 if num_channels is None else num_channels,
                samples_per_channel=_uint(obj.get("samples_per_channel")),
            )
        case "conversation.item.added":
            item = obj.get("item")
            return None if item is None else ItemAdded(item)
        case "error":
            message = _str(obj, "message")
            if message is None and obj.get("error") is not None:
                message = json.dumps(obj["error"], separators=(",", ":"), ensure_ascii=False)
            return ServerError(message or "unknown realtime error")
    return None


def parse_event(
    payload: str, *, kind: SessionKind, profile: RealtimeProfile
) -> InboundEvent | None:
    """Parse one text frame; `None` for invalid JSON, a missing or unknown `type` (§4)."""
    try:
        obj = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    message_type = obj.get("type")
    if not isinstance(message_type, str):
        return None
    if profile.pre_split:
        return _parse_pre_split(message_type, obj)
    if kind is SessionKind.V1:
        return _parse_v1(message_type, obj, profile)
    return _parse_v2(message_type, obj, profile)


# --- active transcript (methods.rs, realtime-wire §5) ----------------------------------


class TranscriptAccumulator:
    """Collects transcript deltas per role and hands them to the next handoff.

    One per connection. Whether handoffs get the transcript depends on the version
    (R-C: v1 only), so the caller says `attach`.
    """

    __slots__ = ("_attach", "_entries")

    def __init__(self, *, attach: bool) -> None:
        self._attach = attach
        self._entries: list[TranscriptEntry] = []

    @property
    def entries(self) -> tuple[TranscriptEntry, ...]:
        return tuple(self._entries)

    def _append(self, role: str, delta: str) -> None:
        if not delta:
            return
        if self._entries and self._entries[-1].role == role:
            last = self._entries[-1]
            self._entries[-1] = TranscriptEntry(role=role, text=last.text + delta)
        else:
            self._entries.append(TranscriptEntry(role=role, text=delta))

    def observe(self, event: InboundEvent) -> InboundEvent:
        """Feed one parsed event; returns it, with the transcript attached to a handoff."""
        if isinstance(event, InputTranscriptDelta):
            self._append("user", event.delta)
        elif isinstance(event, OutputTranscriptDelta):
            self._append("assistant", event.delta)
        elif isinstance(event, HandoffRequested) and self._attach:
            # `mem::take`: attach and clear.
            taken, self._entries = tuple(self._entries), []
            return dataclasses.replace(event, active_transcript=taken)
        return event
