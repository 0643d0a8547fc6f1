"""`RealtimeClient`: the reference realtime client seam (docs/contracts.md) over asyncio.

A thin layer: it opens the websocket, moves frames between the socket and the pure
`RealtimeSession`, and reports neutral events. Every decision about what to send lives
in `session.py`; every wait here is bounded (connect, close handshake, task teardown).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl as ssl_module
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from harness.client.auth import AuthConfig, AuthManager
from harness.client.realtime import events as ev
from harness.client.realtime.config import RealtimeConfig
from harness.client.realtime.headers import (
    MISSING_API_KEY_MESSAGE,
    default_headers,
    handshake_headers,
    resolve_api_key,
)
from harness.client.realtime.inbound import CONNECTION_CLOSED_MESSAGE
from harness.client.realtime.session import HandoffOutput, RealtimeSession, Step
from harness.client.realtime.url import realtime_url
from harness.client.transport_errors import CONNECTION_RESET, neutral_text
from harness.errors import Unsupported


__all__ = [
    "BAD_REQUEST",
    "CLOSED_WITHOUT_HANDSHAKE",
    "NOT_RUNNING_MESSAGE",
    "OPENAI_API_KEY_ENV",
    "STREAM_DISCONNECTED_PREFIX",
    "RealtimeClient",
    "read_error_message",
]

NOT_RUNNING_MESSAGE = "conversation is not running"
BAD_REQUEST = "bad_request"
"""`CodexErrorInfo::BadRequest`: the class core gives `conversation is not running` (§6.3)."""
OPENAI_API_KEY_ENV = "OPENAI_API_KEY"
"""The variable `read_openai_api_key_from_env` reads (realtime-wire §1 key resolution 4)."""
STREAM_DISCONNECTED_PREFIX = "stream disconnected before completion: "
"""`CodexErr::Stream`'s text, which every mapped codex-api transport error carries."""
CLOSED_WITHOUT_HANDSHAKE = "connection closed without a closing handshake"
"""The neutral stand-in for tungstenite's `ResetWithoutClosingHandshake` (TCP FIN, no Close)."""
_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
REALTIME_ENDPOINT = "/realtime"  # the `endpoint` of the auth tags (docs/auth.md)
_TASK_CANCEL_TIMEOUT_S = 1.0
AUDIO_IN_QUEUE_CAPACITY = 256
"""core's `AUDIO_IN_QUEUE_CAPACITY`: audio waits here for the socket; a frame that finds the
queue full is dropped (`try_send` → `TrySendError::Full`, only a `warn!`; realtime-wire §6.3)."""

Emit = Callable[[dict[str, Any]], None]
HandoffHook = Callable[[dict[str, Any]], None]


class _Conversation:
    """One connected conversation: its socket, its state machine and its reader task."""

    __slots__ = ("active", "audio", "audio_pump", "dropped_audio", "lock", "outbox", "reader",
                 "session", "session_id", "writer", "ws")  # fmt: skip

    def __init__(self, *, ws: ClientConnection, session: RealtimeSession, session_id: str):
        self.ws = ws
        self.session = session
        self.session_id = session_id
        self.lock = asyncio.Lock()
        """Keeps one step's frames and events together, in order."""
        self.active = True
        """False once something started ending it; whoever flips it does the ending."""
        self.reader: asyncio.Task[None] | None = None
        self.outbox: asyncio.Queue[HandoffOutput] = asyncio.Queue()
        """The delegated turn's replies, in order (core's assistant-output channel, §6.4)."""
        self.writer: asyncio.Task[None] | None = None
        self.audio: asyncio.Queue[Mapping[str, Any]] = asyncio.Queue(AUDIO_IN_QUEUE_CAPACITY)
        """Audio frames not yet sent (core's bounded audio channel, §6.3)."""
        self.audio_pump: asyncio.Task[None] | None = None
        self.dropped_audio = 0


def _describe(exc: BaseException) -> str:
    """A neutral text: events never carry one library's error message."""
    return neutral_text(exc, phase="connect")


