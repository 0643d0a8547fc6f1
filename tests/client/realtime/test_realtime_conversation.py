"""RealtimeClient against a plain websockets server on 127.0.0.1 (real sockets).

Each test runs one scenario with asyncio.run; every wait is bounded by asyncio.timeout.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import socket
import struct
import time
from http import HTTPStatus
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from harness.client.realtime import RealtimeClient


WAIT_S = 5.0
PREFIX = '"Agent Final Message":\n\n'
RESPONSE_CREATE = {"type": "response.create"}
NOT_RUNNING = {"type": "error", "message": "conversation is not running", "code": "bad_request"}
EVENT_SCHEMA = Draft202012Validator(
    json.loads(
        (Path(__file__).resolve().parents[3] / "schemas/events/realtime.schema.json").read_text()
    )
)


# --- harness: fake server, event log ------------------------------------------------------


class Peer:
    """One accepted server-side connection: what the client sent, and a way to reply."""

    def __init__(self, ws: ServerConnection) -> None:
        self.ws = ws
        self.frames: asyncio.Queue[Any] = asyncio.Queue()
        self.ended = asyncio.Event()
        self.close_code: int | None = None

    @property
    def path(self) -> str:
        return self.ws.request.path

    @property
    def headers(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.ws.request.headers.raw_items()}

    async def next_frame(self) -> Any:
        async with asyncio.timeout(WAIT_S):
            return await self.frames.get()

    async def send(self, obj: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(obj))

    async def wait_ended(self) -> None:
        async with asyncio.timeout(WAIT_S):
            await self.ended.wait()

    def assert_no_frame(self) -> None:
        assert self.frames.empty(), self.frames.get_nowait()


class FakeServer:
    """A websockets server that records every frame and lets the test script replies."""

    def __init__(self, *, process_request: Any = None) -> None:
        self._process_request = process_request
        self.peers: asyncio.Queue[Peer] = asyncio.Queue()
        self.accepted = 0

    async def __aenter__(self) -> FakeServer:
        self._server = await serve(
            self._handler, "127.0.0.1", 0, compression=None, process_request=self._process_request
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        async with asyncio.timeout(WAIT_S):
            await self._server.wait_closed()

    @property
    def base_url(self) -> str:
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"http://127.0.0.1:{port}/v1"

    async def _handler(self, ws: ServerConnection) -> None:
        peer = Peer(ws)
        self.accepted += 1
        self.peers.put_nowait(peer)
        try:
            async for message in ws:
                peer.frames.put_nowait(json.loads(message) if isinstance(message, str) else message)
        except ConnectionClosed:
            pass
        peer.close_code = ws.close_code
        peer.ended.set()

    async def next_peer(self) -> Peer:
        async with asyncio.timeout(WAIT_S):
            return await self.peers.get()


class EventLog:
    """Collects emitted events; `next()` walks them in order, waiting when needed."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._cursor = 0
        self._changed = asyncio.Event()

    def __call__(self, event: dict[str, Any]) -> None:
        json.dumps(event)  # events must be plain JSON
        if event["type"] == "error":  # the common runtime error event
            assert set(event) <= {"type", "message", "code"}
        else:
            EVENT_SCHEMA.validate(event)
        self.events.append(event)
        self._changed.set()

    async def next(self) -> dict[str, Any]:
        async with asyncio.timeout(WAIT_S):
            while self._cursor >= len(self.events):
                self._changed.clear()
                await self._changed.wait()
        event = self.events[self._cursor]
        self._cursor += 1
        return event

    def assert_drained(self) -> None:
        assert self.events[self._cursor :] == []


def client_for(base_url: str, log: EventLog, **config: Any) -> RealtimeClient:
    return RealtimeClient(base_url=base_url, config={"api_key": "dummy", **config}, emit=log)


async def started(server: FakeServer, log: EventLog, client: RealtimeClient, **args: Any) -> Peer:
    """Start, check the started event, return the server side with its session.update read."""
    await client.handle(
        "realtime.start", {"prompt": "backend prompt", "session_id": "sess_1", **args}
    )
    peer = await server.next_peer()
    assert (await peer.next_frame())["type"] == "session.update"
    event = await log.next()
    assert event["type"] == "conversation.started"
    return peer


def run(scenario: Any) -> None:
    asyncio.run(scenario())


