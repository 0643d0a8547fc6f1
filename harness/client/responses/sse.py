"""Incremental text/event-stream parser following the WHATWG HTML "event stream" rules.

Pure: feed it bytes as they arrive, get whole events back. Codex reads only `data`
(responses-wire §2.1), but the parser keeps `event`/`id`/`retry` so tests can check the
framing itself.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass


__all__ = ["SseEvent", "SseParser"]

_EOL = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One dispatched event: `event` defaults to "message" per the spec."""

    data: str
    event: str = "message"
    id: str | None = None


class SseParser:
    """Line splitting (CRLF, LF, CR), field parsing and dispatch on blank lines."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._skip_lf = False  # a chunk ended in CR: a leading LF belongs to it
        self._bom_checked = False
        self._data: list[str] = []
        self._event = ""
        self._last_id: str | None = None
        self.retry_ms: int | None = None

    def feed(self, chunk: bytes) -> list[SseEvent]:
        """Consume bytes; return the events completed by them."""
        return self._feed_text(self._decoder.decode(chunk))

    def close(self) -> list[SseEvent]:
        """End of stream: flush the decoder; an unterminated event is discarded (spec)."""
        events = self._feed_text(self._decoder.decode(b"", final=True))
        self._buffer = ""
        self._data = []
        self._event = ""
        return events

    def _feed_text(self, text: str) -> list[SseEvent]:
        if not self._bom_checked and text:
            self._bom_checked = True
            if text.startswith("\ufeff"):
                text = text[1:]
        if self._skip_lf and text:
            if text.startswith("\n"):
                text = text[1:]
            self._skip_lf = False
        buffer = self._buffer + text
        events: list[SseEvent] = []
        pos = 0
        while (match := _EOL.search(buffer, pos)) is not None:
            line = buffer[pos : match.start()]
            pos = match.end()
            if match.group() == "\r" and pos == len(buffer):
                self._skip_lf = True  # CR at the very end may be half of a CRLF
            event = self._line(line)
            if event is not None:
                events.append(event)
        self._buffer = buffer[pos:]
        return events

    def _line(self, line: str) -> SseEvent | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None  # comment
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\x00" not in value:
                self._last_id = value
        elif name == "retry" and value.isdigit() and value.isascii():
            self.retry_ms = int(value)
        return None

    def _dispatch(self) -> SseEvent | None:
        data, event = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return None
        return SseEvent(data="\n".join(data), event=event or "message", id=self._last_id)
