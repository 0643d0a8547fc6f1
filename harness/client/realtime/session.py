"""The conversation's input-task state machine (realtime-wire §6.4, §6.5), without I/O.

Commands (text, audio, handoff output, turn complete) and inbound frames go in; each
returns a `Step`: the frames to send, the neutral events to report, and whether the
conversation must stop. The asyncio layer only moves bytes and calls these methods,
so every decision (deferred `response.create`, barge-in truncate, handoff replies)
is testable without sockets.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from harness.client.realtime import outbound
from harness.client.realtime.events import Event, realtime_error
from harness.client.realtime.inbound import (
    BINARY_FRAME_MESSAGE,
    CONNECTION_CLOSED_MESSAGE,
    AudioOut,
    HandoffRequested,
    InboundEvent,
    ItemAdded,
    NoopRequested,
    ResponseCancelled,
    ServerError,
    SpeechStarted,
    TranscriptAccumulator,
    parse_event,
)
from harness.client.realtime.kinds import SessionKind, SessionMode, normalized_mode
from harness.client.realtime.profile import RealtimeProfile


__all__ = [
    "ACTIVE_RESPONSE_ERROR_PREFIX",
    "HandoffOutput",
    "OutputAudio",
    "RealtimeSession",
    "Step",
    "audio_duration_ms",
]

ACTIVE_RESPONSE_ERROR_PREFIX = "Conversation already has an active response in progress:"
_U32_MAX = 2**32 - 1

Frame = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Step:
    """What one input produced: frames to send (in order), events to report, stop flag."""

    frames: tuple[Frame, ...] = ()
    events: tuple[Event, ...] = ()
    stop: bool = False


@dataclass(frozen=True, slots=True)
class HandoffOutput:
    """One reply of the delegated turn (core R-C `HandoffOutput`, realtime-wire §6.4, §6.5).

    `final` False is `ImmediateAppend` (v1: one append per assistant message), True is
    `FinalToolCall` (v2 at turn completion: the function_call_output, then response.create).
    The handoff id is fixed when the output is made, as core's `handoff_out` reads it then.
    """

    handoff_id: str
    text: str
    final: bool = False


@dataclass(frozen=True, slots=True)
class OutputAudio:
    """The assistant audio item being played, for a barge-in truncate (realtime-wire §6.4)."""

    item_id: str
    audio_end_ms: int


def _decoded_samples_per_channel(frame: AudioOut) -> int | None:
    try:
        raw = base64.b64decode(frame.data, validate=True)
    except (binascii.Error, ValueError):
        return None
    return len(raw) // 2 // max(frame.num_channels, 1)


def audio_duration_ms(frame: AudioOut) -> int:
    """Milliseconds of PCM16 audio in a frame: `samples_per_channel`, else decoded bytes/2/channels."""
    samples = frame.samples_per_channel
    if samples is None:
        samples = _decoded_samples_per_channel(frame)
    if samples is None:
        return 0
    return min(samples * 1000 // max(frame.sample_rate, 1), _U32_MAX)


class RealtimeSession:
    """Per-connection state of one realtime conversation (Codex R-C input task).

    Branches on `kind` (the session kind enum), never on what the parser produced.
    """

    def __init__(
        self,
        *,
        kind: SessionKind,
        mode: SessionMode,
        instructions: str,
        profile: RealtimeProfile,
        conversation_id: str | None = None,
    ) -> None:
        self.kind = kind
        self.conversation_id = conversation_id
        """[R-A-0] the conversation id the pre-split session messages carry, when one is named."""
        self.mode = normalized_mode(kind, mode)
        self.instructions = instructions
        self.profile = profile
        self.transcript = TranscriptAccumulator(attach=kind in profile.handoff_transcript_versions)
        self.response_in_progress = False
        self.pending_response_create = False
        self.output_audio: OutputAudio | None = None
        self.active_handoff: str | None = None
        self.last_output_text: str | None = None

    # --- commands --------------------------------------------------------------------

    def open(self) -> Step:
        """The single `session.update` sent right after connecting (realtime-wire §1); the
        first revision's `session.create` instead (realtime-wire §9)."""
        if self.profile.pre_split:
            return Step(frames=(outbound.pre_split_session(
                "session.create", backend_prompt=self.instructions,
                conversation_id=self.conversation_id),))  # fmt: skip
        return Step(
            frames=(
                outbound.session_update(
                    kind=self.kind,
                    mode=self.mode,
                    instructions=self.instructions,
                    profile=self.profile,
                ),
            )
        )

    def send_audio(
        self,
        data: str,
        *,
        sample_rate: int = outbound.AUDIO_SAMPLE_RATE,
        num_channels: int = 1,
        samples_per_channel: int | None = None,
    ) -> Step:
        """Append microphone audio (realtime-wire §3.4): only the data goes out, except in the
        first revision, whose `response.input_audio.delta` carries the format (§9)."""
        if self.profile.pre_split:
            return Step(frames=(outbound.pre_split_audio(
                data, sample_rate=sample_rate, num_channels=num_channels,
                samples_per_channel=samples_per_channel),))  # fmt: skip
        return Step(frames=(outbound.audio_append(data),))

    def update_prompt(self, prompt: str) -> Step:
        """[R-A-0] a prompt change on the open connection: `session.update{session:
        {backend_prompt, conversation_id?}}` (`send_session_update`, realtime-wire §9).

        Raises:
            ValueError: the revision has no such message (only the first one does).
        """
        if not self.profile.pre_split:
            raise ValueError(
                "only the first realtime revision (profile r-a-0) updates the prompt on an open connection"
            )
        self.instructions = prompt
        return Step(frames=(outbound.pre_split_session(
            "session.update", backend_prompt=prompt, conversation_id=self.conversation_id),))  # fmt: skip

    def send_text(self, text: str) -> Step:
        """Insert user text; v2 also asks for a response (realtime-wire §3.5, §6.4)."""
        if self.profile.pre_split:
            # R-A-0 `send_conversation_item_create`: content type `text`, nothing after it.
            return Step(frames=(outbound.text_item(text, kind=SessionKind.V1),))
        frames = [outbound.text_item(text, kind=self.kind)]
        if self.kind is SessionKind.V2:
            frames.extend(self._request_response_create())
        return Step(frames=tuple(frames))

    def mirror(self, text: str) -> HandoffOutput | None:
        """An assistant message of the delegated turn (core R-C `handoff_out`, §6.5).

        Nothing without an active handoff. The text is kept as the last output; v1 answers
        each message at once (`ImmediateAppend`), v2 waits for the turn's end.
        """
        if self.active_handoff is None:
            return None
        self.last_output_text = text
        if self.kind is SessionKind.V1:
            return HandoffOutput(self.active_handoff, text)
        return None

    def complete(self) -> HandoffOutput | None:
        """The delegated turn finished (`handoff_complete` then `clear_active_handoff`, §6.5):
        v2 answers with the last message (`FinalToolCall`); the handoff clears either way."""
        output = None
        if (
            self.kind is SessionKind.V2
            and self.active_handoff is not None
            and self.last_output_text is not None
        ):
            output = HandoffOutput(self.active_handoff, self.last_output_text, final=True)
        self.active_handoff = None
        self.last_output_text = None
        return output

    def deliver(self, output: HandoffOutput) -> Step:
        """The frames of one reply (the input task's handoff-output arm, §6.4): the per-version
        reply with its prefix; a final one on v2 also asks for a response (deferred while
        one runs)."""
        frames = [self._handoff_reply(output.handoff_id, output.text)]
        if output.final and self.kind is SessionKind.V2:
            frames.extend(self._request_response_create())
        return Step(frames=tuple(frames))

    def handoff_append(self, handoff_id: str, text: str) -> Step:
        """An id-addressed reply (codex-api `send_conversation_handoff_append`): the
        per-version reply for that handoff id and nothing else; no handoff state is read
        or changed."""
        return Step(frames=(self._handoff_reply(handoff_id, text),))

    def handoff_output(self, text: str) -> Step:
        """The `realtime.handoff_output` step: `mirror`, then deliver what it made at once."""
        output = self.mirror(text)
        return Step() if output is None else self.deliver(output)

    def turn_complete(self) -> Step:
        """The `realtime.turn_complete` step: `complete`, then deliver what it made at once."""
        output = self.complete()
        return Step() if output is None else self.deliver(output)

    # --- inbound ---------------------------------------------------------------------

    def receive_text(self, payload: str) -> Step:
        """A text frame from the server: parse, feed the transcript, then handle."""
        event = parse_event(payload, kind=self.kind, profile=self.profile)
        if event is None:
            return Step()
        return self.receive(self.transcript.observe(event))

    def receive_binary(self) -> Step:
        """A binary frame is a protocol error that ends the conversation (realtime-wire §4)."""
        return self.receive(ServerError(BINARY_FRAME_MESSAGE))

    def transport_closed(self) -> Step:
        """The socket ended: report it and stop (realtime-wire §6.4 `Ok(None)`)."""
        return Step(events=(realtime_error(CONNECTION_CLOSED_MESSAGE),), stop=True)

    def receive(self, event: InboundEvent) -> Step:
        """Handle one parsed event (realtime-wire §6.4)."""
        v2 = self.kind is SessionKind.V2
        frames: list[Frame] = []
        match event:
            case ItemAdded() if v2 and event.item_type == "response.created":
                self.response_in_progress = True
            case ItemAdded() if v2 and event.item_type == "response.done":
                self.response_in_progress = False
                self.output_audio = None
                frames.extend(self._flush_pending_response_create())
            case AudioOut() if v2:
                self._track_output_audio(event)
            case SpeechStarted() if v2:
                frames.extend(self._barge_in(event))
            case ResponseCancelled():
                self.response_in_progress = False
                self.output_audio = None
                if v2:
                    frames.extend(self._flush_pending_response_create())
            case NoopRequested() if v2:
                # [later] the silence tool is answered with an empty output and nothing else.
                frames.append(outbound.noop_output(event.call_id))
            case HandoffRequested():
                self.active_handoff = event.handoff_id
                self.last_output_text = None
                self.response_in_progress = False
                self.output_audio = None
            case ServerError() if v2 and event.message.startswith(ACTIVE_RESPONSE_ERROR_PREFIX):
                # Our response.create raced the server's own response: retry after it.
                self.pending_response_create = True
                self.response_in_progress = True
                return Step()
            case ServerError():
                return Step(events=(event.to_event(),), stop=True)
            case _:
                pass
        return Step(frames=tuple(frames), events=(event.to_event(),))

    # --- helpers ---------------------------------------------------------------------

    def _handoff_reply(self, handoff_id: str, text: str) -> Frame:
        return outbound.handoff_reply(handoff_id, text, kind=self.kind, profile=self.profile)

    def _request_response_create(self) -> tuple[Frame, ...]:
        if self.response_in_progress:
            self.pending_response_create = True
            return ()
        return (outbound.response_create(),)

    def _flush_pending_response_create(self) -> tuple[Frame, ...]:
        if not self.pending_response_create:
            return ()
        self.pending_response_create = False
        self.response_in_progress = True
        return (outbound.response_create(),)

    def _track_output_audio(self, frame: AudioOut) -> None:
        if frame.item_id is None:
            return
        duration = audio_duration_ms(frame)
        if duration == 0:
            return
        current = self.output_audio
        if current is not None and current.item_id == frame.item_id:
            total = min(current.audio_end_ms + duration, _U32_MAX)
            self.output_audio = OutputAudio(item_id=frame.item_id, audio_end_ms=total)
        else:
            self.output_audio = OutputAudio(item_id=frame.item_id, audio_end_ms=duration)

    def _barge_in(self, event: SpeechStarted) -> tuple[Frame, ...]:
        tracked, self.output_audio = self.output_audio, None
        if tracked is None:
            return ()
        if event.item_id is not None and event.item_id != tracked.item_id:
            return ()
        return (outbound.truncate(tracked.item_id, tracked.audio_end_ms),)