def pcm(samples: int) -> str:
    return base64.b64encode(b"\x01\x00" * samples).decode()


# --- start, text, audio -------------------------------------------------------------------


def test_v1_start_handshake_and_session_update():
    async def scenario():
        log = EventLog()
        async with FakeServer() as server:
            client = client_for(
                server.base_url, log, model="realtime-test-model", headers={"X-Extra": "1"}
            )
            await client.handle(
                "realtime.start", {"prompt": "backend prompt", "session_id": "sess_1"}
            )
            peer = await server.next_peer()
            assert peer.path == "/v1/realtime?intent=quicksilver&model=realtime-test-model"
            headers = peer.headers
            assert headers["authorization"] == "Bearer dummy"
            assert headers["x-session-id"] == "sess_1"
            assert headers["originator"] == "codex_cli_rs"
            assert headers["x-extra"] == "1"
            assert "openai-beta" not in headers
            assert "sec-websocket-extensions" not in headers
            assert await peer.next_frame() == {
                "type": "session.update",
                "session": {
                    "type": "quicksilver",
                    "instructions": "backend prompt",
                    "audio": {
                        "input": {"format": {"type": "audio/pcm", "rate": 24000}},
                        "output": {"voice": "fathom"},
                    },
                },
            }
            assert await log.next() == {
                "type": "conversation.started",
                "session_id": "sess_1",
                "version": "v1",
            }
            await client.aclose()
            await peer.wait_ended()
            log.assert_drained()

    run(scenario)


def test_v1_text_and_audio_frames():
    async def scenario():
        log = EventLog()
        async with FakeServer() as server:
            client = client_for(server.base_url, log)
            peer = await started(server, log, client)
            await client.handle("realtime.text", {"text": "hello"})
            await client.handle(
                "realtime.audio",
                {"data": "AAAA", "sample_rate": 24000, "num_channels": 1, "samples_per_channel": 2},
            )
            assert await peer.next_frame() == {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "text", "text": "hello"}],
                },
            }
            # v1 text gets no response.create: the next frame is the audio.
            assert await peer.next_frame() == {"type": "input_audio_buffer.append", "audio": "AAAA"}
            await client.aclose()

    run(scenario)


def test_ops_before_start_report_not_running():
    async def scenario():
        log = EventLog()
        client = client_for("http://127.0.0.1:9/v1", log)
        await client.handle("realtime.text", {"text": "hi"})
        await client.handle("realtime.audio", {"data": "AAAA"})
        await client.handle("realtime.handoff_output", {"text": "ignored"})
        await client.handle("realtime.turn_complete", {})
        await client.handle("realtime.close", {})
        # core R-C handle_text / handle_audio: send_conversation_error(.., CodexErrorInfo::BadRequest)
        assert log.events == [
            {"type": "error", "message": "conversation is not running", "code": "bad_request"},
            {"type": "error", "message": "conversation is not running", "code": "bad_request"},
            {"type": "conversation.closed", "reason": "requested"},
        ]
        await client.aclose()

    run(scenario)


def test_server_events_are_reported_in_order():
    async def scenario():
        log = EventLog()
        async with FakeServer() as server:
            client = client_for(server.base_url, log)
            peer = await started(server, log, client)
            await peer.send(
                {
                    "type": "session.updated",
                    "session": {"id": "sess_srv", "instructions": "backend prompt"},
                }
            )
            await peer.send({"type": "not.a.known.event"})
            await peer.ws.send("{not json")
            await peer.send(
                {
                    "type": "conversation.output_audio.delta",
                    "delta": "AAAA",
                    "sample_rate": 24000,
                    "channels": 1,
                }
            )
            await peer.send(
                {"type": "conversation.item.added", "item": {"id": "item_1", "type": "message"}}
            )
            await peer.send({"type": "conversation.item.done", "item": {"id": "item_1"}})
            assert await log.next() == {
                "type": "realtime.session_updated",
                "session_id": "sess_srv",
                "instructions": "backend prompt",
            }
            assert await log.next() == {
                "type": "realtime.audio_out",
                "data": "AAAA",
                "sample_rate": 24000,
                "num_channels": 1,
            }
            assert await log.next() == {
                "type": "realtime.item_added",
                "item": {"id": "item_1", "type": "message"},
            }
            assert await log.next() == {"type": "realtime.item_done", "item_id": "item_1"}
            await client.aclose()
            log.assert_drained()

    run(scenario)


