"""Loopback fakes for the Responses client tests: HTTP/SSE, websocket, raw websocket.

Plain asyncio servers on port 0; every wait in them is bounded or ends at shutdown.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hashlib
import json
import ssl
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response


WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def sse(*events: dict[str, Any]) -> bytes:
    """codex's test builder: `event:` + `data:` per event; type-only events get no data."""
    out = ""
    for event in events:
        if len(event) == 1:
            out += f"event: {event['type']}\n\n"
        else:
            out += f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"
    return out.encode()


def created(rid: str, **response: Any) -> dict[str, Any]:
    return {"type": "response.created", "response": {"id": rid, **response}}


def completed(rid: str, usage: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"id": rid}
    if usage is not None:
        response["usage"] = usage
    return {"type": "response.completed", "response": response}


def message(mid: str, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "response.output_item.done",
        "item": {
            "type": "message",
            "role": "assistant",
            "id": mid,
            "content": [{"type": "output_text", "text": text}],
            **extra,
        },
    }


def function_call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {
        "type": "response.output_item.done",
        "item": {
            "type": "function_call",
            "id": f"fc_{call_id}",
            "name": name,
            "arguments": arguments,
            "call_id": call_id,
        },
    }


def failed(code: str, text: str) -> dict[str, Any]:
    return {"type": "response.failed", "response": {"error": {"code": code, "message": text}}}


# -- HTTP ----------------------------------------------------------------------------------


