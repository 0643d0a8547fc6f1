"""Realtime steps through ``codex app-server`` (``thread/realtime/*``).

The app-server is started on the first realtime step with one thread; a start is
``thread/realtime/start`` over the websocket transport, pointed at the fake server
by ``experimental_realtime_ws_base_url``. Its notifications are mapped to the
neutral realtime events where they carry the same fact (:func:`notification_events`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from harness.adapters.base import Emit
from harness.impls.codex_cli.app_server import AppServer, RpcError
from harness.impls.codex_cli.binary import CODEX_VERSION
from harness.impls.codex_cli.config import (
    base_args,
    codex_env,
    provider_table,
    toml_value,
    ws_origin,
)
from harness.impls.codex_cli.login import login_with_api_key
from harness.impls.codex_cli.logs import REALTIME, parse_line, realtime_event
from harness.impls.codex_cli.mapping import as_mapping, error_info
from harness.impls.codex_cli.responses import UnsupportedStep
from harness.impls.codex_cli.sequencer import RELAYED, Sequencer, variant_of
from harness.impls.codex_cli.texts import neutral, with_error_fields


__all__ = ["CLIENT_NAME", "AppServerRealtime", "notification_events", "realtime_error"]

CLIENT_NAME = "codex_cli_rs"
_PREFIX = "thread/realtime/"
_OPEN_TIMEOUT = 10.0
_CLOSE_GRACE = 1.0
_NOT_RUNNING_GRACE = 1.0
_PCM_RATE = 24000


def notification_events(method: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Neutral events for one app-server notification (none for the rest).

    ``item/started``/``item/completed`` (codex's own timeline items) and the assistant's
    ``transcript/done`` have no neutral counterpart: the transcript they carry is already
    reported by the deltas. The user's ``transcript/done`` is the completed input
    transcription. A top-level ``error`` that codex will not retry is an error it reports
    to its user (e.g. ``conversation is not running``).
    """
    if method == "error":
        error = as_mapping(params.get("error"))
        if params.get("willRetry") or not error.get("message"):
            return []
        failed: dict[str, Any] = {"type": "error", "message": neutral(str(error["message"]))}
        failed.update(error_info(error.get("codexErrorInfo")))  # e.g. badRequest → bad_request
        return [with_error_fields(failed)]
    name = method.removeprefix(_PREFIX) if method.startswith(_PREFIX) else None
    if name == "started":
        session_id = params.get("realtimeSessionId") or params.get("threadId")
        event: dict[str, Any] = {"type": "conversation.started", "session_id": str(session_id)}
        if params.get("version") in ("v1", "v2"):
            event["version"] = params["version"]
        return [event]
    if name == "closed":
        reason = "requested" if params.get("reason") == "requested" else "transport_closed"
        return [{"type": "conversation.closed", "reason": reason}]
    if name == "error":
        return [realtime_error(str(params.get("message") or "realtime error"))]
    if name == "transcript/done" and params.get("role") == "user":
        # The completed input transcription, which the vocabulary reports as an input
        # transcript delta carrying the whole transcript (codex parsed it as InputTranscriptDone).
        return [{"type": "realtime.input_transcript_delta", "delta": str(params.get("text", ""))}]
    if name == "transcript/delta":
        role = params.get("role")
        kind = {"user": "realtime.input_transcript_delta", "assistant": "realtime.output_transcript_delta"}.get(str(role))
        return [{"type": kind, "delta": str(params.get("delta", ""))}] if kind else []
    if name == "outputAudio/delta":
        audio = as_mapping(params.get("audio"))
        out: dict[str, Any] = {
            "type": "realtime.audio_out",
            "data": str(audio.get("data", "")),
            "sample_rate": audio.get("sampleRate"),
            "num_channels": audio.get("numChannels"),
        }
        if isinstance(audio.get("samplesPerChannel"), int):
            out["samples_per_channel"] = audio["samplesPerChannel"]
        if isinstance(audio.get("itemId"), str):
            out["item_id"] = audio["itemId"]
        return [out]
    if name == "itemAdded":
        return [_item_added(params.get("item"))]
    return []


def realtime_error(message: str) -> dict[str, Any]:
    """``realtime.error`` with the status and request id its text shows, library texts made neutral."""
    return with_error_fields({"type": "realtime.error", "message": neutral(message)})