def read_error_message(exc: BaseException) -> str:
    """A failed websocket read as Codex reports it (realtime-wire §4, §6.4).

    codex-api's `next_event` returns `ApiError::Stream("failed to read websocket message:
    {err}")`; core maps it (`map_api_error`) to `CodexErr::Stream`, whose text is
    `stream disconnected before completion: {msg}`. The library's own `{err}` is replaced
    by a neutral phrase (events never carry one library's text).
    """
    reason = neutral_text(exc, phase="connect")
    if reason != CONNECTION_RESET:
        reason = CLOSED_WITHOUT_HANDSHAKE
    return f"{STREAM_DISCONNECTED_PREFIX}failed to read websocket message: {reason}"


def _connect_error(exc: Exception) -> dict[str, Any]:
    """A rejected or failed connect as one clear event (realtime-wire §6.2, test revision)."""
    if isinstance(exc, InvalidStatus):
        response = exc.response
        request_id = response.headers.get("x-request-id")
        message = (
            f"failed to connect realtime websocket: HTTP {response.status_code} "
            f"{response.reason_phrase}"
        ).rstrip()
        if request_id:
            message += f" (x-request-id: {request_id})"
        return ev.realtime_error(message, http_status=response.status_code, request_id=request_id)
    return ev.realtime_error(f"failed to connect realtime websocket: {_describe(exc)}")


def _drop(ws: ClientConnection) -> None:
    """Drop the TCP connection without a close handshake, as dropping the Rust socket does.

    Codex core never closes a realtime socket gracefully: a conversation close
    (`handle_close` → `shutdown()`), a replaced conversation and a terminal error all
    abort the task that owns the socket, so the server sees TCP end with no close
    frame (1006; realtime-wire §3.8, §6.3). Only codex-api's own `close()` sends a
    Close frame, and core never calls it.
    """
    with contextlib.suppress(Exception):
        ws.transport.abort()


async def _cancel(task: asyncio.Task[None] | None) -> None:
    """Cancel a task and wait for it, bounded; never raises."""
    if task is None or task is asyncio.current_task():
        return
    task.cancel()
    with contextlib.suppress(Exception):
        async with asyncio.timeout(_TASK_CANCEL_TIMEOUT_S):
            await asyncio.gather(task, return_exceptions=True)


