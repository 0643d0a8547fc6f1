"""Transport failures become implementation-neutral texts (docs/responses.md "Transport texts").

The mapping is checked on hand-built exception chains and on the real exceptions httpx and
websockets raise against raw loopback servers that close (FIN) or reset (RST) the socket.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from resp_fakes import Recorder, created, sse
from websockets.exceptions import ConnectionClosedError, InvalidMessage

from harness.client.responses import ResponsesClient
from harness.client.transport_errors import (
    CLOSED_BEFORE_BODY,
    CLOSED_BEFORE_HEADERS,
    CONNECTION_CLOSED,
    CONNECTION_FAILED,
    CONNECTION_RESET,
    NEUTRAL_TEXTS,
    TIMED_OUT,
    neutral_text,
)


def chained(outer: BaseException, *causes: BaseException) -> BaseException:
    current = outer
    for cause in causes:
        current.__cause__ = cause
        current = cause
    return outer


@pytest.mark.parametrize(
    ("exc", "phase", "expected"),
    [
        (httpx.RemoteProtocolError("peer closed connection (incomplete chunked read)"), "body",
         CLOSED_BEFORE_BODY),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), "connect",
         CLOSED_BEFORE_HEADERS),
        (httpx.ReadError(""), "body", CONNECTION_RESET),
        (httpx.ConnectError("All connection attempts failed"), "connect", CONNECTION_FAILED),
        (httpx.ReadTimeout("timed out"), "connect", TIMED_OUT),
        (ConnectionRefusedError(111, "Connect call failed"), "connect", CONNECTION_FAILED),
        (chained(InvalidMessage("did not receive a valid HTTP response"), EOFError("eof")),
         "connect", CLOSED_BEFORE_HEADERS),
        (chained(ConnectionClosedError(None, None), ConnectionResetError(104, "reset")), "body",
         CONNECTION_RESET),
        (chained(ConnectionClosedError(None, None), EOFError("unexpected end")), "send",
         CONNECTION_CLOSED),
        (OSError("network unreachable"), "connect", CONNECTION_FAILED),
    ],
)  # fmt: skip
def test_neutral_text_by_exception_class(exc: BaseException, phase: str, expected: str) -> None:
    assert neutral_text(exc, phase=phase) == expected


def test_the_texts_never_echo_the_library_message() -> None:
    exc = httpx.RemoteProtocolError("peer closed connection without sending complete message body")
    text = neutral_text(exc, phase="body")
    assert text in NEUTRAL_TEXTS and "peer" not in text


def test_cause_cycles_terminate() -> None:
    a, b = ValueError("a"), ValueError("b")
    a.__cause__, b.__cause__ = b, a
    assert neutral_text(a, phase="body") == CLOSED_BEFORE_BODY


def run(test: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(20):
            await test()

    asyncio.run(bounded())


def _rst(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _raw_server(handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter],
                                        Awaitable[None]]) -> tuple[asyncio.Server, str]:  # fmt: skip
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/v1"


async def _turn(base_url: str, config: dict[str, Any]) -> Recorder:
    rec = Recorder()
    client = ResponsesClient(base_url=base_url, emit=rec, config={
        "api_key": "sk-test", "retry_base_delay_ms": 1, "request_max_retries": 0,
        "stream_max_retries": 0, **config})  # fmt: skip
    try:
        await client.handle("responses.turn", {"input": "hi"})
    finally:
        await client.aclose()
    return rec


@pytest.mark.parametrize(("reset", "expected"), [(False, CLOSED_BEFORE_BODY),
                                                 (True, CONNECTION_RESET)])  # fmt: skip
def test_http_body_cut_reports_a_neutral_text(reset: bool, expected: str) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = sse(created("r1"))
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                     b"transfer-encoding: chunked\r\n\r\n"
                     + f"{len(body):x}\r\n".encode() + body + b"\r\n")  # fmt: skip
        await writer.drain()
        await asyncio.sleep(0.05)
        _rst(writer) if reset else writer.close()

    async def body() -> None:
        server, base = await _raw_server(handler)
        async with server:
            rec = await _turn(base, {})
        (error,) = rec.of("error")
        assert error["message"] == f"stream disconnected before completion: {expected}"

    run(body)


@pytest.mark.parametrize(("reset", "expected"), [(False, CLOSED_BEFORE_HEADERS),
                                                 (True, CONNECTION_RESET)])  # fmt: skip
def test_http_and_handshake_without_answer_report_neutral_texts(reset: bool, expected: str) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        _rst(writer) if reset else writer.close()

    async def body() -> None:
        server, base = await _raw_server(handler)
        async with server:
            http = await _turn(base, {})
            ws = await _turn(base, {"transport": "websocket"})
        assert {e["error"] for e in http.of("telemetry.request")} == {expected}
        # websockets reports a reset during the handshake read as a plain EOF, so the
        # upgrade only ever says "closed before the response headers" (the websocket run
        # then falls back to HTTP, whose POST sees the same reset/close as above).
        assert {e["error"] for e in ws.of("telemetry.ws_connect")} == {CLOSED_BEFORE_HEADERS}
        assert {e["error"] for e in ws.of("telemetry.request")} == {expected}
        assert (
            http.of("error")[0]["message"] == f"stream disconnected before completion: {expected}"
        )

    run(body)


def test_websocket_reset_mid_stream_is_connection_reset() -> None:
    from websockets.asyncio.server import ServerConnection, serve

    async def handler(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send('{"type":"response.created","response":{"id":"r1"}}')
        await asyncio.sleep(0.05)
        sock = ws.transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        ws.transport.abort()

    async def body() -> None:
        async with serve(handler, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            rec = await _turn(f"http://127.0.0.1:{port}/v1", {"transport": "websocket"})
        ws_requests = [e for e in rec.of("telemetry.request") if e["transport"] == "websocket"]
        assert ws_requests[0]["error"] == CONNECTION_RESET
        # no retries left: the fallback warning names the same neutral text
        assert rec.of("warning")[0]["message"].endswith(
            f"stream disconnected before completion: {CONNECTION_RESET}"
        )

    run(body)