def _item_added(item: Any) -> dict[str, Any]:
    """``itemAdded`` carries raw items and, typed by codex, a few realtime events of its own."""
    kind = item.get("type") if isinstance(item, Mapping) else None
    if kind == "handoff_request":
        transcript = item.get("active_transcript")
        return {
            "type": "realtime.handoff_requested",
            "handoff_id": str(item.get("handoff_id", "")),
            "item_id": str(item.get("item_id", "")),
            "input_transcript": str(item.get("input_transcript", "")),
            "active_transcript": [
                {"role": str(e.get("role")), "text": str(e.get("text", ""))}
                for e in (transcript if isinstance(transcript, list) else [])
                if isinstance(e, Mapping)
            ],
        }
    if kind == "input_audio_buffer.speech_started":
        event: dict[str, Any] = {"type": "realtime.speech_started"}
        if isinstance(item.get("item_id"), str):
            event["item_id"] = item["item_id"]
        return event
    if kind == "response.cancelled":
        event = {"type": "realtime.response_cancelled"}
        if isinstance(item.get("response_id"), str):
            event["response_id"] = item["response_id"]
        return event
    return {"type": "realtime.item_added", "item": item}


class AppServerRealtime:
    """The ``realtime.*`` steps of one case."""

    def __init__(
        self,
        *,
        codex: str,
        endpoint_origin: str,
        base_url: str,
        realtime_base_url: str | None = None,
        config: Mapping[str, Any],
        home: str,
        workdir: str,
        emit: Emit,
        extra_env: Mapping[str, str] | None = None,
        log_for: Callable[[str], Path | None] = lambda kind: None,
    ) -> None:
        self._codex = codex
        self._origin = endpoint_origin
        self._base_url = base_url
        self._realtime_base_url = realtime_base_url
        self._config = config
        self._home = home
        self._workdir = workdir
        self._emit = emit
        self._extra_env = dict(extra_env or {})
        self._log_for = log_for
        self._server: AppServer | None = None
        self._thread_id = ""
        self._seen: list[str] = []
        self._changed = asyncio.Event()
        self._running = False
        self._sequencer = Sequencer(emit)

    # -- process ------------------------------------------------------------------

    def _argv(self) -> list[str]:
        c = self._config
        provider = provider_table(
            base_url=self._base_url,
            api_key=None,
            headers=c.get("headers") or {},
            query_params=c.get("query_params") or {},
            # A handoff makes codex run its own agent turn against POST /responses, which no
            # realtime case scripts: fail it at once instead of retrying for seconds.
            request_max_retries=0,
            stream_max_retries=0,
        )
        if c.get("env_key"):
            # The provider's env_key, read from the case's client.env (passed as the process
            # environment): codex's first source of the realtime key (realtime-wire §1).
            provider["env_key"] = str(c["env_key"])
        if c.get("bearer_token") is not None:
            # The provider's bearer token, which codex prefers to the login's API key
            # (realtime-wire §1). An empty one is passed on: ignoring it is codex's business.
            provider["experimental_bearer_token"] = str(c["bearer_token"])
        overrides: dict[str, Any] = {
            # Where realtime connects: the case's own realtime listener, else the provider's
            # base URL (path and query kept; codex normalises the path, realtime-wire §1).
            "experimental_realtime_ws_base_url": ws_origin(self._realtime_base_url or self._base_url),
            # The suite's "no startup_context" means none; codex would build one from the workspace.
            "experimental_realtime_ws_startup_context": c.get("startup_context") or "",
        }
        if c.get("backend_prompt") is not None:
            overrides["experimental_realtime_ws_backend_prompt"] = c["backend_prompt"]
        if c.get("model"):
            overrides["experimental_realtime_ws_model"] = c["model"]
        if c.get("version"):
            overrides["realtime.version"] = c["version"]
        if c.get("type"):
            overrides["realtime.type"] = c["type"]
        argv = [self._codex, "app-server", *base_args(provider=provider)]
        for key, value in overrides.items():
            argv += ["-c", f"{key}={toml_value(value)}"]
        return argv

    async def _ensure(self) -> AppServer:
        if self._server is None:
            env = codex_env(home=self._home, api_key=None, extra=self._extra_env)
            auth = self._config.get("auth") or {}
            if auth.get("mode", "api_key") != "api_key":
                raise UnsupportedStep("codex-cli is driven with API keys only (no ChatGPT or external tokens)")
            api_key = auth["api_key"] if "api_key" in auth else self._config.get("api_key")
            if api_key:
                # The stored login's key: codex prefers the provider's bearer token to it.
                await login_with_api_key(codex=self._codex, api_key=str(api_key), env=env, cwd=self._workdir, log=self._log_for("login"))
            self._server = await AppServer.start(
                self._argv(),
                env=env,
                cwd=self._workdir,
                client_name=CLIENT_NAME,
                client_version=CODEX_VERSION,
                on_notification=self._on_notification,
                log=self._log_for("app-server"),
                on_stderr=self._on_log_line,
            )
            result = await self._server.request("thread/start", {"cwd": self._workdir, "ephemeral": True})
            self._thread_id = str(((result or {}).get("thread") or {}).get("id", ""))
        return self._server

    def _on_log_line(self, line: str) -> bool:
        """Codex's record of each realtime event it parsed: those the app-server does not relay."""
        record = parse_line(line)
        if record is None:
            return False
        if record.target == REALTIME and record.message == "realtime websocket parsed event":
            debug = str(record.fields.get("event", ""))
            self._sequencer.logged(variant_of(debug), realtime_event(debug))
        return True

    def _on_notification(self, method: str, params: Mapping[str, Any]) -> None:
        if not (method.startswith(_PREFIX) or method == "error") or params.get("threadId") not in (None, self._thread_id):
            return
        events = notification_events(method, params)
        for event in events:
            if event["type"] == "conversation.started":
                self._running = True
            elif event["type"] == "conversation.closed":
                self._running = False
        name = method.removeprefix(_PREFIX)
        if events or name in RELAYED.values() or name == "started":
            relayed = name in RELAYED.values() or name == "started"
            self._sequencer.notified(name if relayed and method.startswith(_PREFIX) else None, events)
        self._seen.append(method.removeprefix(_PREFIX))
        self._changed.set()

    async def _await_notification(self, names: tuple[str, ...], *, since: int, timeout: float) -> bool:
        """Wait (bounded) for one of ``thread/realtime/<name>`` among those after ``since``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if any(name in names for name in self._seen[since:]):
                return True
            self._changed.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return False

    async def _call(self, method: str, params: dict[str, Any]) -> bool:
        """One request; an error answer is what codex tells its user: an ``error`` event.

        With no conversation running, codex accepts an append and then reports
        `conversation is not running` as an ``error`` notification: that is waited for
        (bounded), so the step ends after what it caused, as it does with a conversation.
        """
        server = await self._ensure()
        running, since = self._running, len(self._seen)
        try:
            await server.request(method, {"threadId": self._thread_id, **params})
        except RpcError as exc:
            self._emit(with_error_fields({"type": "error", "message": neutral(exc.message)}))
            return False
        if not running and method != "thread/realtime/stop":
            await self._await_notification(("error",), since=since, timeout=_NOT_RUNNING_GRACE)
        return True

    # -- steps --------------------------------------------------------------------

    async def handle(self, op: str, args: Mapping[str, Any]) -> None:
        if op == "realtime.start":
            await self._start(args)
        elif op == "realtime.text":
            await self._call("thread/realtime/appendText", {"text": str(args["text"])})
        elif op == "realtime.audio":
            audio: dict[str, Any] = {
                "data": str(args["data"]),
                # Required by the app-server; codex's own PCM defaults when a case gives none.
                "sampleRate": int(args.get("sample_rate") or _PCM_RATE),
                "numChannels": int(args.get("num_channels") or 1),
            }
            if args.get("samples_per_channel") is not None:
                audio["samplesPerChannel"] = int(args["samples_per_channel"])
            await self._call("thread/realtime/appendAudio", {"audio": audio})
        elif op == "realtime.close":
            # Codex answers stop at once and reports closed{requested} after it, also when
            # nothing was running: the step waits (bounded) for that report.
            since = len(self._seen)
            if await self._call("thread/realtime/stop", {}):
                await self._await_notification(("closed",), since=since, timeout=self._close_bound())
                if self._server is not None:
                    await self._server.settle()
                self._sequencer.flush()
        elif op in ("realtime.handoff_output", "realtime.turn_complete"):
            # Not honoured: codex answers a handoff with its own agent turn (POST /responses)
            # and relays that turn's messages itself; there is no way to inject scripted ones.
            return
        else:
            raise UnsupportedStep(f"codex-cli has no '{op}' step")

    def _close_bound(self) -> float:
        return float(self._config.get("close_timeout_ms", 1000)) / 1000 + _CLOSE_GRACE

    async def _start(self, args: Mapping[str, Any]) -> None:
        server = await self._ensure()
        params: dict[str, Any] = {
            "threadId": self._thread_id,
            "outputModality": "audio",
            "transport": {"type": "websocket"},
        }
        if args.get("prompt") is not None:
            params["prompt"] = args["prompt"]
        session_id = args.get("session_id") or self._config.get("session_id")
        if session_id:
            params["realtimeSessionId"] = session_id
        if self._config.get("version"):
            params["version"] = self._config["version"]
        since = len(self._seen)
        # Codex sends `started` when the socket opens, before anything it parses: whatever
        # its log shows first waits for it.
        self._sequencer.gate("started", timeout=float(self._config.get("open_timeout_ms", _OPEN_TIMEOUT * 1000)) / 1000)
        try:
            await server.request("thread/realtime/start", params)
        except RpcError as exc:
            self._sequencer.flush()
            self._emit(realtime_error(exc.message))
            return
        timeout = float(self._config.get("open_timeout_ms", _OPEN_TIMEOUT * 1000)) / 1000
        await self._await_notification(("started", "error", "closed"), since=since, timeout=timeout)
        await server.settle()

    async def aclose(self) -> None:
        self._sequencer.flush()
        self._sequencer.close()
        server, self._server = self._server, None
        if server is not None:
            await server.aclose()
