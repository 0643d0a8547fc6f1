"""One scripted websocket connection, on websockets' Sans-I/O ``ServerProtocol``.

The Sans-I/O protocol *returns* the bytes to send instead of writing them, which is
what makes the close-handshake faults exact: to stall a close, the server simply
never writes the close frame the protocol queued in answer to the client's, and
keeps the TCP connection open. A reader task feeds client frames to a queue; the
script task consumes it step by step, each wait bounded.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import socket
from typing import TYPE_CHECKING, Any

import h11
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.frames import Close, Frame, Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol

from fake_server.matchers import match, render
from fake_server.script import Exchange, WsStep, describe_await


if TYPE_CHECKING:
    from fake_server.server import FakeServer

__all__ = ["serve_websocket"]

_CLOSE_REPLY_WAIT = 2.0
_SEND_BATCH = 32  # frames written between two yields to the event loop
_PAUSED_RCVBUF = 65_536  # a pause_reading step's receive buffer: the client's backlog builds on its side
_SEND_OPS = frozenset({"send", "send_text", "send_binary"})


class _Conn:
    """State of one websocket connection: protocol, I/O, inbox and fault flags."""

    def __init__(self, server: FakeServer, conn_id: int, exchange: Exchange, writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.t = server.transcript
        self.conn_id = conn_id
        self.exchange = exchange
        self.writer = writer
        extensions = [ServerPerMessageDeflateFactory()] if exchange.compression else None
        self.protocol = ServerProtocol(extensions=extensions, max_size=None)
        self.inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.stalled = False
        self.stall_on_close = exchange.on_close == "stall"
        self.closed = asyncio.Event()
        self.reading = asyncio.Event()  # cleared while a pause_reading step holds the reads
        self.reading.set()
        self._fragments: list[bytes] = []
        self._unyielded = 0
        self._fragment_opcode: Opcode | None = None
        self._messages = 0

    def finding(self, message: str, *, layer: str | None = None) -> None:
        """A wire failure: of ``layer`` (a step's), else of the exchange itself."""
        self.t.finding(message, layer=layer or self.exchange.layer, conn=self.conn_id)

    def flush(self) -> None:
        data = self.protocol.data_to_send()
        if self.stalled:
            return
        payload = b"".join(data)
        if payload:
            self.writer.write(payload)  # one write (one syscall) for everything queued
        if data and not data[-1] and not self.writer.transport.is_closing():
            # websockets signals "half-close now" with a final empty chunk (SEND_EOF); TLS
            # cannot half-close, so there the server closes TCP, as RFC 6455 has it do.
            if self.writer.can_write_eof():
                with contextlib.suppress(OSError, RuntimeError):
                    self.writer.write_eof()
            else:
                self.writer.close()

    # -- reading -----------------------------------------------------------
    async def read_loop(self, reader: asyncio.StreamReader, trailing: bytes) -> None:
        if trailing:
            self._receive(trailing)
        while not self.closed.is_set():
            # Not the transport's own pause_reading: StreamReader resumes it as its buffer
            # drains. Not reading at all lets the buffers fill up to the client's writes.
            await self.reading.wait()
            try:
                data = await reader.read(65536)
            except (ConnectionError, OSError):
                data = b""
            if not data:
                self.protocol.receive_eof()
                self._drain_events()
                self.t.add("disconnect", conn=self.conn_id, by="client")
                self.inbox.put_nowait(("eof", None))
                self.closed.set()
                return
            self._receive(data)

    def _receive(self, data: bytes) -> None:
        self.protocol.receive_data(data)
        self._drain_events()
        self.flush()

    def _drain_events(self) -> None:
        for frame in self.protocol.events_received():
            if isinstance(frame, Frame):
                self._on_frame(frame)

    def _on_frame(self, frame: Frame) -> None:
        op = frame.opcode
        if op in (Opcode.TEXT, Opcode.BINARY):
            if not frame.fin:
                self._fragment_opcode, self._fragments = op, [bytes(frame.data)]
                return
            self._on_message(op, bytes(frame.data))
        elif op is Opcode.CONT:
            self._fragments.append(bytes(frame.data))
            if frame.fin and self._fragment_opcode is not None:
                self._on_message(self._fragment_opcode, b"".join(self._fragments))
                self._fragment_opcode, self._fragments = None, []
        elif op is Opcode.CLOSE:
            close = Close.parse(bytes(frame.data)) if frame.data else None
            code = close.code if close else None
            reason = close.reason if close else ""
            self.t.add("ws_close_recv", conn=self.conn_id, code=code, reason=reason)
            if self.stall_on_close and not self.stalled:
                self.stalled = True
                self.protocol.data_to_send()  # discard the queued close reply
                self.t.add("fault", conn=self.conn_id, fault="stall_close")
            elif not self.stalled:
                self.t.add("ws_close_send", conn=self.conn_id, code=code, reason=reason, echo=True)
            self.inbox.put_nowait(("close", (code, reason)))
        elif op is Opcode.PING:
            self.t.add("ws_ping", conn=self.conn_id, data=bytes(frame.data).hex())

    def _on_message(self, op: Opcode, data: bytes) -> None:
        self._messages += 1
        if op is Opcode.TEXT:
            text = data.decode("utf-8", "replace")
            try:
                value: Any = json.loads(text)
            except ValueError:
                value = None
            if self._messages == 1 and self._is_prewarm(value):
                self._answer_prewarm(text, value)
                return
            self.t.add("ws_recv", conn=self.conn_id, opcode="text", text=text, json=value)
            self.inbox.put_nowait(("text", (text, value)))
        else:
            self.t.add("ws_recv", conn=self.conn_id, opcode="binary", data=base64.b64encode(data).decode())
            self.inbox.put_nowait(("binary", data))

    def _is_prewarm(self, value: Any) -> bool:
        return (
            self.server.script.prewarm == "answer"
            and isinstance(value, dict)
            and value.get("type") == "response.create"
            and value.get("generate") is False
        )

    def _answer_prewarm(self, text: str, value: Any) -> None:
        """Answer a leading ``generate: false`` create the way the Responses API does.

        A later Codex warms a new Responses socket with such a create (it generates
        nothing) before the turn's own; the script, written for the turn, never sees it.
        ``server.prewarm: script`` hands it to the script instead.
        """
        self.t.add("ws_recv", conn=self.conn_id, opcode="text", text=text, json=value, prewarm=True)
        response = {"id": f"resp_prewarm_{self.conn_id}", "object": "response", "output": []}
        for kind, status in (("response.created", "in_progress"), ("response.completed", "completed")):
            frame = {"type": kind, "response": {**response, "status": status}}
            self.protocol.send_text(json.dumps(frame, separators=(",", ":")).encode())
            self.t.add("ws_send", conn=self.conn_id, opcode="text", json=frame, prewarm=True)
        self.flush()

    # -- script --------------------------------------------------------------
    async def next_message(self, timeout: float) -> tuple[str, Any] | None:
        try:
            return await asyncio.wait_for(self.inbox.get(), timeout)
        except TimeoutError:
            return None

    async def run_script(self) -> None:
        steps = self.exchange.script
        i = 0
        try:
            for i, step in enumerate(steps):
                ok = await self.run_step(step)
                if not ok:
                    self._unreached(steps[i + 1 :], why="the connection ended")
                    return
        except asyncio.CancelledError:
            self._unreached(steps[i:], why="the case ended first")
            raise
        self.flush()
        self.server.set_busy(self.conn_id, busy=False)
        await self.after_script()

    def _unreached(self, steps: tuple[WsStep, ...], *, why: str) -> None:
        for later in steps:
            if later.op in ("expect", "expect_eventually", "expect_close", "expect_eof"):
                wanted = {"expect_close": "a close frame", "expect_eof": "the client to drop TCP"}.get(later.op) or render(later.payload)
                self.finding(f"{later.path}: not reached, {why} (expected {wanted})", layer=later.layer)

    async def run_step(self, step: WsStep) -> bool:
        """Run one step; False ends the script (connection gone or a fault that ends it)."""
        if step.op not in _SEND_OPS:
            self.flush()  # frames a batch still holds go out before anything else happens
            self._unyielded = 0
        timeout = step.timeout if step.timeout is not None else self.server.script.expect_timeout
        if step.op == "expect":
            return await self._expect(step, timeout)
        if step.op == "expect_eventually":
            return await self._expect_eventually(step, timeout)
        if step.op == "expect_close":
            return await self._expect_close(step, timeout)
        if step.op == "expect_eof":
            return await self._expect_eof(step, timeout)
        if step.op in ("send", "send_text", "send_binary"):
            return await self._send(step)
        if step.op == "sleep":
            await asyncio.sleep(float(step.payload))
            return True
        if step.op == "mark":
            self.server.mark(self.conn_id, step.payload)
            return True
        if step.op == "pause_reading":
            seconds = float(step.payload)
            self.t.add("fault", conn=self.conn_id, fault="pause_reading", seconds=seconds)
            sock = self.writer.get_extra_info("socket")
            if sock is not None:  # no receive-window growth (up to tcp_rmem's max) to soak it up
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _PAUSED_RCVBUF)
            self.reading.clear()
            try:
                await asyncio.sleep(seconds)
            finally:
                self.reading.set()
            self.t.add("note", conn=self.conn_id, message=f"{step.path}: reading again after {seconds:g}s")
            return True
        if step.op == "await":
            if not await self.server.awaited(step.payload, timeout=timeout):
                self.finding(f"{step.path}: {describe_await(step.payload)} did not come within {timeout:g}s", layer=step.layer)
                return False
            return True
        if step.op == "close":
            payload = step.payload or {}
            code = int(payload.get("code", 1000))
            reason = str(payload.get("reason", ""))
            self.protocol.send_close(code, reason)
            self.t.add("ws_close_send", conn=self.conn_id, code=code, reason=reason)
            self.flush()
            await self.writer.drain()
            try:
                await asyncio.wait_for(self.closed.wait(), _CLOSE_REPLY_WAIT)
            except TimeoutError:
                self.t.add("note", conn=self.conn_id, message="client did not finish the close handshake in time")
            self.writer.close()
            return False
        if step.op == "drop":
            self.t.add("fault", conn=self.conn_id, fault="drop")
            self.writer.close()
            return False
        if step.op == "reset":
            from fake_server.server import abort_with_reset

            self.t.add("fault", conn=self.conn_id, fault="reset")
            abort_with_reset(self.writer)
            return False
        # "stall": never write again, keep TCP open until the case ends
        self.stalled = True
        self.server.set_busy(self.conn_id, busy=False)
        self.t.add("fault", conn=self.conn_id, fault="stall")
        await asyncio.Event().wait()
        return False

    async def _send(self, step: WsStep) -> bool:
        for _ in range(step.repeat):
            if self.closed.is_set() or self.writer.transport.is_closing():
                self.t.add("note", conn=self.conn_id, message=f"{step.path}: not sent, connection closed")
                return False
            if self.exchange.pace:
                await asyncio.sleep(self.exchange.pace)
            if step.op == "send":
                self.protocol.send_text(step.data)
                self.t.add("ws_send", conn=self.conn_id, opcode="text", json=step.payload)
            elif step.op == "send_text":
                self.protocol.send_text(step.data)
                self.t.add("ws_send", conn=self.conn_id, opcode="text", text=str(step.payload))
            else:
                self.protocol.send_binary(step.payload)
                self.t.add("ws_send", conn=self.conn_id, opcode="binary", data=base64.b64encode(step.payload).decode())
            self._unyielded += 1
            if self._unyielded == 1 or self._unyielded >= _SEND_BATCH or self.exchange.pace:
                self.flush()  # the first frame of a batch at once, the rest together
            if self._unyielded >= _SEND_BATCH or self.exchange.pace:
                # Stream as we go: let the peer (and everything else) run between batches.
                self._unyielded = 0
                await self.writer.drain()
                await asyncio.sleep(0)
        return True

    async def _expect(self, step: WsStep, timeout: float) -> bool:
        msg = await self.next_message(timeout)
        if msg is None:
            self.finding(layer=step.layer, message=f"{step.path}: no client message within {timeout:g}s (expected {render(step.payload)})")
            return False
        kind, value = msg
        if kind in ("close", "eof"):
            what = "sent a close frame" if kind == "close" else "closed the connection"
            self.finding(layer=step.layer, message=f"{step.path}: client {what} instead of a message matching {render(step.payload)}")
            return False
        if kind == "binary":
            self.finding(layer=step.layer, message=f"{step.path}: client sent a binary frame, expected {render(step.payload)}")
            return True
        text, parsed = value
        if parsed is None and text.strip() not in ("null",):
            self.finding(layer=step.layer, message=f"{step.path}: client sent invalid JSON {text[:120]!r}")
            return True
        found = match(step.payload, parsed, path="")
        if found:
            where = f".expect.{found.path}" if found.path else ".expect"
            self.finding(layer=step.layer, message=f"{step.path}{where}: expected {found.expected}, got {found.actual}")
        return True

    async def _expect_eventually(self, step: WsStep, timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            msg = await self.next_message(max(0.0, deadline - loop.time()))
            if msg is None:
                self.finding(layer=step.layer, message=f"{step.path}: no client message matching {render(step.payload)} within {timeout:g}s")
                return False
            kind, value = msg
            if kind in ("close", "eof"):
                what = "sent a close frame" if kind == "close" else "closed the connection"
                self.finding(layer=step.layer, message=f"{step.path}: client {what} before a message matching {render(step.payload)}")
                return False
            if kind == "text" and value[1] is not None and match(step.payload, value[1], path="") is None:
                return True
            self._extra(kind, value, where=step.path)

    async def _expect_close(self, step: WsStep, timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            msg = await self.next_message(max(0.0, deadline - loop.time()))
            if msg is None:
                self.finding(layer=step.layer, message=f"{step.path}: client did not close within {timeout:g}s")
                return False
            kind, value = msg
            if kind == "close":
                want = step.payload or {}
                if "code" in want and match(want["code"], value[0]) is not None:
                    self.finding(layer=step.layer, message=f"{step.path}.code: expected {render(want['code'])}, got {value[0]}")
                return True
            if kind == "eof":
                self.finding(layer=step.layer, message=f"{step.path}: client closed TCP without a close frame")
                return False
            self._extra(kind, value, where=step.path)

    async def _expect_eof(self, step: WsStep, timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            msg = await self.next_message(max(0.0, deadline - loop.time()))
            if msg is None:
                self.finding(layer=step.layer, message=f"{step.path}: client did not end the connection within {timeout:g}s")
                return False
            kind, value = msg
            if kind == "eof":
                return False  # the connection is gone: nothing after this step can run
            if kind == "close":
                self.finding(layer=step.layer, message=f"{step.path}: client sent a close frame (code {value[0]}), expected it to drop TCP without one")
                return False
            self._extra(kind, value, where=step.path)

    def _extra(self, kind: str, value: Any, *, where: str) -> None:
        if self.exchange.extra_messages == "allow":
            return
        shown = value[0][:200] if kind == "text" else f"<{len(value)} bytes>"
        self.finding(f"{where}: unexpected client {kind} message {shown!r}")

    async def after_script(self) -> None:
        """Script done: keep serving until the client leaves; extra messages are findings."""
        while True:
            msg = await self.inbox.get()
            kind, value = msg
            if kind == "eof":
                return
            if kind == "close":
                if not self.stalled:
                    await self.writer.drain()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.closed.wait(), _CLOSE_REPLY_WAIT)
                    self.writer.close()
                    return
                await asyncio.Event().wait()  # stalled: hold TCP until the case ends
            self._extra(kind, value, where=f"{self.exchange.path}.script (after the last step)")


async def serve_websocket(
    server: FakeServer,
    conn_id: int,
    exchange: Exchange,
    event: h11.Request,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    trailing: bytes,
) -> None:
    """Complete the upgrade for ``exchange`` and run its script on this connection."""
    state = _Conn(server, conn_id, exchange, writer)
    if exchange.accept_delay:
        await asyncio.sleep(exchange.accept_delay)
    # Replay the request head h11 already parsed into the Sans-I/O protocol, so its
    # parser moves past the handshake exactly as if it had read it itself.
    head = b"GET " + event.target + b" HTTP/1.1\r\n"
    head += b"".join(name + b": " + value + b"\r\n" for name, value in event.headers)
    state.protocol.receive_data(head + b"\r\n")
    (request,) = [e for e in state.protocol.events_received() if isinstance(e, Request)]
    response = state.protocol.accept(request)
    if response.status_code != 101:
        state.finding(f"{exchange.path}: invalid websocket upgrade: {response.body.decode(errors='replace').strip()}")
    for name, value in exchange.accept_headers:
        response.headers[name] = value
    state.protocol.send_response(response)
    state.flush()
    server.transcript.add(
        "ws_accept",
        conn=conn_id,
        status=response.status_code,
        headers=[[k.lower(), v] for k, v in response.headers.raw_items()],
    )
    if response.status_code != 101:
        writer.close()
        return
    reader_task = asyncio.create_task(state.read_loop(reader, trailing))
    try:
        await state.run_script()
    finally:
        if not reader_task.done():
            if writer.transport.is_closing():
                reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(reader_task, timeout=_CLOSE_REPLY_WAIT)
