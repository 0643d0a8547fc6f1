"""Loopback fakes for the auth tests: a token endpoint and a Responses endpoint in one server.

A plain asyncio HTTP/1.1 server on port 0 that pops one scripted reply per request
and records what it saw; every wait is bounded or ends at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


# Fake, JWT-shaped tokens: never real, but shaped like real ones so redaction is exercised.
AT1 = (
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjQxMDI0NDQ4MDAsImp0aSI6InRlc3QtYXQxIn0"
    ".aW5pdGlhbC1hY2Nlc3MtdG9rZW4tc2lnbmF0dXJlLXRlc3Qtb25seQ"
)
AT2 = (
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjQxMDI0NDQ4MDAsImp0aSI6InRlc3QtYXQyIn0"
    ".cmVsb2FkZWQtYWNjZXNzLXRva2VuLXNpZ25hdHVyZS10ZXN0LW9ubHk"
)
AT3 = (
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjQxMDI0NDQ4MDAsImp0aSI6InRlc3QtYXQzIn0"
    ".cmVmcmVzaGVkLWFjY2Vzcy10b2tlbi1zaWduYXR1cmUtdGVzdC1vbmx5"
)
RT1 = "rt_dGVzdC1yZWZyZXNoLXRva2VuLW9uZS1vbmx5LWZvci10ZXN0cw"
RT2 = "rt_dGVzdC1yZWZyZXNoLXRva2VuLXR3by1vbmx5LWZvci10ZXN0cw"
ACCOUNT = "acct_test_1"
SECRETS = (AT1, AT2, AT3, RT1, RT2)


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON value, bytes, or None
    headers: list[tuple[str, str]] = field(default_factory=list)
    sse: bool = False


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class FakeServer:
    """Pops `replies[path]` per request (404 when a path has none left)."""

    def __init__(self, replies: dict[str, list[Reply]]) -> None:
        self.replies = {path: list(items) for path, items in replies.items()}
        self.requests: list[Seen] = []
        self._server: asyncio.Server | None = None
        self._port = 0

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def seen(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]

    async def __aenter__(self) -> FakeServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self._port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(10):
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append(Seen(method, path, headers, body))
                queue = self.replies.get(path) or []
                reply = queue.pop(0) if queue else Reply(404, {"error": {"message": "none"}})
                await _write(writer, reply)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        finally:
            writer.close()


async def _write(writer: asyncio.StreamWriter, reply: Reply) -> None:
    if isinstance(reply.body, bytes):
        payload = reply.body
    elif reply.body is None:
        payload = b""
    else:
        payload = json.dumps(reply.body).encode()
    kind = "text/event-stream" if reply.sse else "application/json"
    lines = [f"HTTP/1.1 {reply.status} X", f"content-type: {kind}",
             f"content-length: {len(payload)}", "connection: close"]  # fmt: skip
    lines += [f"{k}: {v}" for k, v in reply.headers]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
    await writer.drain()


def sse_completed(rid: str) -> Reply:
    event = {"type": "response.completed", "response": {"id": rid}}
    body = f"event: response.completed\ndata: {json.dumps(event)}\n\n".encode()
    return Reply(200, body, sse=True)


def run(test: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(30):
            await test()

    asyncio.run(bounded())
