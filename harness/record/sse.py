"""A Sans-I/O splitter for server-sent events: bytes in, one block per event out.

It keeps each block's exact bytes (so a recorded stream can be replayed byte for byte
when its shape is unusual) next to the parsed fields (``event``, ``data``, comments, the
other fields). Line ends are ``\\n``, ``\\r\\n`` or ``\\r``, as the SSE specification has them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


__all__ = ["SseBlock", "SseSplitter"]

_BLOCK_END = re.compile(rb"(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)")
_LINE = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class SseBlock:
    """One event block: its bytes as received (blank-line terminator included) and fields."""

    raw: bytes
    t: float
    event: str | None = None
    data: str | None = None  # the data lines joined with "\n"; None when the block had none
    comments: tuple[str, ...] = ()
    other: tuple[tuple[str, str], ...] = field(default=())  # id:, retry:, unknown fields

    @property
    def simple(self) -> bool:
        """Only ``event:`` and ``data:`` (or only comments): a block a script step can rewrite."""
        return not self.other


class SseSplitter:
    """Feed bytes as they arrive; each complete block comes out with the time it completed."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes, t: float) -> list[SseBlock]:
        self._buffer += chunk
        blocks: list[SseBlock] = []
        while True:
            # A "\r" at the very end may be half of "\r\n": wait for the next byte.
            end = _BLOCK_END.search(self._buffer)
            if end is None or (end.end() == len(self._buffer) and self._buffer.endswith(b"\r")):
                break
            raw, self._buffer = self._buffer[: end.end()], self._buffer[end.end() :]
            blocks.append(parse_block(raw, t))
        return blocks

    def rest(self) -> bytes:
        """Bytes of an unfinished block (a stream that ended without its blank line)."""
        return self._buffer


def parse_block(raw: bytes, t: float) -> SseBlock:
    text = raw.decode("utf-8", "replace")
    event: str | None = None
    data: list[str] = []
    comments: list[str] = []
    other: list[tuple[str, str]] = []
    for line in _LINE.split(text):
        if not line:
            continue
        if line.startswith(":"):
            comments.append(line[1:].removeprefix(" "))
            continue
        name, sep, value = line.partition(":")
        value = value.removeprefix(" ") if sep else ""
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        else:
            other.append((name, value))
    return SseBlock(raw=raw, t=t, event=event, data="\n".join(data) if data else None, comments=tuple(comments), other=tuple(other))
