"""``realtime.*`` steps on ``AsyncOpenAI.realtime.connect`` (GA protocol only)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from harness.impls.openai_python.sdkdriver import app
from harness.impls.openai_python.sdkdriver.endpoint import MAX_IDLE_S, Endpoint, api_key, str_map
from harness.impls.openai_python.sdkdriver.errors import (
    connect_error,
    describe,
    exception_error,
    is_recognised,
)
from harness.impls.openai_python.sdkdriver.policy import Policy
from harness.impls.openai_python.sdkdriver.sockets import bounded_close, cancel, spawn
from harness.sdk.events import compact, error_event, unrecognized_event


__all__ = ["RealtimeDriver"]

Emit = Callable[[dict[str, Any]], None]


def sdk_dict(model: Any) -> Any:
    """A parsed SDK object back to JSON data: what the SDK hands the application, every field it kept."""
    if hasattr(model, "to_dict"):
        return model.to_dict()
    return model


class _Conversation:
    """One SDK realtime connection and the app state riding on it."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.lock = asyncio.Lock()
        self.active = True
        self.reader: asyncio.Task[None] | None = None
        self.response_in_progress = False
        self.pending_create = False
        self.audio_item: str | None = None
        self.audio_end_ms = 0
        self.handoff: str | None = None
        self.last_output: str | None = None


def _send_failure(exc: BaseException) -> dict[str, Any]:
    from websockets.exceptions import ConnectionClosed

    return exception_error("realtime.error", exc, message=app.CLOSED if isinstance(exc, ConnectionClosed) else None)