def test_v2_conversational_session_and_deferred_response_create():
    async def scenario():
        log = EventLog()
        async with FakeServer() as server:
            client = client_for(server.base_url, log, version="v2")
            await client.handle("realtime.start", {"prompt": "p"})
            peer = await server.next_peer()
            assert peer.path == "/v1/realtime"
            update = await peer.next_frame()
            assert update["session"]["type"] == "realtime"
            assert update["session"]["tools"][0]["name"] == "codex"
            assert update["session"]["audio"]["output"]["voice"] == "marin"
            event = await log.next()
            assert event["type"] == "conversation.started"
            assert event["version"] == "v2"
            assert event["session_id"]  # generated when neither the op nor the config names one

            await client.handle("realtime.text", {"text": "one"})
            assert (await peer.next_frame())["item"]["content"] == [
                {"type": "input_text", "text": "one"}
            ]
            assert await peer.next_frame() == RESPONSE_CREATE

            created = {"type": "response.created", "response": {"id": "resp_1"}}
            await peer.send(created)
            assert await log.next() == {"type": "realtime.item_added", "item": created}
            await client.handle("realtime.text", {"text": "two"})
            assert (await peer.next_frame())["item"]["content"][0]["text"] == "two"
            await asyncio.sleep(0.05)
            peer.assert_no_frame()  # response.create is deferred

            done = {"type": "response.done", "response": {"id": "resp_1", "output": []}}
            await peer.send(done)
            assert await peer.next_frame() == RESPONSE_CREATE
            assert await log.next() == {"type": "realtime.item_added", "item": done}
            await client.aclose()

    run(scenario)


def test_v2_transcription_session_update():
    async def scenario():
        log = EventLog()
        async with FakeServer() as server:
            client = client_for(server.base_url, log, version="v2", type="transcription", model="m")
            await client.handle("realtime.start", {"prompt": "ignored"})
            peer = await server.next_peer()
            assert peer.path == "/v1/realtime?model=m"
            assert await peer.next_frame() == {
                "type": "session.update",
                "session": {
                    "type": "transcription",
                    "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000}}},
                },
            }
            await client.aclose()

    run(scenario)


# --- handoffs -----------------------------------------------------------------------------


def test_v1_handoff_transcript_and_immediate_appends():
    async def scenario():
        log = EventLog()
        async with FakeServer() as server:
            client = client_for(server.base_url, log)
            peer = await started(server, log, client)
            for kind, delta in (("input", "delegate "), ("input", "now"), ("output", "working")):
                await peer.send({"type": f"conversation.{kind}_transcript.delta", "delta": delta})
            await peer.send(
                {
                    "type": "conversation.handoff.requested",
                    "handoff_id": "handoff_1",
                    "item_id": "item_2",
                    "input_transcript": "delegate now",
                }
            )
            for delta in ("delegate ", "now"):
                assert await log.next() == {
                    "type": "realtime.input_transcript_delta",
                    "delta": delta,
                }
            assert await log.next() == {
                "type": "realtime.output_transcript_delta",
                "delta": "working",
            }
            assert await log.next() == {
                "type": "realtime.handoff_requested",
                "handoff_id": "handoff_1",
                "item_id": "item_2",
                "input_transcript": "delegate now",
                "active_transcript": [
                    {"role": "user", "text": "delegate now"},
                    {"role": "assistant", "text": "working"},
                ],
            }
            await client.handle("realtime.handoff_output", {"text": "assistant says hi"})
            await client.handle("realtime.handoff_output", {"text": "and more"})
            assert await peer.next_frame() == {
                "type": "conversation.handoff.append",
                "handoff_id": "handoff_1",
                "output_text": PREFIX + "assistant says hi",
            }
            assert (await peer.next_frame())["output_text"] == PREFIX + "and more"
            await client.handle("realtime.turn_complete", {})
            await client.handle("realtime.handoff_output", {"text": "after the turn"})
            # The second handoff gets a fresh (cleared) transcript.
            await peer.send(
                {
                    "type": "conversation.handoff.requested",
                    "handoff_id": "h2",
                    "item_id": "i3",
                    "input_transcript": "",
                }
            )
            assert (await log.next())["active_transcript"] == []
            await client.handle("realtime.text", {"text": "marker"})
            assert (await peer.next_frame())["type"] == "conversation.item.create"
            await client.aclose()

    run(scenario)


