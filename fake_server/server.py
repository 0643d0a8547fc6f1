"""The asyncio fake server: HTTP/1.1, SSE and websocket on one port.

It binds 127.0.0.1 on an OS-chosen port unless told otherwise, parses requests with
h11, hands websocket upgrades to ``fake_server.ws`` (websockets' Sans-I/O protocol),
and plays the script's replies, faults included. It never decides a verdict: it
records everything in the transcript, plus findings where the client did not do
what the script expected. Every wait is bounded by the caller's deadline: ``aclose``
ends every connection and task.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import http
import ipaddress
import itertools
import json
import socket
import ssl as ssl_module
import struct
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import h11

from fake_server.matchers import match
from fake_server.proxy import ConnectProxy, ProxyOptions
from fake_server.router import RequestHead, Router
from fake_server.script import MAIN_LISTENER, Exchange, HttpReply, Script, describe_await
from fake_server.transcript import Finding, Transcript


__all__ = ["FakeServer", "LoopbackOnlyError", "abort_with_reset", "is_loopback"]

_READ_SIZE = 65536
_QUIET_ROUNDS = 8  # loop iterations without a new record before the transcript counts as settled
_SSE_BATCH = 32  # events per chunk when the script asks for no pause between them


class LoopbackOnlyError(ValueError):
    """Raised when asked to bind a non-loopback address without ``allow_remote``."""


def abort_with_reset(writer: asyncio.StreamWriter) -> None:
    """Close the TCP connection with a RST (SO_LINGER 0), not a FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _decode_body(headers: dict[str, str], body: bytes) -> Any:
    if not body:
        return None
    text = body.decode("utf-8", "replace")
    if "json" in headers.get("content-type", "") or text[:1] in "{[":
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