class RealtimeDriver:
    """``realtime.*`` steps: the SDK's connection with a Codex-like app on top (``app``)."""

    def __init__(self, *, endpoint: Endpoint, config: Mapping[str, Any], emit: Emit, policy: Policy) -> None:
        self.endpoint = endpoint
        self.cfg = dict(config)
        self.emit = emit
        self.policy = policy
        self.conversation: _Conversation | None = None
        self.closing: set[asyncio.Task[Any]] = set()
        self.close_timeout_s = min(float(self.cfg.get("close_timeout_ms", 1000)) / 1000, MAX_IDLE_S)
        self.open_timeout_s = min(float(self.cfg.get("open_timeout_ms", 10_000)) / 1000, MAX_IDLE_S)

    async def handle(self, op: str, args: Mapping[str, Any]) -> None:
        handlers: dict[str, Callable[[Mapping[str, Any]], Awaitable[None]]] = {
            "realtime.start": self._start,
            "realtime.audio": self._audio,
            "realtime.text": self._text,
            "realtime.handoff_output": self._handoff_output,
            "realtime.turn_complete": self._turn_complete,
            "realtime.close": self._close,
        }
        if op not in handlers:
            raise ValueError(f"unknown realtime op {op!r}")
        await handlers[op](args)

    async def aclose(self) -> None:
        conversation, self.conversation = self.conversation, None
        if conversation is not None and conversation.active:
            conversation.active = False
            await cancel(conversation.reader)
            await bounded_close(conversation.conn, self.close_timeout_s)
        for task in list(self.closing):
            try:
                await asyncio.wait_for(task, self.close_timeout_s + 2)
            except Exception:
                continue

    # -- steps --------------------------------------------------------------------------

    async def _start(self, args: Mapping[str, Any]) -> None:
        import openai  # type: ignore[import-not-found,unused-ignore]  # the SDK venv only

        previous, self.conversation = self.conversation, None
        if previous is not None and previous.active:
            previous.active = False
            await cancel(previous.reader)
            self._close_later(previous)
        cfg = self.cfg
        if cfg.get("version", "v2") != "v2":
            self.emit(error_event("realtime.error", message="openai-python speaks only the GA (v2) realtime protocol"))
            return
        session_id = args.get("session_id") or cfg.get("session_id") or str(uuid.uuid4())
        key = cfg.get("bearer_token") or api_key(cfg)
        base = str(cfg["backend_prompt"] if cfg.get("backend_prompt") is not None else (args.get("prompt") or ""))
        instructions = f"{base}\n\n{cfg['startup_context']}" if cfg.get("startup_context") else base
        try:
            client = self.endpoint.client(key=key, max_retries=0, read_timeout_s=self.open_timeout_s,
                                          headers=str_map(cfg.get("headers")), query={}, realtime=True)  # fmt: skip
            manager = client.realtime.connect(
                model=cfg["model"] if cfg.get("model") else openai.omit,
                extra_query=str_map(cfg.get("query_params")),
                websocket_connection_options=self.endpoint.ws_options(
                    open_timeout_s=self.open_timeout_s, close_timeout_s=self.close_timeout_s),
            )
            conn = await asyncio.wait_for(manager.enter(), self.open_timeout_s + 1)
        except Exception as exc:
            self.emit(connect_error(exc, realtime=True))
            return
        conversation = _Conversation(conn)
        try:
            await conn.session.update(session=app.session_body(cfg.get("type", "conversational"), instructions))
        except Exception as exc:
            self._close_later(conversation)
            self.emit(exception_error("realtime.error", exc, message="failed to connect realtime websocket: " + describe(exc)))
            return
        self.conversation = conversation
        self.emit({"type": "conversation.started", "session_id": session_id, "version": "v2"})
        conversation.reader = asyncio.get_running_loop().create_task(self._read(conversation))

    async def _audio(self, args: Mapping[str, Any]) -> None:
        async def append(c: _Conversation) -> None:
            await c.conn.input_audio_buffer.append(audio=args["data"])

        await self._command(append)

    async def _text(self, args: Mapping[str, Any]) -> None:
        async def send(c: _Conversation) -> None:
            await c.conn.conversation.item.create(
                item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": args["text"]}]})
            await self._request_response(c)

        await self._command(send)

    async def _handoff_output(self, args: Mapping[str, Any]) -> None:
        async def keep(c: _Conversation) -> None:
            if c.handoff is not None:
                c.last_output = args["text"]

        await self._command(keep, report_idle=False)

    async def _turn_complete(self, args: Mapping[str, Any]) -> None:
        async def finish(c: _Conversation) -> None:
            handoff, output = c.handoff, c.last_output
            c.handoff = c.last_output = None
            if handoff is not None and output is not None:
                await c.conn.conversation.item.create(
                    item={"type": "function_call_output", "call_id": handoff, "output": app.FINAL_MESSAGE_PREFIX + output})
                await self._request_response(c)

        await self._command(finish, report_idle=False)

    async def _close(self, args: Mapping[str, Any]) -> None:
        conversation, self.conversation = self.conversation, None
        timed_out = False
        if conversation is not None and conversation.active:
            conversation.active = False
            await cancel(conversation.reader)
            timed_out = await bounded_close(conversation.conn, self.close_timeout_s)
        self.emit(compact("conversation.closed", reason="requested", close_timed_out=True if timed_out else None))

    # -- plumbing -----------------------------------------------------------------------

    async def _command(self, action: Callable[[_Conversation], Awaitable[None]], *, report_idle: bool = True) -> None:
        conversation = self.conversation
        if conversation is None or not conversation.active:
            if report_idle:
                self.emit({"type": "error", "message": app.NOT_RUNNING})
            return
        async with conversation.lock:
            if not conversation.active:
                if report_idle:
                    self.emit({"type": "error", "message": app.NOT_RUNNING})
                return
            try:
                await action(conversation)
            except Exception as exc:
                self._end(conversation, _send_failure(exc))

    async def _request_response(self, c: _Conversation) -> None:
        if c.response_in_progress:
            c.pending_create = True
            return
        await c.conn.response.create()

    async def _flush_pending(self, c: _Conversation) -> None:
        if c.pending_create:
            c.pending_create = False
            c.response_in_progress = True
            await c.conn.response.create()

    async def _read(self, c: _Conversation) -> None:
        """The SDK's receive loop: ``recv_bytes`` + ``parse_event`` is exactly ``recv()``."""
        from websockets.exceptions import ConnectionClosed

        while True:
            ended: dict[str, Any] | None = None
            parse_failed: dict[str, Any] | None = None
            raw: bytes | None = None
            event: Any = None
            try:
                raw = await c.conn.recv_bytes()
            except ConnectionClosed as exc:
                # A clean close (the SDK's iterator just ends) or 1011 / a dropped TCP
                # (ConnectionClosedError): either way the socket is gone.
                ended = exception_error("realtime.error", exc, message=app.CLOSED)
            except Exception as exc:
                ended = exception_error("realtime.error", exc)
            else:
                try:
                    event = c.conn.parse_event(raw)
                except Exception as exc:  # JSONDecodeError: recv() would raise it
                    parse_failed = exception_error("realtime.error", exc)
            async with c.lock:
                if not c.active:
                    return
                if ended is not None:
                    self._end(c, ended)
                    return
                if parse_failed is not None:
                    if self.policy.realtime_parse() == "end_conversation":
                        self._end(c, parse_failed)
                        return
                    self.emit(parse_failed)  # fail_turn / skip_frame: reported, and reading goes on
                    continue
                obj = json.loads(raw or b"null")
                try:
                    if isinstance(obj, dict) and isinstance(obj.get("type"), str) and not is_recognised(event, obj):
                        # Not in the SDK's union: passed through whole (the app may still map it,
                        # as it does the beta-era names the SDK no longer declares).
                        self.emit(unrecognized_event("realtime", "websocket", sdk_dict(event)))
                    await self._on_event(c, event, obj)
                except Exception as exc:
                    self._end(c, _send_failure(exc))
                if not c.active:
                    return

    def _end(self, c: _Conversation, error: dict[str, Any] | None) -> None:
        """The conversation stopped (server error, transport end): report, then close via the SDK."""
        c.active = False
        if self.conversation is c:
            self.conversation = None
        if error is not None:
            self.emit(error)
        self.emit({"type": "conversation.closed", "reason": "transport_closed"})
        self._close_later(c)

    def _close_later(self, c: _Conversation) -> None:
        c.active = False
        spawn(self.closing, bounded_close(c.conn, self.close_timeout_s))

    async def _on_event(self, c: _Conversation, event: Any, raw: Any) -> None:
        kind = getattr(event, "type", None)
        obj = raw if isinstance(raw, dict) else {}
        if kind == "session.updated":
            session = obj.get("session")
            session_id = app.str_of(session, "id")
            if session_id is not None:
                self.emit(compact("realtime.session_updated", session_id=session_id,
                                  instructions=app.str_of(session, "instructions")))  # fmt: skip
        elif kind in ("response.output_audio.delta", "response.audio.delta"):
            self._audio_out(c, obj)
        elif kind in ("conversation.item.input_audio_transcription.delta",
                      "conversation.item.input_audio_transcription.completed"):  # fmt: skip
            delta = app.str_of(obj, "delta" if kind.endswith("delta") else "transcript")
            if delta is not None:
                self.emit({"type": "realtime.input_transcript_delta", "delta": delta})
        elif kind in ("response.output_text.delta", "response.output_audio_transcript.delta"):
            delta = app.str_of(obj, "delta")
            if delta is not None:
                self.emit({"type": "realtime.output_transcript_delta", "delta": delta})
        elif kind == "input_audio_buffer.speech_started":
            item_id = app.str_of(obj, "item_id")
            tracked, ms = c.audio_item, c.audio_end_ms
            c.audio_item, c.audio_end_ms = None, 0
            if tracked is not None and (item_id is None or item_id == tracked):
                await c.conn.conversation.item.truncate(item_id=tracked, content_index=0, audio_end_ms=ms)
            self.emit(compact("realtime.speech_started", item_id=item_id))
        elif kind == "conversation.item.added":
            if "item" in obj:
                self.emit({"type": "realtime.item_added", "item": obj["item"]})
        elif kind == "conversation.item.done":
            item = obj.get("item")
            if not isinstance(item, dict):
                return
            handoff = app.handoff(item)
            if handoff is not None:
                self._on_handoff(c, handoff)
            elif app.str_of(item, "id") is not None:
                self.emit({"type": "realtime.item_done", "item_id": item["id"]})
        elif kind == "response.created":
            c.response_in_progress = True
            self.emit({"type": "realtime.item_added", "item": obj})
        elif kind == "response.done":
            await self._response_done(c, obj)
        elif kind == "response.cancelled":
            c.response_in_progress = False
            c.audio_item, c.audio_end_ms = None, 0
            await self._flush_pending(c)
            response = obj.get("response")
            rid = app.str_of(response, "id") if isinstance(response, dict) else app.str_of(obj, "response_id")
            self.emit(compact("realtime.response_cancelled", response_id=rid))
        elif kind == "error":
            message = self._error_message(event, obj)
            if message is None:
                return
            if message.startswith(app.ACTIVE_RESPONSE_PREFIX):
                c.pending_create = True
                c.response_in_progress = True
                return
            error = error_event("realtime.error", message=message, failure=type(event).__name__)
            if self.policy.realtime_error == "end_conversation":
                self._end(c, error)
            else:
                self.emit(error)  # the SDK keeps the socket: the conversation goes on

    def _audio_out(self, c: _Conversation, obj: Mapping[str, Any]) -> None:
        data = app.str_of(obj, "delta")
        if data is None:
            return
        rate = app.uint(obj.get("sample_rate"))
        channels = app.uint(obj.get("channels", obj.get("num_channels")))
        samples = app.uint(obj.get("samples_per_channel"))
        rate = 24_000 if rate is None else rate
        channels = 1 if channels is None else channels
        item_id = app.str_of(obj, "item_id")
        if item_id is not None:
            duration = app.audio_ms(data, rate, channels, samples)
            if duration:
                if c.audio_item == item_id:
                    c.audio_end_ms = min(c.audio_end_ms + duration, 2**32 - 1)
                else:
                    c.audio_item, c.audio_end_ms = item_id, duration
        self.emit(compact("realtime.audio_out", data=data, sample_rate=rate, num_channels=channels,
                          samples_per_channel=samples, item_id=item_id))  # fmt: skip

    async def _response_done(self, c: _Conversation, obj: Mapping[str, Any]) -> None:
        response = obj.get("response")
        output = response.get("output") if isinstance(response, dict) else None
        for item in output if isinstance(output, list) else []:
            handoff = app.handoff(item)
            if handoff is not None:
                self._on_handoff(c, handoff)
                return
        c.response_in_progress = False
        c.audio_item, c.audio_end_ms = None, 0
        await self._flush_pending(c)
        self.emit({"type": "realtime.item_added", "item": obj})

    @staticmethod
    def _error_message(event: Any, obj: Mapping[str, Any]) -> str | None:
        """The text of a server ``error`` event, as the SDK's ``RealtimeErrorEvent`` holds it."""
        if isinstance(obj.get("message"), str):
            return str(obj["message"])
        error = getattr(event, "error", None)
        message = getattr(error, "message", None)
        if message is None and isinstance(error, Mapping):
            message = error.get("message")
        if isinstance(message, str):
            return message
        if "error" in obj:
            return json.dumps(obj["error"], separators=(",", ":"), ensure_ascii=False)
        return None

    def _on_handoff(self, c: _Conversation, handoff: dict[str, Any]) -> None:
        c.handoff = handoff["handoff_id"]
        c.last_output = None
        c.response_in_progress = False
        c.audio_item, c.audio_end_ms = None, 0
        self.emit(handoff)
