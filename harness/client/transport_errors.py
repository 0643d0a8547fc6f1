"""Implementation-neutral texts for transport failures, for both reference clients.

(docs/responses.md "Transport texts".)

Events must not carry one library's error text (httpx, websockets, the OS), so every
transport failure is mapped here to one of a few stable phrases. Texts that codex
itself produces (`idle timeout waiting for SSE`, `stream closed before
response.completed`, ...) are kept verbatim where they are defined; these are the
ones codex leaves to its HTTP/websocket libraries.
"""

from __future__ import annotations

import ssl


__all__ = [
    "CERTIFICATE_VERIFY_FAILED",
    "CLOSED_BEFORE_BODY",
    "CLOSED_BEFORE_HEADERS",
    "CONNECTION_CLOSED",
    "CONNECTION_FAILED",
    "CONNECTION_RESET",
    "INVALID_UPGRADE",
    "NEUTRAL_TEXTS",
    "TIMED_OUT",
    "neutral_text",
]

CERTIFICATE_VERIFY_FAILED = "certificate verify failed"
"""TLS: the server's certificate does not verify against the trusted roots."""
CONNECTION_FAILED = "connection failed"
"""No connection could be made (refused, unreachable, name not resolved)."""
CLOSED_BEFORE_HEADERS = "connection closed before the response headers"
"""The peer closed (FIN) after the request, before a status line / handshake answer."""
CLOSED_BEFORE_BODY = "connection closed before the response body completed"
"""The peer closed (FIN) in the middle of a response body."""
CONNECTION_RESET = "connection reset"
"""The peer reset the connection (RST), at any point."""
CONNECTION_CLOSED = "connection closed"
"""A websocket frame could not be sent: the connection was already closed."""
INVALID_UPGRADE = "invalid websocket upgrade response"
"""The server answered the upgrade with 101 but an invalid handshake."""
TIMED_OUT = "request timed out"
"""Connect / send / handshake timed out."""

NEUTRAL_TEXTS = (CERTIFICATE_VERIFY_FAILED, CONNECTION_FAILED, CLOSED_BEFORE_HEADERS, CLOSED_BEFORE_BODY,
                 CONNECTION_RESET, CONNECTION_CLOSED, INVALID_UPGRADE, TIMED_OUT)  # fmt: skip


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def neutral_text(exc: BaseException, *, phase: str) -> str:
    """The neutral text for `exc`; `phase` is `connect` (before any response byte), `body`
    (reading a response) or `send` (writing a websocket frame).

    Decided from exception classes only (never from their messages): a reset anywhere
    in the cause chain is `connection reset`; a refused / unreachable connect is
    `connection failed`; otherwise the peer went away, before the headers or mid-body.
    (websockets turns a reset during the upgrade into a plain EOF, so a reset handshake
    reads as `connection closed before the response headers`.)
    """
    import httpx  # local: keep this module importable without the transports

    chain = _chain(exc)
    if any(isinstance(e, ssl.SSLCertVerificationError) for e in chain) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return CERTIFICATE_VERIFY_FAILED
    if any(isinstance(e, ConnectionResetError | BrokenPipeError) for e in chain):
        return CONNECTION_RESET
    if any(isinstance(e, TimeoutError | httpx.TimeoutException) for e in chain):
        return TIMED_OUT
    if any(isinstance(e, httpx.ConnectError | ConnectionRefusedError) for e in chain):
        return CONNECTION_FAILED
    if any(isinstance(e, httpx.ReadError | httpx.WriteError) for e in chain):
        # httpx wraps a read/write failure on a broken socket without its OS error.
        return CONNECTION_RESET
    if phase == "send":
        return CONNECTION_CLOSED
    if phase == "body":
        return CLOSED_BEFORE_BODY
    if any(isinstance(e, EOFError | httpx.RemoteProtocolError) for e in chain):
        return CLOSED_BEFORE_HEADERS
    if any(isinstance(e, OSError) for e in chain):
        return CONNECTION_FAILED
    return CLOSED_BEFORE_HEADERS