class RealtimeClient:
    """The Codex (R-C) realtime conversation client behind the wireplay client seam.

    Ops: `realtime.start`, `realtime.audio`, `realtime.text`, `realtime.handoff_output`,
    `realtime.turn_complete`, `realtime.handoff_append`, `realtime.update_prompt`,
    `realtime.close` (schemas/steps/realtime.schema.json).

    `env` is the client's process environment (the case's `client.env`; never os.environ).
    `on_handoff`, when given, is called with each handoff event just before it is reported,
    as core's fan-out routes the handoff's text before forwarding the event (§6.2 step 6);
    the session layer (harness/client/session) starts or steers the delegated turn there and
    answers through `handoff_out` / `handoff_complete`.
    """

    def __init__(
        self,
        *,
        base_url: str,
        config: Mapping[str, Any],
        emit: Emit,
        ssl: ssl_module.SSLContext | None = None,
        env: Mapping[str, str] | None = None,
        on_handoff: HandoffHook | None = None,
    ) -> None:
        self._base_url = base_url
        self._config = RealtimeConfig.from_mapping(config)
        self._emit = emit
        self._ssl = ssl
        self._env = dict(env or {})
        self._on_handoff = on_handoff
        self._auth: AuthManager | None = None
        if self._config.auth is not None:
            cfg = self._config
            key = resolve_api_key(bearer_token=cfg.bearer_token, api_key=cfg.api_key)
            self._auth = AuthManager(AuthConfig.from_mapping(cfg.auth, api_key=key), emit=emit,
                                     ssl=ssl, endpoint=REALTIME_ENDPOINT,
                                     client_headers=list(default_headers().items()))  # fmt: skip
        self._conversation: _Conversation | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._ops: dict[str, Callable[[Mapping[str, Any]], Awaitable[None]]] = {
            "realtime.start": self._start,
            "realtime.audio": self._audio,
            "realtime.text": self._text,
            "realtime.handoff_output": self._handoff_output,
            "realtime.turn_complete": self._turn_complete,
            "realtime.handoff_append": self._handoff_append,
            "realtime.update_prompt": self._update_prompt,
            "realtime.close": self._close,
        }

    @property
    def config(self) -> RealtimeConfig:
        return self._config

    @property
    def _close_timeout_s(self) -> float:
        return self._config.close_timeout_ms / 1000

    async def handle(self, op: str, args: Mapping[str, Any]) -> None:
        """Perform one client step; return when its frames are sent and events reported."""
        handler = self._ops.get(op)
        if handler is None:
            raise ValueError(f"unknown realtime client op: {op}")
        await handler(args)

    async def aclose(self) -> None:
        """Release the socket (dropped, as Codex exiting drops it) and tasks; never raises."""
        conversation, self._conversation = self._conversation, None
        try:
            if conversation is not None and conversation.active:
                conversation.active = False
                await _cancel(conversation.reader)
                _drop(conversation.ws)
            for task in list(self._tasks):
                await _cancel(task)
        except Exception:
            if conversation is not None:
                _drop(conversation.ws)

    # --- ops -----------------------------------------------------------------------------

    async def _start(self, args: Mapping[str, Any]) -> None:
        # realtime-wire §6.2 step 4: a running conversation is replaced, its socket dropped
        # and no closed event reported for it.
        previous, self._conversation = self._conversation, None
        if previous is not None and previous.active:
            previous.active = False
            await _cancel(previous.reader)
            await _cancel(previous.writer)
            await _cancel(previous.audio_pump)
            _drop(previous.ws)

        cfg = self._config
        api_key, key_error = self._realtime_api_key()
        if api_key is None:
            # Test revision of §6.2: an error event and no closed event.
            self._emit(ev.realtime_error(key_error or MISSING_API_KEY_MESSAGE))
            return
        named_id = args.get("session_id") or cfg.session_id
        session_id = named_id or str(uuid.uuid4())
        pre_split = cfg.profile.pre_split
        try:
            url = realtime_url(
                self._base_url,
                version=cfg.kind,
                model=None if pre_split else cfg.model,
                query_params=cfg.query_params,
                pre_split=pre_split,
            )
        except ValueError as exc:
            self._emit(ev.realtime_error(str(exc)))
            return
        session = RealtimeSession(
            kind=cfg.kind,
            mode=cfg.mode,
            instructions=cfg.instructions(args.get("prompt")),
            profile=cfg.profile,
            # R-A-0 session.create carries the conversation id only when one is named (§9).
            conversation_id=named_id,
        )
        ws = await self._open(url, api_key=api_key, session_id=session_id)
        if ws is None:
            return
        try:
            await self._send_frames(ws, session.open())
        except ConnectionClosed:
            _drop(ws)
            self._emit(
                ev.realtime_error(
                    f"failed to connect realtime websocket: {CONNECTION_CLOSED_MESSAGE}"
                )
            )
            return

        conversation = _Conversation(ws=ws, session=session, session_id=session_id)
        self._conversation = conversation
        self._emit(ev.conversation_started(session_id=session_id, version=cfg.kind.value))
        # Started is reported before any server event: the reader starts only now.
        conversation.reader = self._spawn(self._read_loop(conversation))

    def _realtime_api_key(self) -> tuple[str | None, str | None]:
        """`realtime_api_key` (core R-C, realtime-wire §1): the key, or why there is none.

        First match wins: the provider's `env_key` from the client's environment (named but
        unset or blank: `Missing environment variable`), a non-empty provider bearer token,
        the API key of the login (never a ChatGPT or host token), then `OPENAI_API_KEY` from
        the client's environment when the provider is OpenAI's (the temporary fallback for
        ChatGPT sessions); else `realtime conversation requires API key auth`.
        """
        cfg = self._config
        if cfg.env_key is not None:
            value = self._env.get(cfg.env_key, "")
            if not value.strip():
                return None, f"Missing environment variable: `{cfg.env_key}`."
            return value, None
        api_key = resolve_api_key(bearer_token=cfg.bearer_token, api_key=cfg.api_key)
        if self._auth is not None:
            api_key = self._auth.bearer_token()
        if api_key is None and cfg.provider_is_openai:
            api_key = self._env.get(OPENAI_API_KEY_ENV, "").strip() or None
        return api_key, None

    async def _audio(self, args: Mapping[str, Any]) -> None:
        # realtime-wire §6.3 `handle_audio` → `audio_in`: queue the frame without waiting;
        # when the queue is full (the socket is not taking frames as fast as they come) the
        # frame is dropped, silently but for codex's log line, and the conversation goes on.
        conversation = self._conversation
        if conversation is None or not conversation.active:
            self._emit(ev.runtime_error(NOT_RUNNING_MESSAGE, code=BAD_REQUEST))
            return
        try:
            conversation.audio.put_nowait(args)
        except asyncio.QueueFull:
            conversation.dropped_audio += 1  # `warn!("dropping input audio frame due to full queue")`
            return
        if conversation.audio_pump is None:
            conversation.audio_pump = self._spawn(self._audio_loop(conversation))
        await asyncio.sleep(0)  # core's input task runs beside the caller: let it take the frame

    async def _audio_loop(self, conversation: _Conversation) -> None:
        """The input task's audio arm (§6.4): each queued frame in order. A blocked socket
        holds the conversation's lock, so its reads wait too, as codex's one `select!` loop
        does while it awaits `send_audio_frame`."""
        while True:
            args = await conversation.audio.get()
            try:
                samples = args.get("samples_per_channel")
                async with conversation.lock:
                    if not conversation.active:
                        return
                    step = conversation.session.send_audio(
                        args["data"], sample_rate=int(args.get("sample_rate") or 24_000),
                        num_channels=int(args.get("num_channels") or 1),
                        samples_per_channel=None if samples is None else int(samples))  # fmt: skip
                    stop = await self._apply(conversation, step)
                    if stop:
                        self._detach(conversation)
            finally:
                conversation.audio.task_done()
            if stop:
                await _cancel(conversation.reader)
                await self._finish(conversation)
                return

    @staticmethod
    async def _audio_sent(conversation: _Conversation) -> None:
        """Wait until the audio queued before this op is on the socket (or the conversation
        ended). Codex's `select!` picks its arms in no fixed order, so any order of audio and
        another op is valid on the wire; the reference keeps the steps' order."""
        pump = conversation.audio_pump
        if pump is None or pump.done():
            return
        drained = asyncio.ensure_future(conversation.audio.join())
        try:
            await asyncio.wait({drained, pump}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            drained.cancel()

    async def _text(self, args: Mapping[str, Any]) -> None:
        text = args["text"]
        await self._command(lambda session: session.send_text(text))

    async def _handoff_output(self, args: Mapping[str, Any]) -> None:
        # realtime-wire §6.5: mirroring is silent when nothing is running.
        text = args["text"]
        await self._command(lambda session: session.handoff_output(text), report_idle=False)

    async def _turn_complete(self, args: Mapping[str, Any]) -> None:
        del args
        await self._command(lambda session: session.turn_complete(), report_idle=False)

    async def _handoff_append(self, args: Mapping[str, Any]) -> None:
        # codex-api `send_conversation_handoff_append(handoff_id, text)`: addressed by id,
        # whatever handoff is active (realtime-wire §3.6).
        handoff_id, text = str(args["handoff_id"]), str(args["text"])
        await self._command(lambda session: session.handoff_append(handoff_id, text))

    async def _update_prompt(self, args: Mapping[str, Any]) -> None:
        # [R-A-0] `send_session_update(backend_prompt, conversation_id)` (realtime-wire §9).
        if not self._config.profile.pre_split:
            raise Unsupported(
                "a prompt change on an open connection is the first revision's session.update (profile r-a-0); later revisions have no such message"
            )
        prompt = str(args["prompt"])
        await self._command(lambda session: session.update_prompt(prompt))

    # --- the session layer's side (harness/client/session) ------------------------------

    def handoff_out(self, text: str) -> None:
        """An assistant message of the delegated turn (core `maybe_mirror_event_text_to_realtime`
        → `handoff_out`, realtime-wire §6.5). Synchronous, as codex calls it while emitting
        the message: the active handoff is read now, the reply goes out in order after it."""
        conversation = self._conversation
        if conversation is None or not conversation.active:
            return  # `conversation is not running`: codex only logs it
        output = conversation.session.mirror(text)
        if output is not None:
            self._enqueue(conversation, output)

    def handoff_complete(self) -> None:
        """The delegated turn completed (core `maybe_clear_realtime_handoff_for_event`:
        `handoff_complete` then `clear_active_handoff`, realtime-wire §6.5)."""
        conversation = self._conversation
        if conversation is None or not conversation.active:
            return
        output = conversation.session.complete()
        if output is not None:
            self._enqueue(conversation, output)

    def _enqueue(self, conversation: _Conversation, output: HandoffOutput) -> None:
        conversation.outbox.put_nowait(output)
        if conversation.writer is None:
            conversation.writer = self._spawn(self._write_loop(conversation))

    async def _write_loop(self, conversation: _Conversation) -> None:
        """The input task's handoff-output arm (§6.4): each reply in order, never blocking
        the reader; once the conversation ended, what is left is dropped (codex's send to a
        closed channel fails and is only logged)."""
        while True:
            output = await conversation.outbox.get()
            async with conversation.lock:
                if not conversation.active:
                    return
                stop = await self._apply(conversation, conversation.session.deliver(output))
                if stop:
                    self._detach(conversation)
            if stop:
                await _cancel(conversation.reader)
                await self._finish(conversation)
                return

    async def _close(self, args: Mapping[str, Any]) -> None:
        del args
        # realtime-wire §3.8, §6.3: handle_close → shutdown() aborts the input task that owns
        # the socket, so it is dropped with no Close frame and no close handshake (the server
        # sees 1006), then closed{requested} is reported, even when nothing was running.
        conversation, self._conversation = self._conversation, None
        if conversation is not None and conversation.active:
            conversation.active = False
            await _cancel(conversation.reader)
            await _cancel(conversation.writer)
            await _cancel(conversation.audio_pump)
            _drop(conversation.ws)
        self._emit(ev.conversation_closed(reason=ev.REASON_REQUESTED))

    # --- plumbing --------------------------------------------------------------------------

    async def _open(self, url: str, *, api_key: str, session_id: str) -> ClientConnection | None:
        """Connect, or report why not (then None). With an `auth` config each handshake is
        reported as `auth.request` and a 401 runs the recovery, then the handshake again
        with the new token (docs/auth.md; the same machine as the Responses client)."""
        cfg = self._config
        auth = self._auth
        attempts = auth.attempts("websocket_connect") if auth is not None else None
        while True:
            headers = handshake_headers(
                provider_headers=cfg.headers,
                api_key=(auth.bearer_token() if auth is not None else None) or api_key,
                session_id=session_id,
                kind=cfg.kind,
                profile=cfg.profile,
            )
            if auth is not None:  # ChatGPT-Account-ID with ChatGPT tokens
                headers.update(
                    (k.lower(), v) for k, v in auth.headers() if k.lower() != "authorization"
                )
            context = attempts.context() if attempts is not None else None
            try:
                ws = await self._connect(url, headers)
            except Exception as exc:
                response = exc.response if isinstance(exc, InvalidStatus) else None
                if attempts is not None:
                    attempts.observe(ok=False, status=response.status_code if response else None,
                                     headers=response.headers if response else None,
                                     context=context, connection_reused=False)  # fmt: skip
                    if response is not None and response.status_code == 401:
                        decision = await attempts.unauthorized(response.headers)
                        if decision.retry:
                            continue
                        if decision.failure is not None:
                            self._emit(ev.realtime_error(decision.failure.message))
                            return None
                self._emit(_connect_error(exc))
                return None
            if attempts is not None:
                attempts.observe(ok=True, status=None, context=context, connection_reused=False)
            return ws

    async def _connect(self, url: str, headers: Mapping[str, str]) -> ClientConnection:
        open_timeout_s = self._config.open_timeout_ms / 1000
        kwargs: dict[str, Any] = {}
        if self._ssl is not None and url.startswith("wss:"):
            kwargs["ssl"] = self._ssl
        async with asyncio.timeout(open_timeout_s + 1):
            return await connect(
                url,
                additional_headers=list(headers.items()),
                user_agent_header=None,
                compression=None,
                proxy=None,
                open_timeout=open_timeout_s,
                ping_interval=None,
                # The client never closes gracefully (it drops the socket); this only bounds
                # the library's answer to a close the server starts.
                close_timeout=self._close_timeout_s,
                max_size=_MAX_MESSAGE_BYTES,
                **kwargs,
            )

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @staticmethod
    async def _send_frames(ws: ClientConnection, step: Step) -> None:
        for frame in step.frames:
            await ws.send(json.dumps(frame, ensure_ascii=False))

    async def _apply(self, conversation: _Conversation, step: Step) -> bool:
        """Send a step's frames, then report its events; True when the conversation must end."""
        try:
            await self._send_frames(conversation.ws, step)
        except ConnectionClosed:
            # realtime-wire §1: sending after close.
            self._emit(ev.realtime_error(CONNECTION_CLOSED_MESSAGE))
            return True
        for event in step.events:
            if self._on_handoff is not None and event.get("type") == ev.HANDOFF_REQUESTED:
                # Core's fan-out routes the handoff's text before forwarding the event.
                self._on_handoff(event)
            self._emit(event)
        return step.stop

    async def _command(
        self, command: Callable[[RealtimeSession], Step], *, report_idle: bool = True
    ) -> None:
        conversation = self._conversation
        if conversation is None or not conversation.active:
            if report_idle:
                self._emit(ev.runtime_error(NOT_RUNNING_MESSAGE, code=BAD_REQUEST))
            return
        await self._audio_sent(conversation)
        async with conversation.lock:
            if not conversation.active:
                if report_idle:
                    self._emit(ev.runtime_error(NOT_RUNNING_MESSAGE, code=BAD_REQUEST))
                return
            stop = await self._apply(conversation, command(conversation.session))
            if stop:
                self._detach(conversation)
        if stop:
            await _cancel(conversation.reader)
            await self._finish(conversation)

    async def _read_loop(self, conversation: _Conversation) -> None:
        """The input task's server side (realtime-wire §6.4): until an error or the close."""
        session = conversation.session
        while True:
            message: str | bytes | None
            failure: str | None = None
            try:
                message = await conversation.ws.recv()
            except ConnectionClosed as exc:
                # A Close frame from the server is Ok(None) (realtime-wire §4); TCP ending
                # without one (FIN or RST) is a read error, like tungstenite's.
                message = None
                if exc.rcvd is None:
                    failure = read_error_message(exc)
            except Exception as exc:  # a read error also ends the conversation (§4)
                message, failure = None, read_error_message(exc)
            async with conversation.lock:
                if not conversation.active:
                    return
                if failure is not None:
                    step = Step(events=(ev.realtime_error(failure),), stop=True)
                elif message is None:
                    step = session.transport_closed()
                elif isinstance(message, str):
                    step = session.receive_text(message)
                else:
                    step = session.receive_binary()
                stop = await self._apply(conversation, step)
                if stop:
                    self._detach(conversation)
            if stop:
                await self._finish(conversation)
                return

    def _detach(self, conversation: _Conversation) -> None:
        conversation.active = False
        if self._conversation is conversation:
            self._conversation = None

    async def _finish(self, conversation: _Conversation) -> None:
        """End a conversation the transport or the server stopped (realtime-wire §6.2 step 6).

        Codex's input task simply returns (realtime-wire §6.4) and its socket is dropped with
        it: no close handshake is attempted. So the TCP connection is dropped at once and
        closed{transport_closed} follows the error immediately; a server that would stall a
        close handshake cannot delay it (seed ws-drop-on-terminal-error).
        """
        _drop(conversation.ws)
        self._emit(ev.conversation_closed(reason=ev.REASON_TRANSPORT_CLOSED))
