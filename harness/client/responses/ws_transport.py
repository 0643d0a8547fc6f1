"""Websocket I/O over the `websockets` asyncio client (15-17): connect, send, receive.

It reports what happened (text, binary, close, idle) and leaves the meaning to the
pure stream processor. `abort()` drops the TCP connection at once: the seed fix for the
terminal-error path never waits for a close handshake (responses-wire §6.1).
"""

from __future__ import annotations

import asyncio
import ssl as ssl_module
import time
from collections.abc import Sequence
from dataclasses import dataclass

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidMessage,
    InvalidStatus,
    WebSocketException,
)
from websockets.protocol import State

from harness.client.responses.errors import ApiError
from harness.client.responses.headers import Headers
from harness.client.transport_errors import (
    CONNECTION_RESET,
    INVALID_UPGRADE,
    TIMED_OUT,
    neutral_text,
)


__all__ = ["WsClosed", "WsConnection", "WsIdle", "open_websocket"]

WS_CLOSED_BY_SERVER = "websocket closed by server before response.completed"
WS_EOF = "stream closed before response.completed"


@dataclass(frozen=True, slots=True)
class WsClosed:
    """The socket ended: the §2.1 text for a close frame vs a plain EOF (FIN), or the
    neutral `connection reset` for a RST."""

    message: str


@dataclass(frozen=True, slots=True)
class WsIdle:
    """Nothing arrived within the idle timeout."""


class WsConnection:
    """One open socket plus the headers of its handshake response."""

    def __init__(
        self, ws: ClientConnection, *, handshake_headers: Headers, duration_ms: float
    ) -> None:
        self._ws = ws
        self.handshake_headers = handshake_headers
        self.connect_duration_ms = duration_ms

    @property
    def is_open(self) -> bool:
        return self._ws.state is State.OPEN

    async def send(self, text: str) -> str | None:
        """Send one text frame; return an error message on failure (§2.5)."""
        try:
            await self._ws.send(text)
        except (ConnectionClosed, OSError) as exc:
            return f"failed to send websocket request: {neutral_text(exc, phase='send')}"
        return None

    async def recv(self, idle_timeout_s: float) -> str | bytes | WsClosed | WsIdle:
        """Next frame; cancelling `recv` is safe in websockets, so a timeout loses nothing."""
        try:
            async with asyncio.timeout(idle_timeout_s):
                return await self._ws.recv()
        except TimeoutError:
            return WsIdle()
        except ConnectionClosed as exc:
            if exc.rcvd is not None:
                return WsClosed(WS_CLOSED_BY_SERVER)
            if neutral_text(exc, phase="body") == CONNECTION_RESET:
                return WsClosed(CONNECTION_RESET)  # RST: no codex text, a neutral one
            return WsClosed(WS_EOF)

    def abort(self) -> None:
        """Drop the connection now, without a close handshake (§6.1 [later] fix)."""
        transport = getattr(self._ws, "transport", None)
        if transport is not None:
            transport.abort()

    async def close_gracefully(self, timeout_s: float) -> None:
        """Early-2026 behaviour: send close and wait for the peer's reply (may stall)."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._ws.close()
        except (TimeoutError, WebSocketException, OSError):
            pass
        finally:
            self.abort()


async def open_websocket(
    url: str,
    headers: Sequence[tuple[str, str]],
    *,
    user_agent: str,
    ssl: ssl_module.SSLContext | None,
    timeout_s: float,
    compression: str | None = None,
) -> WsConnection | ApiError:
    """Handshake; failures map like HTTP ones (§4.1: `WsError::Http` → `Http`)."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout_s):
            ws = await connect(
                url,
                additional_headers=list(headers),
                user_agent_header=user_agent,
                compression=compression,
                ssl=ssl if url.startswith("wss:") else None,
                proxy=None,
                open_timeout=None,
                ping_interval=None,
                close_timeout=timeout_s,
                max_size=None,
            )
    except InvalidStatus as exc:
        response = exc.response
        return ApiError(
            kind="http",
            status=response.status_code,
            url=url,
            headers=Headers(tuple(response.headers.raw_items())),
            body=(response.body or b"").decode("utf-8", errors="replace"),
        )
    except TimeoutError:
        return ApiError(kind="timeout", message=TIMED_OUT)
    except InvalidHandshake as exc:
        text = (
            neutral_text(exc, phase="connect")
            if isinstance(exc, InvalidMessage)
            else INVALID_UPGRADE
        )
        return ApiError(kind="network", message=text)
    except (WebSocketException, OSError) as exc:
        return ApiError(kind="network", message=neutral_text(exc, phase="connect"))
    response_headers = Headers(tuple(ws.response.headers.raw_items())) if ws.response else Headers()
    duration = round((time.monotonic() - started) * 1000, 3)
    return WsConnection(ws, handshake_headers=response_headers, duration_ms=duration)
