"""Codex's realtime events from two pipes, back in codex's order.

Codex parses each realtime server event once (``realtime websocket parsed event`` in its
log, on stderr) and relays some of them to the app-server's client as notifications (on
stdout). The events only its log shows (``session.updated``, ``conversation.item.done``,
the v2 response lifecycle) must take their place between the relayed ones, but the two
pipes are read apart. Both follow codex's order, so: a log-only event waits until every
relayed event codex parsed before it has arrived as a notification (or is known never
to come: a later notification arrived, or a short hold ran out), and a notification first
releases every log-only event parsed before it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


__all__ = ["RELAYED", "Sequencer", "variant_of"]

# The parsed RealtimeEvent variants the app-server relays, by the notification that carries them.
RELAYED = {
    "ConversationItemAdded": "itemAdded",
    "HandoffRequested": "itemAdded",
    "InputAudioSpeechStarted": "itemAdded",
    "ResponseCancelled": "itemAdded",
    "InputTranscriptDelta": "transcript/delta",
    "OutputTranscriptDelta": "transcript/delta",
    "InputTranscriptDone": "transcript/done",
    "OutputTranscriptDone": "transcript/done",
    "AudioOut": "outputAudio/delta",
    "Error": "error",
}
_HOLD = 1.0

Emit = Callable[[dict[str, Any]], None]


def variant_of(debug: str) -> str:
    """``SessionUpdated { … }`` / ``ResponseDone(…)`` → the variant's name."""
    text = debug.strip()
    end = len(text)
    for stop in ("(", " {", " "):
        at = text.find(stop)
        if 0 <= at < end:
            end = at
    return text[:end]


@dataclass(slots=True)
class _Entry:
    kind: str | None  # a relayed variant's notification; None for a log-only event
    event: dict[str, Any] | None
    hold: float  # how long it may hold what follows, counted from when it is first waited on
    deadline: float | None = None


class Sequencer:
    """Merges log-only events into the notification stream in codex's order."""

    def __init__(self, emit: Emit, *, hold: float = _HOLD) -> None:
        self._emit = emit
        self._hold = hold
        self._queue: deque[_Entry] = deque()
        self._early: deque[tuple[str, float]] = deque()  # notifications read before their log line
        self._timer: asyncio.TimerHandle | None = None

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    def logged(self, variant: str, event: dict[str, Any] | None) -> None:
        """Codex parsed ``variant``; ``event`` is its log-only event (None if relayed or not reported)."""
        kind = RELAYED.get(variant)
        now = self._now()
        while self._early and self._early[0][1] < now:
            self._early.popleft()
        if kind is not None:
            for i, (early, _) in enumerate(self._early):
                if early == kind:
                    del self._early[i]  # its notification already came and was emitted
                    return
            self._queue.append(_Entry(kind=kind, event=None, hold=self._hold))
        elif event is not None:
            self._queue.append(_Entry(kind=None, event=event, hold=0.0))
        else:
            return
        self._drain()

    def gate(self, kind: str, *, timeout: float) -> None:
        """Hold what codex parses next until notification ``kind`` (e.g. ``started``, which codex
        sends when the socket opens, before any server event) has come, or ``timeout``."""
        self._queue.append(_Entry(kind=kind, event=None, hold=timeout))
        self._drain()

    def notified(self, kind: str | None, events: Iterable[dict[str, Any]]) -> None:
        """A notification (``kind``: its name when it relays a parsed event) and its events."""
        match = next((i for i, e in enumerate(self._queue) if kind is not None and e.kind == kind), None)
        if match is None:
            # Everything parsed before it is over: relayed ones whose notification never came.
            self._release(len(self._queue))
            if kind is not None:
                self._early.append((kind, self._now() + self._hold))
        else:
            self._release(match)
            self._queue.popleft()
        for event in events:
            self._emit(event)
        self._drain()

    def flush(self) -> None:
        """Emit every log-only event still held (the conversation is over)."""
        self._release(len(self._queue))

    def _release(self, n: int) -> None:
        """Emit the log-only events among the first ``n`` entries, dropping the relayed ones."""
        for _ in range(n):
            entry = self._queue.popleft()
            if entry.event is not None:
                self._emit(entry.event)

    def _drain(self) -> None:
        now = self._now()
        while self._queue:
            head = self._queue[0]
            if head.kind is None:
                self._queue.popleft()
                if head.event is not None:
                    self._emit(head.event)
            else:
                if head.deadline is None:
                    head.deadline = now + head.hold  # the hold runs from when it is waited on
                if head.deadline > now:
                    break
                self._queue.popleft()  # no notification came for it: codex did not relay it
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._queue and self._queue[0].deadline is not None:
            delay = max(0.0, self._queue[0].deadline - now)
            self._timer = asyncio.get_running_loop().call_later(delay, self._drain)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