def test_v2_handoff_final_tool_call_deferred_while_response_runs():
    async def scenario():
        log = EventLog()
        async with FakeServer() as server:
            client = client_for(server.base_url, log, version="v2")
            peer = await started(server, log, client)
            await peer.send(
                {"type": "conversation.item.input_audio_transcription.delta", "delta": "do it"}
            )
            await peer.send(
                {
                    "type": "conversation.item.done",
                    "item": {
                        "type": "function_call",
                        "name": "codex",
                        "call_id": "call_1",
                        "id": "item_1",
                        "arguments": '{"prompt":"do it"}',
                    },
                }
            )
            assert await log.next() == {"type": "realtime.input_transcript_delta", "delta": "do it"}
            assert await log.next() == {
                "type": "realtime.handoff_requested",
                "handoff_id": "call_1",
                "item_id": "item_1",
                "input_transcript": "do it",
                "active_transcript": [],
            }
            await client.handle("realtime.handoff_output", {"text": "draft"})
            await client.handle("realtime.handoff_output", {"text": "delegated result"})
            created = {"type": "response.created", "response": {"id": "resp_2"}}
            await peer.send(created)
            assert await log.next() == {"type": "realtime.item_added", "item": created}
            await client.handle("realtime.turn_complete", {})
            assert await peer.next_frame() == {
                "type": "conversation.item.create",
                "item": {
                    "type": "function_call_output",
                    "call_id": "call_1",
                    "output": PREFIX + "delegated result",
                },
            }
            await asyncio.sleep(0.05)
            peer.assert_no_frame()
            await peer.send({"type": "response.done", "response": {"id": "resp_2", "output": []}})
            assert await peer.next_frame() == RESPONSE_CREATE
            await client.aclose()

    run(scenario)


def test_v2_active_response_error_is_swallowed():
    async def scenario():
        log = EventLog()
        async with FakeServer() as server:
            client = client_for(server.base_url, log, version="v2")
            peer = await started(server, log, client)
            await peer.send(
                {
                    "type": "error",
                    "error": {
                        "message": "Conversation already has an active response in progress: resp_1"
                    },
                }
            )
            await peer.send({"type": "response.done", "response": {"id": "resp_1"}})
            assert await peer.next_frame() == RESPONSE_CREATE
            assert (await log.next())["type"] == "realtime.item_added"
            log.assert_drained()
            await client.aclose()

    run(scenario)


def test_v2_barge_in_truncate():
    async def scenario():
        log = EventLog()
        async with FakeServer() as server:
            client = client_for(server.base_url, log, version="v2")
            peer = await started(server, log, client)
            for _ in range(2):
                await peer.send(
                    {"type": "response.output_audio.delta", "delta": pcm(2400), "item_id": "item_a"}
                )
            await peer.send({"type": "input_audio_buffer.speech_started", "item_id": "item_a"})
            assert await peer.next_frame() == {
                "type": "conversation.item.truncate",
                "item_id": "item_a",
                "content_index": 0,
                "audio_end_ms": 200,
            }
            assert (await log.next())["type"] == "realtime.audio_out"
            assert await log.next() == {
                "type": "realtime.audio_out",
                "data": pcm(2400),
                "sample_rate": 24000,
                "num_channels": 1,
                "item_id": "item_a",
            }
            assert await log.next() == {"type": "realtime.speech_started", "item_id": "item_a"}
            await client.aclose()

    run(scenario)


# --- replacing, ending --------------------------------------------------------------------


def test_second_start_replaces_the_conversation():
    async def scenario():
        log = EventLog()
        async with FakeServer() as server:
            client = client_for(server.base_url, log)
            first = await started(server, log, client)
            await client.handle("realtime.start", {"prompt": "second", "session_id": "sess_2"})
            second = await server.next_peer()
            assert (await second.next_frame())["session"]["instructions"] == "second"
            assert await log.next() == {
                "type": "conversation.started",
                "session_id": "sess_2",
                "version": "v1",
            }
            await first.wait_ended()
            assert first.close_code == 1006  # dropped without a close handshake, as Codex does
            # Events of the old socket are no longer reported; the new one works.
            await client.handle("realtime.text", {"text": "to second"})
            assert (await second.next_frame())["item"]["content"][0]["text"] == "to second"
            first.assert_no_frame()
            await client.aclose()
            log.assert_drained()  # no closed event for the replaced conversation

    run(scenario)


