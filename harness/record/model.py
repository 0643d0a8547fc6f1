"""What ``wireplay record`` saw, as plain data: the input of the pure case writer.

Times are seconds since the recording started, on one clock for every connection, so
the writer can order exchanges and keep the upstream's pacing. Nothing here holds a
socket; a test builds a :class:`Recording` by hand and hands it to the writer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from harness.record.sse import SseBlock


__all__ = ["HttpRecord", "Recording", "WsClose", "WsFrame", "WsRecord"]

Headers = tuple[tuple[str, str], ...]  # lower-case names, in the order sent


@dataclass(frozen=True, slots=True)
class HttpRecord:
    """One HTTP request the client sent and what the upstream answered.

    ``sse`` holds the event blocks of a ``text/event-stream`` body (``body`` is then
    empty); ``rest`` the bytes of an unfinished last block. ``end`` is ``complete``, or
    ``drop`` when the upstream's body broke off (``error`` says how).
    """

    t: float
    method: str
    target: str
    headers: Headers
    body: bytes
    status: int
    response_headers: Headers
    t_response: float
    response_body: bytes = b""
    sse: tuple[SseBlock, ...] | None = None
    rest: bytes = b""
    end: Literal["complete", "drop"] = "complete"
    error: str = ""
    t_end: float = 0.0


@dataclass(frozen=True, slots=True)
class WsFrame:
    """One websocket message, whole (fragments joined), in the order relayed."""

    t: float
    sender: Literal["client", "server"]
    kind: Literal["text", "binary"]
    data: bytes


@dataclass(frozen=True, slots=True)
class WsClose:
    """How the connection ended: who started it, with a close frame (code) or without (drop)."""

    t: float
    by: Literal["client", "server"]
    code: int | None = None  # None: TCP ended without a close frame
    reason: str = ""


@dataclass(frozen=True, slots=True)
class WsRecord:
    """One websocket upgrade: refused (``status`` != 101, ``response_body``) or relayed frames."""

    t: float
    target: str
    headers: Headers
    status: int
    response_headers: Headers
    response_body: bytes = b""
    frames: tuple[WsFrame, ...] = ()
    close: WsClose | None = None


@dataclass(frozen=True, slots=True)
class Recording:
    """Everything recorded in one session, exchanges in the order their requests arrived."""

    upstream: str
    exchanges: tuple[HttpRecord | WsRecord, ...]
    started_at: str = ""  # UTC, ISO 8601, for the notes
    duration: float = 0.0
    unrecorded: tuple[str, ...] = field(default=())  # requests that never reached the upstream, and why