class FakeServer:
    """A scriptable server for one case. Use as ``async with FakeServer(script) as srv``."""

    def __init__(
        self,
        script: Script,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl: ssl_module.SSLContext | None = None,
        clock: Callable[[], float] = time.monotonic,
        allow_remote: bool = False,
        proxy: ProxyOptions | None = None,
    ) -> None:
        if not is_loopback(host) and not allow_remote:
            raise LoopbackOnlyError(
                f"refusing to bind {host}: the fake server binds loopback only; "
                "pass allow_remote=True (CLI: --allow-remote) to bind another address"
            )
        self.script = script
        self.host = host
        self.port = port
        self.ssl = ssl
        self.transcript = Transcript(clock=clock)
        self.router = Router(script)
        self._servers: dict[str, asyncio.Server] = {}
        self.ports: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._closed = False
        self._busy: set[int] = set()
        self._signals: dict[str, asyncio.Event] = {}
        # A case's CONNECT proxy (server.proxy): its own port, this transcript and conn ids.
        self.proxy = ConnectProxy(proxy, transcript=self.transcript, ids=self._ids, host=host) if proxy else None

    # -- lifecycle -------------------------------------------------------
    async def start(self) -> None:
        """Listen: the main listener on ``port``, each extra one the script names on a port of its own."""
        for name in (MAIN_LISTENER, *self.script.listeners):
            server = await asyncio.start_server(
                functools.partial(self._on_connection, listener=name), self.host,
                self.port if name == MAIN_LISTENER else 0, ssl=self.ssl, limit=_READ_SIZE,
            )
            self._servers[name] = server
            self.ports[name] = server.sockets[0].getsockname()[1]
            self.transcript.add("listen", host=self.host, port=self.ports[name], tls=self.ssl is not None, listener=name)
        self.port = self.ports[MAIN_LISTENER]
        if self.proxy is not None:
            await self.proxy.start()

    def origin_of(self, listener: str = MAIN_LISTENER) -> str:
        """``http(s)://host:port`` of a listener."""
        scheme = "https" if self.ssl else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.ports[listener]}"

    @property
    def origin(self) -> str:
        return self.origin_of(MAIN_LISTENER)

    async def __aenter__(self) -> FakeServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop listening, end every connection (stalled ones included), cancel tasks."""
        if self._closed:
            return
        self._closed = True
        if self.proxy is not None:
            await self.proxy.aclose()
        for server in self._servers.values():
            server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2.0)
        for server in self._servers.values():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), timeout=1.0)

    def _signal(self, key: str) -> asyncio.Event:
        return self._signals.setdefault(key, asyncio.Event())

    def mark(self, conn: int, name: str) -> None:
        """Record a time mark; a step awaiting it (on any connection or listener) goes on."""
        self.transcript.add("mark", conn=conn, name=name)
        self._signal(f"mark:{name}").set()

    async def awaited(self, what: Mapping[str, Any], *, timeout: float) -> bool:
        """Wait (bounded) for ``{mark: name}`` to be recorded or ``{exchange: name}`` to get a request."""
        key = f"mark:{what['mark']}" if "mark" in what else f"exchange:{what['exchange']}"
        try:
            await asyncio.wait_for(self._signal(key).wait(), timeout)
        except TimeoutError:
            return False
        return True

    def set_busy(self, conn: int, *, busy: bool) -> None:
        """Mark a connection as working (sending, sleeping, expecting) or waiting on the client."""
        if busy:
            self._busy.add(conn)
        else:
            self._busy.discard(conn)

    async def settle(self, *, timeout: float) -> None:
        """Wait (bounded) until no connection is mid-script, so the transcript is complete."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        await asyncio.sleep(0)
        while self._busy and loop.time() < deadline:
            await asyncio.sleep(0.001)
        # Then let in-flight bytes (a close frame, an EOF) reach the transcript: spin the
        # loop until it records nothing new for a few rounds, instead of sleeping blind.
        quiet, seen = 0, len(self.transcript.records)
        while quiet < _QUIET_ROUNDS and loop.time() < deadline:
            await asyncio.sleep(0)
            quiet = quiet + 1 if len(self.transcript.records) == seen and not self._busy else 0
            seen = len(self.transcript.records)

    async def quiet(self, *, idle: float, timeout: float) -> bool:
        """Wait (bounded) until no connection is mid-script and nothing new was recorded
        for ``idle`` seconds: the server has said all it will say until the client acts."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen, since = len(self.transcript.records), loop.time()
        while loop.time() < deadline:
            await asyncio.sleep(min(0.01, idle))
            now = len(self.transcript.records)
            if now != seen or self._busy:
                seen, since = now, loop.time()
            elif loop.time() - since >= idle:
                return True
        return False

    def findings(self) -> list[Finding]:
        """Everything the client did against the script, as wire failures."""
        return [*self.transcript.findings(), *self.router.unmet()]

    # -- connections -----------------------------------------------------
    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, listener: str = MAIN_LISTENER) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        self._writers.add(writer)
        conn = next(self._ids)
        peer = writer.get_extra_info("peername")
        self.transcript.add("connect", conn=conn, peer=f"{peer[0]}:{peer[1]}" if peer else "", listener=listener)
        try:
            await self._serve_http(conn, reader, writer, listener=listener)
        except (ConnectionError, asyncio.IncompleteReadError, ssl_module.SSLError) as exc:
            self.transcript.add("disconnect", conn=conn, error=type(exc).__name__)
        except asyncio.CancelledError:
            # Top of this connection's task: ending quietly is the point of cancelling it.
            self.transcript.add("disconnect", conn=conn, by="server", reason="case ended")
        except h11.RemoteProtocolError as exc:
            self.transcript.finding(f"client sent invalid HTTP: {exc}", layer=self.script.layer, conn=conn)
        except h11.LocalProtocolError as exc:
            # The case asked for something HTTP cannot carry (e.g. a header value with
            # surrounding spaces): say so instead of silently dropping the connection.
            self.transcript.finding(f"the case's scripted reply is not valid HTTP/1.1: {exc}", layer=self.script.layer, conn=conn)
        finally:
            self.set_busy(conn, busy=False)
            self._writers.discard(writer)
            if not writer.transport.is_closing():
                writer.transport.close()
            self._tasks.discard(task)  # type: ignore[arg-type]

    async def _next_event(self, conn: h11.Connection, reader: asyncio.StreamReader) -> Any:
        while True:
            event = conn.next_event()
            if event is not h11.NEED_DATA:
                return event
            data = await reader.read(_READ_SIZE)
            conn.receive_data(data)
            if not data and conn.their_state is h11.IDLE:
                return h11.ConnectionClosed()

    async def _serve_http(self, conn_id: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, listener: str) -> None:
        conn = h11.Connection(h11.SERVER)
        while True:
            self.set_busy(conn_id, busy=False)
            event = await self._next_event(conn, reader)
            self.set_busy(conn_id, busy=True)
            if isinstance(event, h11.ConnectionClosed):
                self.transcript.add("disconnect", conn=conn_id, by="client")
                return
            if not isinstance(event, h11.Request):
                return
            body = bytearray()
            while True:
                part = await self._next_event(conn, reader)
                if isinstance(part, h11.Data):
                    body += part.data
                elif isinstance(part, h11.EndOfMessage) or part is h11.PAUSED:
                    break
                elif isinstance(part, h11.ConnectionClosed):
                    self.transcript.add("disconnect", conn=conn_id, by="client", during="request body")
                    return
            head, headers_list = self._head(event, listener=listener)
            body_value = _decode_body(dict(head.headers), bytes(body))
            self.transcript.add(
                "request",
                conn=conn_id,
                method=head.method,
                target=event.target.decode("latin-1"),
                path=head.path,
                query=dict(head.query),
                headers=headers_list,
                body=body_value,
                websocket=head.websocket,
                listener=listener,
            )
            exchange, order_findings = self.router.route(head)
            if exchange is not None and exchange.name:
                self._signal(f"exchange:{exchange.name}").set()
            for found in order_findings:
                self.transcript.finding(found.message, layer=found.layer, conn=conn_id)
            if exchange is None:
                message = f"no scripted exchange matches {'websocket ' if head.websocket else ''}{head.method} {event.target.decode('latin-1')} (answered 404)"
                self.transcript.finding(message, layer=self.script.layer, conn=conn_id)
                await self._send_reply(conn_id, conn, writer, HttpReply(
                    status=404,
                    headers=(("content-type", "application/json"),),
                    body=json.dumps({"error": {"type": "wireplay_unmatched", "message": message}}).encode(),
                ))
            else:
                self._check_expect(conn_id, exchange, head, body_value)
                if head.websocket and exchange.reply is None:
                    from fake_server.ws import serve_websocket

                    await serve_websocket(
                        self, conn_id, exchange, event, reader, writer, trailing=conn.trailing_data[0]
                    )
                    return
                assert exchange.reply is not None
                keep = await self._send_reply(conn_id, conn, writer, exchange.reply)
                if not keep:
                    return
            if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                writer.close()
                return
            try:
                conn.start_next_cycle()
            except h11.LocalProtocolError:
                writer.close()
                return

    def _head(self, event: h11.Request, *, listener: str) -> tuple[RequestHead, list[list[str]]]:
        target = event.target.decode("latin-1")
        split = urlsplit(target)
        headers_list = [[k.decode("latin-1").lower(), v.decode("latin-1")] for k, v in event.headers]
        headers = dict(headers_list)
        websocket = headers.get("upgrade", "").lower() == "websocket"
        head = RequestHead(
            target=target,
            method=event.method.decode("latin-1"),
            path=split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers=headers,
            websocket=websocket,
            listener=listener,
        )
        return head, headers_list

    def _check_expect(self, conn_id: int, exchange: Exchange, head: RequestHead, body: Any) -> None:
        expected = exchange.expect
        actual = {"headers": dict(head.headers), "query": dict(head.query), "body": body, "target": head.target}
        for part in ("target", "headers", "query", "body"):
            if part not in expected:
                continue
            found = match(expected[part], actual[part], path=part)
            if found:
                self.transcript.finding(f"{exchange.path}.expect.{found}", layer=exchange.expect_layer, conn=conn_id)

    async def _send_reply(self, conn_id: int, conn: h11.Connection, writer: asyncio.StreamWriter, reply: HttpReply) -> bool:
        """Write a reply; return whether the connection may serve another request."""
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.abort is not None:
            self.transcript.add("fault", conn=conn_id, fault=f"{reply.abort} before the status line")
            if reply.abort == "reset":
                abort_with_reset(writer)
            else:
                writer.close()
            return False
        headers = list(reply.headers)
        names = {k for k, _ in headers}
        if reply.body is not None and "content-length" not in names:
            headers.append(("content-length", str(len(reply.body))))
        try:
            reason = http.HTTPStatus(reply.status).phrase
        except ValueError:
            reason = "Status"
        head = conn.send(h11.Response(status_code=reply.status, headers=headers, reason=reason))
        self.transcript.add("response", conn=conn_id, status=reply.status, headers=[list(h) for h in headers])
        if reply.body is not None:
            # Head and body in one write (one segment): a client that reads a refused
            # upgrade's body from what arrived with its head must find it there.
            writer.write(head + conn.send(h11.Data(data=reply.body)))
        else:
            writer.write(head)
        if reply.sse is not None:
            await self._stream_sse(conn_id, conn, writer, reply)
        await writer.drain()
        return await self._end_reply(conn_id, conn, writer, reply)

    async def _stream_sse(self, conn_id: int, conn: h11.Connection, writer: asyncio.StreamWriter, reply: HttpReply) -> None:
        """Stream as we go: consecutive events share a chunk (up to a batch), and the
        loop yields between batches so the first event is on the wire at once."""
        batch: list[bytes] = []
        first = True

        async def flush() -> None:
            if batch:
                writer.write(conn.send(h11.Data(data=b"".join(batch))))
                batch.clear()
                await writer.drain()
                await asyncio.sleep(0)

        for step in reply.sse or ():
            if step.op == "sleep":
                await flush()
                await asyncio.sleep(float(step.payload))
                continue
            if step.op == "mark":
                await flush()
                self.mark(conn_id, step.payload)
                continue
            if step.op == "await":
                await flush()
                if not await self.awaited(step.payload, timeout=self.script.expect_timeout):
                    self.transcript.finding(f"{step.path}: {describe_await(step.payload)} did not come within {self.script.expect_timeout:g}s", layer=self.script.layer, conn=conn_id)
                continue
            if reply.pace:
                await flush()
                await asyncio.sleep(reply.pace)
            batch.append(step.data)
            self.transcript.add("sse", conn=conn_id, op=step.op, data=step.payload, repeat=step.repeat)
            if reply.pace or len(batch) >= _SSE_BATCH or first:
                first = False  # the first event goes out alone, at once
                await flush()
        await flush()

    async def _end_reply(self, conn_id: int, conn: h11.Connection, writer: asyncio.StreamWriter, reply: HttpReply) -> bool:
        if reply.end == "complete":
            writer.write(conn.send(h11.EndOfMessage()))
            await writer.drain()
            return True
        self.transcript.add("fault", conn=conn_id, fault=reply.end)
        if reply.end == "drop":
            writer.close()
        elif reply.end == "reset":
            abort_with_reset(writer)
        else:  # "hang": keep the connection open, send nothing more, until the case ends
            self.set_busy(conn_id, busy=False)
            await asyncio.Event().wait()
        return False