def test_binary_frame_ends_conversation():
    async def scenario():
        log = EventLog()
        async with FakeServer() as server:
            client = client_for(server.base_url, log)
            peer = await started(server, log, client)
            await peer.ws.send(b"\x00\x01")
            assert await log.next() == {
                "type": "realtime.error",
                "message": "unexpected binary realtime websocket event",
            }
            assert await log.next() == {"type": "conversation.closed", "reason": "transport_closed"}
            await peer.wait_ended()
            assert peer.close_code == 1006  # dropped at once, no close handshake, as Codex does
            await client.handle("realtime.text", {"text": "too late"})
            assert await log.next() == NOT_RUNNING
            await client.aclose()

    run(scenario)


def test_server_error_event_ends_conversation():
    async def scenario():
        log = EventLog()
        async with FakeServer() as server:
            client = client_for(server.base_url, log)
            peer = await started(server, log, client)
            await peer.send(
                {
                    "type": "error",
                    "error": {"type": "invalid_request_error", "message": "bad session"},
                }
            )
            assert await log.next() == {"type": "realtime.error", "message": "bad session"}
            assert await log.next() == {"type": "conversation.closed", "reason": "transport_closed"}
            await client.aclose()

    run(scenario)


def test_server_close_reports_error_then_transport_closed():
    async def scenario():
        log = EventLog()
        async with FakeServer() as server:
            client = client_for(server.base_url, log)
            peer = await started(server, log, client)
            await peer.ws.close()
            assert await log.next() == {
                "type": "realtime.error",
                "message": "realtime websocket connection is closed",
            }
            assert await log.next() == {"type": "conversation.closed", "reason": "transport_closed"}
            await client.handle("realtime.close", {})
            assert await log.next() == {"type": "conversation.closed", "reason": "requested"}
            await client.aclose()
            log.assert_drained()

    run(scenario)


def test_requested_close_drops_the_socket_without_a_close_frame():
    """realtime-wire §3.8 / §6.3: handle_close aborts the task owning the socket (1006)."""

    async def scenario():
        log = EventLog()
        async with FakeServer() as server:
            client = client_for(server.base_url, log)
            peer = await started(server, log, client)
            await client.handle("realtime.close", {})
            assert await log.next() == {"type": "conversation.closed", "reason": "requested"}
            await peer.wait_ended()
            assert peer.close_code == 1006  # no close frame, no close handshake: TCP dropped
            peer.assert_no_frame()  # no JSON close message either
            await client.handle("realtime.text", {"text": "x"})
            assert await log.next() == NOT_RUNNING
            await client.aclose()
            log.assert_drained()

    run(scenario)


def test_server_dropping_tcp_is_a_read_error():
    """TCP FIN without a Close frame: codex-api's read error, mapped by core (§4, §6.4)."""

    async def scenario():
        log = EventLog()
        async with FakeServer() as server:
            client = client_for(server.base_url, log)
            peer = await started(server, log, client)
            peer.ws.transport.close()  # FIN, no close frame
            assert await log.next() == {
                "type": "realtime.error",
                "message": "stream disconnected before completion: failed to read websocket "
                "message: connection closed without a closing handshake",
            }
            assert await log.next() == {"type": "conversation.closed", "reason": "transport_closed"}
            await client.aclose()
            log.assert_drained()

    run(scenario)


def test_server_resetting_tcp_is_a_read_error():
    async def scenario():
        log = EventLog()
        async with FakeServer() as server:
            client = client_for(server.base_url, log)
            peer = await started(server, log, client)
            sock = peer.ws.transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            peer.ws.transport.abort()  # RST
            event = await log.next()
            assert event["type"] == "realtime.error"
            assert event["message"].startswith(
                "stream disconnected before completion: failed to read websocket message: "
            )
            assert await log.next() == {"type": "conversation.closed", "reason": "transport_closed"}
            await client.aclose()

    run(scenario)