@dataclass
class Reply:
    """One scripted answer; `chunks` items are bytes or a float (sleep seconds)."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    chunks: list[bytes | float] = field(default_factory=list)
    hang: bool = False  # keep the socket open after the chunks
    drop: bool = False  # close without answering (network error)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class FakeHttpServer:
    """`POST .../responses` pops `replies`; upgrade `GET`s pop `ws_statuses` (else 404)."""

    def __init__(
        self,
        replies: list[Reply],
        ws_statuses: list[int] | None = None,
        *,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.replies = list(replies)
        self._tls = tls
        self.ws_statuses = list(ws_statuses or [])
        self.requests: list[Seen] = []
        self._server: asyncio.Server | None = None
        self._stop = asyncio.Event()
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._port = 0

    @property
    def base_url(self) -> str:
        scheme = "https" if self._tls else "http"
        return f"{scheme}://127.0.0.1:{self._port}/v1"

    def posts(self) -> list[Seen]:
        return [r for r in self.requests if r.method == "POST"]

    def gets(self) -> list[Seen]:
        return [r for r in self.requests if r.method == "GET"]

    async def __aenter__(self) -> FakeHttpServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self._tls)
        self._port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._server is not None
        self._server.close()
        await _finish(self._writers, self._tasks)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        self._tasks.add(asyncio.current_task())  # type: ignore[arg-type]
        try:
            while not self._stop.is_set():
                if not await self._one(reader, writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.requests.append(Seen(method, path, headers, body))
        if method == "GET":
            status = self.ws_statuses.pop(0) if self.ws_statuses else 404
            text = json.dumps({"error": {"message": f"ws status {status}"}}).encode()
            await _write_response(writer, status, [], text)
            return False
        if not self.replies:
            await _write_response(writer, 500, [], b"no responses queued")
            return False
        reply = self.replies.pop(0)
        if reply.drop:
            return False
        if reply.status != 200:
            body_bytes = b"".join(c for c in reply.chunks if isinstance(c, bytes))
            await _write_response(writer, reply.status, reply.headers, body_bytes)
            return True
        head_lines = ["HTTP/1.1 200 OK", "content-type: text/event-stream",
                      "cache-control: no-cache", "connection: close"]  # fmt: skip
        head_lines += [f"{k}: {v}" for k, v in reply.headers]
        writer.write(("\r\n".join(head_lines) + "\r\n\r\n").encode())
        await writer.drain()
        for chunk in reply.chunks:
            if isinstance(chunk, float):
                await asyncio.sleep(chunk)
            else:
                writer.write(chunk)
                await writer.drain()
        if reply.hang:
            await self._stop.wait()
        return False


async def _finish(writers: set[asyncio.StreamWriter], tasks: set[asyncio.Task[Any]]) -> None:
    """Abort open sockets and wait (bounded) for every connection handler to end."""
    for writer in list(writers):
        writer.transport.abort()
    pending = [t for t in tasks if not t.done()]
    if pending:
        await asyncio.wait(pending, timeout=2)
    for task in pending:
        if not task.done():
            task.cancel()


async def _write_response(
    writer: asyncio.StreamWriter, status: int, headers: list[tuple[str, str]], body: bytes
) -> None:
    lines = [
        f"HTTP/1.1 {status} X",
        f"content-length: {len(body)}",
        "content-type: application/json",
    ]
    lines += [f"{k}: {v}" for k, v in headers]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    await writer.drain()


# -- websocket (websockets server) ----------------------------------------------------------


@dataclass
class Conn:
    """Per accepted connection: for each batch wait for one client message, then send it."""

    batches: list[list[Any]] = field(default_factory=list)
    close_after: bool = True
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    reject_status: int | None = None


class FakeWsServer:
    def __init__(self, conns: list[Conn], *, tls: ssl.SSLContext | None = None) -> None:
        self.conns = list(conns)
        self._tls = tls
        self.handshakes: list[dict[str, str]] = []
        self.connections: list[list[Any]] = []
        self._server: Any = None
        self._stop = asyncio.Event()
        self._scripts: dict[int, Conn] = {}
        self._port = 0

    @property
    def base_url(self) -> str:
        scheme = "https" if self._tls else "http"
        return f"{scheme}://127.0.0.1:{self._port}/v1"

    def frames(self, index: int = 0) -> list[dict[str, Any]]:
        return [json.loads(m) for m in self.connections[index]]

    async def __aenter__(self) -> FakeWsServer:
        self._server = await serve(self._handler, "127.0.0.1", 0, compression=None,
                                   process_request=self._process_request,
                                   process_response=self._process_response,
                                   ping_interval=None, ssl=self._tls)  # fmt: skip
        self._port = next(iter(self._server.sockets)).getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(3):
                await self._server.wait_closed()

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        self.handshakes.append({k.lower(): v for k, v in request.headers.raw_items()})
        script = self.conns.pop(0) if self.conns else Conn(reject_status=404)
        self._scripts[id(connection)] = script
        if script.reject_status is not None:
            return connection.respond(script.reject_status, "rejected\n")
        return None

    def _process_response(
        self, connection: ServerConnection, request: Request, response: Response
    ) -> None:
        for name, value in self._scripts[id(connection)].response_headers:
            response.headers[name] = value

    async def _handler(self, ws: ServerConnection) -> None:
        script = self._scripts[id(ws)]
        received: list[Any] = []
        self.connections.append(received)
        try:
            for batch in script.batches:
                received.append(await ws.recv())
                for event in batch:
                    await ws.send(event if isinstance(event, str | bytes) else json.dumps(event))
            if script.close_after:
                await ws.close()
            else:
                while True:
                    received.append(await ws.recv())
        except Exception:  # the client went away
            return


# -- websocket that never answers a close handshake -----------------------------------------


class RawWsServer:
    """Minimal RFC 6455 server: replies per batch, then ignores everything (no close reply)."""

    def __init__(self, conns: list[list[list[dict[str, Any]]]]) -> None:
        self.conns = list(conns)
        self.handshakes: list[dict[str, str]] = []
        self.connections: list[list[dict[str, Any]]] = []
        self.closes_received = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/v1"

    async def __aenter__(self) -> RawWsServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self._port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await _finish(self._writers, self._tasks)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        self._tasks.add(asyncio.current_task())  # type: ignore[arg-type]
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            headers = {}
            for line in head[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            self.handshakes.append(headers)
            if "sec-websocket-key" not in headers:
                writer.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
                return
            accept = base64.b64encode(
                hashlib.sha1((headers["sec-websocket-key"] + WS_GUID).encode()).digest()
            ).decode()
            writer.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                          f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n").encode())  # fmt: skip
            batches = self.conns.pop(0) if self.conns else []
            received: list[dict[str, Any]] = []
            self.connections.append(received)
            for batch in batches:
                opcode, payload = await _read_frame(reader)
                if opcode == 8:
                    self.closes_received += 1
                    break
                received.append(json.loads(payload))
                for event in batch:
                    writer.write(_text_frame(json.dumps(event).encode()))
                await writer.drain()
            while True:  # never answer a close frame
                opcode, _ = await _read_frame(reader)
                if opcode == 8:
                    self.closes_received += 1
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()


async def _read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    first, second = await reader.readexactly(2)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", await reader.readexactly(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", await reader.readexactly(8))
    mask = await reader.readexactly(4) if second & 0x80 else b"\x00\x00\x00\x00"
    data = await reader.readexactly(length)
    return first & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def _text_frame(payload: bytes) -> bytes:
    if len(payload) < 126:
        header = struct.pack("!BB", 0x81, len(payload))
    elif len(payload) < 65536:
        header = struct.pack("!BBH", 0x81, 126, len(payload))
    else:
        header = struct.pack("!BBQ", 0x81, 127, len(payload))
    return header + payload


_SCHEMAS = Path(__file__).resolve().parents[3] / "schemas" / "events"


@functools.cache
def _validator(name: str) -> jsonschema.Draft202012Validator | None:
    path = _SCHEMAS / f"{name}.schema.json"
    if not path.exists():
        return None
    return jsonschema.Draft202012Validator(json.loads(path.read_text()))


def check_event(event: dict[str, Any]) -> None:
    """Every emitted event must match its schema (responses, or common for error/warning)."""
    common = event.get("type") in ("error", "warning")
    validator = _validator("common" if common else "responses")
    if validator is not None:
        errors = sorted(str(e.message) for e in validator.iter_errors(event))
        assert not errors, f"{event} does not match its schema: {errors}"


class Recorder:
    """The `emit` callback: keeps events (schema-checked); `of(type)` filters, `types()` lists."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.times: list[float] = []

    def __call__(self, event: dict[str, Any]) -> None:
        check_event(event)
        self.events.append(event)
        self.times.append(time.monotonic())

    def time_of(self, kind: str) -> float:
        """Monotonic time at which the first event of `kind` was emitted."""
        return next(t for e, t in zip(self.events, self.times, strict=True) if e["type"] == kind)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]

    def types(self, *, telemetry: bool = False) -> list[str]:
        return [
            e["type"] for e in self.events if telemetry or not e["type"].startswith("telemetry.")
        ]
