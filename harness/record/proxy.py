"""The recording reverse proxy: the client talks to it on loopback, it talks to the upstream.

The client side is the fake server's stack (asyncio, h11, websockets' Sans-I/O
``ServerProtocol``); the upstream side is httpx (HTTP and SSE, streamed as it arrives,
``accept-encoding: identity`` so what is recorded is what the client reads) and
websockets' asyncio client. Everything relayed is recorded with one clock into
:mod:`harness.record.model` records; :meth:`RecordingProxy.stop` returns the
:class:`~harness.record.model.Recording`. Every wait is bounded: the upstream's connect
and read timeouts, the close handshakes, and ``stop``'s grace for exchanges in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import http
import json
import ssl as ssl_module
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import h11
import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.frames import Close, Frame, Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol
from websockets.typing import Subprotocol

from fake_server.server import is_loopback
from harness.record.model import Headers, HttpRecord, Recording, WsClose, WsFrame, WsRecord
from harness.record.sse import SseBlock, SseSplitter
from harness.record.writer import recorded_at


__all__ = ["RecordingProxy"]

_READ = 65536
_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "proxy-authenticate", "te", "trailer", "transfer-encoding", "upgrade"})
_WS_REQUEST_DROPPED = _HOP | {"host", "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol", "content-length"}
_WS_RESPONSE_DROPPED = _HOP | {"sec-websocket-accept", "sec-websocket-extensions", "sec-websocket-protocol", "date", "server", "content-length"}
_CONNECT_TIMEOUT = 10.0
_CLOSE_TIMEOUT = 3.0
_UNSENDABLE_CODES = frozenset({1005, 1006, 1015})


def _reason(status: int) -> bytes:
    try:
        return http.HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


def _headers(raw: Any) -> Headers:
    return tuple((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in raw)


@dataclass(slots=True)
class _WsState:
    t: float
    target: str
    headers: Headers
    frames: list[WsFrame] = field(default_factory=list)
    close: WsClose | None = None
    status: int = 101
    response_headers: Headers = ()
    response_body: bytes = b""
    fragments: list[bytes] = field(default_factory=list)
    fragment_kind: Literal["text", "binary"] | None = None

    def record(self) -> WsRecord:
        return WsRecord(t=self.t, target=self.target, headers=self.headers, status=self.status,
                        response_headers=self.response_headers, response_body=self.response_body,
                        frames=tuple(self.frames), close=self.close)


class RecordingProxy:
    """Serve on loopback, relay every request to ``upstream``, record what went both ways."""

    def __init__(
        self,
        upstream: str,
        *,
        ssl: ssl_module.SSLContext | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        upstream_timeout: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        log: Callable[[str], None] | None = None,
    ) -> None:
        split = urlsplit(upstream)
        if split.scheme not in ("http", "https", "ws", "wss") or not split.hostname:
            raise ValueError(f"--upstream must be an http(s):// or ws(s):// URL, got {upstream!r}")
        if not is_loopback(host):
            raise ValueError(f"refusing to listen on {host}: the recording proxy binds loopback only")
        secure = split.scheme in ("https", "wss")
        netloc = split.netloc.rpartition("@")[2]  # never forward userinfo
        self.upstream = upstream
        self.http_origin = f"{'https' if secure else 'http'}://{netloc}"
        self.ws_origin = f"{'wss' if secure else 'ws'}://{netloc}"
        self.base_path = split.path.rstrip("/") or "/v1"
        self.ssl = ssl if secure else None
        if secure and self.ssl is None:
            self.ssl = ssl_module.create_default_context()
        self.host = host
        self.port = port
        self.upstream_timeout = upstream_timeout
        self.clock = clock
        self.log = log or (lambda _line: None)
        self._t0 = clock()
        self._started_at = recorded_at()
        self._records: list[HttpRecord | WsRecord] = []
        self._unrecorded: list[str] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self._http: httpx.AsyncClient | None = None

    # -- lifecycle -----------------------------------------------------------------------
    def now(self) -> float:
        return self.clock() - self._t0

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What to configure the client with: this proxy, with the upstream's base path (default /v1)."""
        return self.origin + self.base_path

    async def start(self) -> None:
        self._http = httpx.AsyncClient(
            verify=self.ssl if self.ssl is not None else True,
            timeout=httpx.Timeout(self.upstream_timeout, connect=_CONNECT_TIMEOUT),
            follow_redirects=False,
            trust_env=False,
        )
        self._server = await asyncio.start_server(self._on_connection, self.host, self.port, limit=_READ)
        self.port = self._server.sockets[0].getsockname()[1]
        self._t0 = self.clock()
        self._started_at = recorded_at()

    async def stop(self, *, grace: float = 2.0) -> Recording:
        """Stop listening, let exchanges in flight finish (bounded by ``grace``), return the recording."""
        if self._server is not None:
            self._server.close()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace)
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)
        if self._http is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._http.aclose(), 1.0)
        return Recording(
            upstream=self.upstream,
            exchanges=tuple(sorted(self._records, key=lambda r: r.t)),
            started_at=self._started_at,
            duration=self.now(),
            unrecorded=tuple(self._unrecorded),
        )

    # -- connections ---------------------------------------------------------------------
    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task: asyncio.Task[Any] | None = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, h11.ProtocolError, OSError):
            pass
        except asyncio.CancelledError:
            pass  # stop(): the connection ends with the recording
        finally:
            self._writers.discard(writer)
            if not writer.transport.is_closing():
                writer.transport.close()
            self._tasks.discard(task)

    async def _next_event(self, conn: h11.Connection, reader: asyncio.StreamReader) -> Any:
        while True:
            event = conn.next_event()
            if event is not h11.NEED_DATA:
                return event
            data = await reader.read(_READ)
            conn.receive_data(data)
            if not data and conn.their_state is h11.IDLE:
                return h11.ConnectionClosed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        while True:
            event = await self._next_event(conn, reader)
            if not isinstance(event, h11.Request):
                return
            t = self.now()
            body = bytearray()
            while True:
                part = await self._next_event(conn, reader)
                if isinstance(part, h11.Data):
                    body += part.data
                elif isinstance(part, h11.EndOfMessage) or part is h11.PAUSED:
                    break
                else:
                    return
            headers = _headers(event.headers)
            if dict(headers).get("upgrade", "").lower() == "websocket":
                await self._websocket(t, event, headers, conn, reader, writer)
                return
            keep = await self._http_exchange(t, event, headers, bytes(body), conn, writer)
            if not keep or conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                return
            try:
                conn.start_next_cycle()
            except h11.LocalProtocolError:
                return

    async def _proxy_error(self, conn: h11.Connection, writer: asyncio.StreamWriter, why: str) -> None:
        body = json.dumps({"error": {"type": "wireplay_record", "message": why}}).encode()
        with contextlib.suppress(h11.ProtocolError, ConnectionError):
            writer.write(conn.send(h11.Response(status_code=502, reason=b"Bad Gateway",
                                                headers=[("content-type", "application/json"), ("content-length", str(len(body))), ("connection", "close")])))
            writer.write(conn.send(h11.Data(data=body)) + conn.send(h11.EndOfMessage()))
            await writer.drain()

    # -- HTTP and SSE --------------------------------------------------------------------
    async def _http_exchange(self, t: float, event: h11.Request, headers: Headers, body: bytes,
                             conn: h11.Connection, writer: asyncio.StreamWriter) -> bool:
        assert self._http is not None
        method = event.method.decode("latin-1")
        target = event.target.decode("latin-1")
        forwarded = [(k, v) for k, v in headers if k not in _HOP and k not in ("host", "content-length", "accept-encoding")]
        forwarded.append(("accept-encoding", "identity"))
        request = self._http.build_request(method, self.http_origin + target, headers=forwarded, content=body)
        try:
            response = await self._http.send(request, stream=True)
        except httpx.HTTPError as exc:
            why = f"{method} {target}: the upstream could not be reached ({type(exc).__name__}: {exc})"
            self._unrecorded.append(why)
            self.log(f"wireplay record: {why}")
            await self._proxy_error(conn, writer, why)
            return False
        t_response = self.now()
        status = response.status_code
        response_headers: Headers = tuple((k.lower(), v) for k, v in response.headers.multi_items())
        is_sse = dict(response_headers).get("content-type", "").startswith("text/event-stream")
        splitter = SseSplitter() if is_sse else None
        blocks: list[SseBlock] = []
        received = bytearray()
        end: Literal["complete", "drop"] = "complete"
        error = ""
        keep = True
        try:
            out = [(k, v) for k, v in response_headers if k not in _HOP and k not in ("content-length", "content-encoding")]
            writer.write(conn.send(h11.Response(status_code=status, headers=out, reason=response.reason_phrase.encode("latin-1", "replace") or _reason(status))))
            try:
                async for chunk in response.aiter_raw():
                    now = self.now()
                    if splitter is not None:
                        blocks += splitter.feed(chunk, now)
                    else:
                        received += chunk
                    writer.write(conn.send(h11.Data(data=chunk)))
                    await writer.drain()
            except httpx.HTTPError as exc:
                end, error, keep = "drop", f"{type(exc).__name__}: {exc}", False
            if keep:
                writer.write(conn.send(h11.EndOfMessage()))
                await writer.drain()
            else:
                writer.close()  # the upstream's body broke off: so does the client's
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(response.aclose(), 1.0)
            self._records.append(HttpRecord(
                t=t, method=method, target=target, headers=headers, body=body, status=status,
                response_headers=response_headers, t_response=t_response,
                response_body=bytes(received), sse=tuple(blocks) if splitter is not None else None,
                rest=splitter.rest() if splitter is not None else b"", end=end, error=error, t_end=self.now(),
            ))
        return keep

    # -- websocket -----------------------------------------------------------------------
    async def _websocket(self, t: float, event: h11.Request, headers: Headers, conn: h11.Connection,
                         reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        target = event.target.decode("latin-1")
        state = _WsState(t=t, target=target, headers=headers)
        offered = [p.strip() for p in dict(headers).get("sec-websocket-protocol", "").split(",") if p.strip()]
        forwarded = [(k, v) for k, v in headers if k not in _WS_REQUEST_DROPPED]
        try:
            upstream = await connect(
                self.ws_origin + target, additional_headers=forwarded, user_agent_header=None,
                subprotocols=[Subprotocol(p) for p in offered] or None, ssl=self.ssl, compression=None, max_size=None, proxy=None,
                open_timeout=_CONNECT_TIMEOUT, ping_interval=None, close_timeout=_CLOSE_TIMEOUT,
            )
        except InvalidStatus as exc:
            refused = exc.response
            state.status = refused.status_code
            state.response_headers = tuple((k.lower(), v) for k, v in refused.headers.raw_items())
            state.response_body = bytes(refused.body or b"")
            self._records.append(state.record())
            await self._refuse(conn, writer, state)
            return
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            why = f"websocket {target}: the upstream could not be reached ({type(exc).__name__}: {exc})"
            self._unrecorded.append(why)
            self.log(f"wireplay record: {why}")
            await self._proxy_error(conn, writer, why)
            return
        try:
            await self._relay(state, event, upstream, conn, reader, writer)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(upstream.close(), _CLOSE_TIMEOUT)
            self._records.append(state.record())

    async def _refuse(self, conn: h11.Connection, writer: asyncio.StreamWriter, state: _WsState) -> None:
        out = [(k, v) for k, v in state.response_headers if k not in _HOP and k != "content-length"]
        out.append(("content-length", str(len(state.response_body))))
        with contextlib.suppress(h11.ProtocolError, ConnectionError):
            writer.write(conn.send(h11.Response(status_code=state.status, headers=out, reason=_reason(state.status))))
            writer.write(conn.send(h11.Data(data=state.response_body)) + conn.send(h11.EndOfMessage()))
            await writer.drain()

    async def _relay(self, state: _WsState, event: h11.Request, upstream: ClientConnection, conn: h11.Connection,
                     reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        protocol = ServerProtocol(max_size=None, select_subprotocol=lambda _p, _offered: upstream.subprotocol)
        head = b"GET " + event.target + b" HTTP/1.1\r\n"
        head += b"".join(name + b": " + value + b"\r\n" for name, value in event.headers)
        protocol.receive_data(head + b"\r\n")
        (request,) = [e for e in protocol.events_received() if isinstance(e, Request)]
        response = protocol.accept(request)
        if upstream.response is not None:
            for name, value in upstream.response.headers.raw_items():
                if name.lower() not in _WS_RESPONSE_DROPPED:
                    response.headers[name] = value
        state.response_headers = tuple((k.lower(), v) for k, v in response.headers.raw_items())
        protocol.send_response(response)
        flush = functools.partial(_flush, protocol, writer)
        flush()
        if response.status_code != 101:
            state.status = response.status_code
            writer.close()
            return
        to_upstream = asyncio.create_task(self._client_side(state, protocol, upstream, reader, conn.trailing_data[0], flush))
        to_client = asyncio.create_task(self._upstream_side(state, protocol, upstream, writer, flush))
        try:
            await asyncio.wait({to_upstream, to_client}, return_when=asyncio.FIRST_COMPLETED)
            # One side is over; the other gets a bounded moment to finish its close.
            await asyncio.wait({to_upstream, to_client}, timeout=_CLOSE_TIMEOUT)
        finally:
            for task in (to_upstream, to_client):
                task.cancel()
            await asyncio.gather(to_upstream, to_client, return_exceptions=True)

    async def _client_side(self, state: _WsState, protocol: ServerProtocol, upstream: ClientConnection,
                           reader: asyncio.StreamReader, trailing: bytes, flush: Callable[[], None]) -> None:
        data = trailing
        while True:
            if not data:
                try:
                    data = await reader.read(_READ)
                except (ConnectionError, OSError):
                    data = b""
                if not data:
                    protocol.receive_eof()
                    if state.close is None:
                        state.close = WsClose(t=self.now(), by="client", code=None)
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(upstream.close(), _CLOSE_TIMEOUT)
                    return
            protocol.receive_data(data)
            data = b""
            for frame in protocol.events_received():
                if isinstance(frame, Frame) and not await self._from_client(state, frame, upstream):
                    flush()
                    return
            flush()

    async def _from_client(self, state: _WsState, frame: Frame, upstream: ClientConnection) -> bool:
        """Relay one client frame; False once the client closed."""
        op = frame.opcode
        if op is Opcode.CLOSE:
            close = Close.parse(bytes(frame.data)) if frame.data else None
            if state.close is None:
                state.close = WsClose(t=self.now(), by="client", code=close.code if close else 1005, reason=close.reason if close else "")
            code = close.code if close and close.code not in _UNSENDABLE_CODES else 1000
            with contextlib.suppress(Exception):
                await asyncio.wait_for(upstream.close(code, close.reason if close else ""), _CLOSE_TIMEOUT)
            return False
        if op in (Opcode.TEXT, Opcode.BINARY):
            state.fragment_kind = "text" if op is Opcode.TEXT else "binary"
            state.fragments = [bytes(frame.data)]
        elif op is Opcode.CONT:
            state.fragments.append(bytes(frame.data))
        else:
            return True  # ping / pong: the Sans-I/O protocol answers pings itself
        if not frame.fin or state.fragment_kind is None:
            return True
        kind, data = state.fragment_kind, b"".join(state.fragments)
        state.fragment_kind, state.fragments = None, []
        state.frames.append(WsFrame(t=self.now(), sender="client", kind=kind, data=data))
        try:
            if kind == "text":
                await upstream.send(data.decode("utf-8", "replace"))
            else:
                await upstream.send(data)
        except ConnectionClosed:
            pass  # the upstream is gone; its side records how
        return True

    async def _upstream_side(self, state: _WsState, protocol: ServerProtocol, upstream: ClientConnection,
                             writer: asyncio.StreamWriter, flush: Callable[[], None]) -> None:
        try:
            async for message in upstream:
                data = message.encode() if isinstance(message, str) else bytes(message)
                kind: Literal["text", "binary"] = "text" if isinstance(message, str) else "binary"
                state.frames.append(WsFrame(t=self.now(), sender="server", kind=kind, data=data))
                if kind == "text":
                    protocol.send_text(data)
                else:
                    protocol.send_binary(data)
                flush()
                await writer.drain()
        except ConnectionClosed:
            pass
        if state.close is not None:
            return  # the client closed first; its side finished the handshake
        received = upstream.protocol.close_rcvd
        if received is None:
            state.close = WsClose(t=self.now(), by="server", code=None)
            writer.close()  # the upstream dropped TCP: so does the proxy
            return
        state.close = WsClose(t=self.now(), by="server", code=received.code, reason=received.reason)
        with contextlib.suppress(Exception):
            if received.code in _UNSENDABLE_CODES:
                protocol.send_close()
            else:
                protocol.send_close(received.code, received.reason)
            flush()
            await writer.drain()


def _flush(protocol: ServerProtocol, writer: asyncio.StreamWriter) -> None:
    data = protocol.data_to_send()
    payload = b"".join(data)
    if payload and not writer.transport.is_closing():
        writer.write(payload)
    if data and not data[-1] and not writer.transport.is_closing():
        if writer.can_write_eof():
            with contextlib.suppress(OSError, RuntimeError):
                writer.write_eof()
        else:
            writer.close()