class StalledServer:
    """Accepts the websocket upgrade by hand, then never answers anything, not even close."""

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, *, first_message: dict[str, Any] | None = None) -> None:
        self.received = bytearray()
        self.eof = asyncio.Event()
        self._writers: list[asyncio.StreamWriter] = []
        self._first_message = first_message
        """Sent (one unmasked text frame) right after the upgrade, before going silent."""

    async def __aenter__(self) -> StalledServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for writer in self._writers:
            writer.close()
        self._server.close()
        async with asyncio.timeout(WAIT_S):
            await self._server.wait_closed()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        request = await reader.readuntil(b"\r\n\r\n")
        key = next(
            line.split(b":", 1)[1].strip().decode()
            for line in request.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        accept = base64.b64encode(hashlib.sha1((key + self.GUID).encode()).digest()).decode()
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + f"Sec-WebSocket-Accept: {accept}\r\n\r\n".encode()
        )
        if self._first_message is not None:
            payload = json.dumps(self._first_message).encode()
            assert len(payload) < 126
            writer.write(bytes([0x81, len(payload)]) + payload)
        await writer.drain()
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(65536):
                self.received += chunk
        self.eof.set()


def frames_of(data: bytes) -> list[tuple[int, Any]]:
    """Decode client (masked, unfragmented) frames: text frames as their JSON `type`."""
    frames: list[tuple[int, Any]] = []
    while data:
        opcode, length, offset = data[0] & 0x0F, data[1] & 0x7F, 2
        if length == 126:
            length, offset = int.from_bytes(data[2:4], "big"), 4
        elif length == 127:
            length, offset = int.from_bytes(data[2:10], "big"), 10
        mask, offset = data[offset : offset + 4], offset + 4
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(data[offset : offset + length]))
        frames.append((opcode, json.loads(payload)["type"] if opcode == 0x1 else payload))
        data = data[offset + length :]
    return frames


def test_close_against_stalled_server_drops_at_once():
    """No close handshake to stall: the close drops TCP at once, whatever close_timeout_ms."""

    async def scenario():
        log = EventLog()
        async with StalledServer() as server:
            client = client_for(server.base_url, log, close_timeout_ms=2000)
            await client.handle("realtime.start", {"prompt": "p"})
            assert (await log.next())["type"] == "conversation.started"
            began = time.monotonic()
            async with asyncio.timeout(WAIT_S):
                await client.handle("realtime.close", {})
            assert time.monotonic() - began < 0.5
            assert await log.next() == {"type": "conversation.closed", "reason": "requested"}
            async with asyncio.timeout(WAIT_S):
                await server.eof.wait()  # the TCP connection was dropped
            # The client sent its session.update and nothing else: no close frame.
            assert frames_of(bytes(server.received)) == [(0x1, "session.update")]
            await client.aclose()
            log.assert_drained()

    run(scenario)


def test_server_error_ends_at_once_without_close_handshake():
    """A terminal error drops the socket: a stalled close handshake cannot delay closed."""

    async def scenario():
        log = EventLog()
        first = {"type": "error", "error": {"type": "server_error", "message": "boom"}}
        async with StalledServer(first_message=first) as server:
            client = client_for(server.base_url, log, close_timeout_ms=2000)
            began = time.monotonic()
            await client.handle("realtime.start", {"prompt": "p"})
            assert (await log.next())["type"] == "conversation.started"
            assert await log.next() == {"type": "realtime.error", "message": "boom"}
            assert await log.next() == {"type": "conversation.closed", "reason": "transport_closed"}
            assert time.monotonic() - began < 1.0
            async with asyncio.timeout(WAIT_S):
                await server.eof.wait()
            # session.update, then TCP dropped: no close frame.
            assert frames_of(bytes(server.received)) == [(0x1, "session.update")]
            await client.aclose()
            log.assert_drained()

    run(scenario)


def test_aclose_is_bounded_against_stalled_server():
    async def scenario():
        log = EventLog()
        async with StalledServer() as server:
            client = client_for(server.base_url, log, close_timeout_ms=200)
            await client.handle("realtime.start", {"prompt": "p"})
            began = time.monotonic()
            async with asyncio.timeout(WAIT_S):
                await client.aclose()
                await client.aclose()  # idempotent
            assert time.monotonic() - began < 1.0
            assert [event["type"] for event in log.events] == ["conversation.started"]
            async with asyncio.timeout(WAIT_S):
                await server.eof.wait()
            assert frames_of(bytes(server.received)) == [(0x1, "session.update")]  # dropped

    run(scenario)


# --- connect failures ---------------------------------------------------------------------


def test_rejected_upgrade_reports_status_and_request_id():
    def reject(connection, request):
        del request
        response = connection.respond(HTTPStatus.UNAUTHORIZED, "invalid api key\n")
        response.headers["x-request-id"] = "req_401"
        return response

    async def scenario():
        log = EventLog()
        async with FakeServer(process_request=reject) as server:
            client = client_for(server.base_url, log)
            await client.handle("realtime.start", {"prompt": "p"})
            assert log.events == [
                {
                    "type": "realtime.error",
                    "message": "failed to connect realtime websocket: HTTP 401 Unauthorized (x-request-id: req_401)",
                    "http_status": 401,
                    "request_id": "req_401",
                }
            ]
            await client.handle("realtime.text", {"text": "x"})
            assert log.events[-1] == NOT_RUNNING
            await client.aclose()

    run(scenario)


def test_missing_api_key_reports_error_without_connecting():
    async def scenario():
        log = EventLog()
        async with FakeServer() as server:
            client = RealtimeClient(base_url=server.base_url, config={"bearer_token": ""}, emit=log)
            await client.handle("realtime.start", {"prompt": "p"})
            assert log.events == [
                {"type": "realtime.error", "message": "realtime conversation requires API key auth"}
            ]
            assert server.accepted == 0
            await client.aclose()

    run(scenario)


def test_refused_connection_reports_error():
    async def scenario():
        log = EventLog()
        async with FakeServer() as server:
            base_url = server.base_url
        client = client_for(base_url, log)
        await client.handle("realtime.start", {"prompt": "p"})
        assert len(log.events) == 1
        assert log.events[0]["type"] == "realtime.error"
        assert log.events[0]["message"].startswith("failed to connect realtime websocket: ")
        await client.aclose()

    run(scenario)


def test_unsupported_scheme_reports_error():
    async def scenario():
        log = EventLog()
        client = client_for("ftp://127.0.0.1:9", log)
        await client.handle("realtime.start", {})
        assert log.events == [
            {"type": "realtime.error", "message": "unsupported realtime api_url scheme: ftp"}
        ]
        await client.aclose()

    run(scenario)


def test_unknown_op_raises():
    async def scenario():
        client = client_for("http://127.0.0.1:9", EventLog())
        try:
            await client.handle("realtime.nope", {})
        except ValueError as exc:
            assert "realtime.nope" in str(exc)
        else:
            raise AssertionError("expected ValueError")

    run(scenario)


def test_handoff_hook_runs_before_the_event_and_replies_go_out_in_order():
    # core R-C fan-out: route the handoff's text, then forward the event; the turn's
    # messages reach the socket through the input task, in order (realtime-wire §6.2, §6.5).
    async def scenario():
        log = EventLog()
        seen: list[tuple[str, int]] = []
        async with FakeServer() as server:
            client = RealtimeClient(
                base_url=server.base_url,
                config={"api_key": "dummy", "version": "v1"},
                emit=log,
                on_handoff=lambda event: seen.append((event["handoff_id"], len(log.events))),
            )
            peer = await started(server, log, client)
            await peer.send(
                {
                    "type": "conversation.handoff.requested",
                    "handoff_id": "h1",
                    "item_id": "i1",
                    "input_transcript": "go",
                }
            )
            event = await log.next()
            assert event["type"] == "realtime.handoff_requested"
            assert seen == [("h1", 1)]  # called before the event was reported
            client.handoff_out("one")
            client.handoff_out("two")
            client.handoff_complete()
            client.handoff_out("after completion")
            assert await peer.next_frame() == {
                "type": "conversation.handoff.append",
                "handoff_id": "h1",
                "output_text": PREFIX + "one",
            }
            assert await peer.next_frame() == {
                "type": "conversation.handoff.append",
                "handoff_id": "h1",
                "output_text": PREFIX + "two",
            }
            await client.handle("realtime.close", {})
            peer.assert_no_frame()
            await client.aclose()

    run(scenario)
