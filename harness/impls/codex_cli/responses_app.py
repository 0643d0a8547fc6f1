"""Responses steps through ``codex app-server``: one thread, one client session, for a case.

Every ``responses.turn`` is a ``turn/start`` on the same thread of one app-server process,
so what codex keeps for a session carries over from turn to turn as it does for a user:
the open websocket, ``previous_response_id`` chaining, the sticky fallback to HTTP.
``responses.new_session`` starts another thread (another client session).

The thread is started with ``experimentalRawEvents``, so codex also sends each Responses
item as it parsed it (``rawResponseItem/completed``) and each completed response
(``rawResponse/completed``). Notifications of the thread are mapped to the neutral events
where they carry the same fact (:func:`notification_events`); codex's own log supplies the
rest (logs.py). A tool the case configures is given to codex as a dynamic tool, and its
calls (``item/tool/call``) are answered with the step's ``tool_outputs``; codex answers
calls to its own tools (``exec_command``, ``apply_patch``, ``view_image``, …) itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from harness.adapters.base import Emit
from harness.impls.codex_cli import mapping as ev
from harness.impls.codex_cli.app_server import AppServer
from harness.impls.codex_cli.binary import CODEX_VERSION
from harness.impls.codex_cli.config import base_args, codex_env, provider_table
from harness.impls.codex_cli.login import login_with_api_key
from harness.impls.codex_cli.logs import ResponsesLog, parse_line
from harness.impls.codex_cli.responses import ResponsesSettings, UnsupportedStep, prompt_text
from harness.impls.codex_cli.texts import neutral


__all__ = ["CLIENT_NAME", "AppServerResponses", "TurnMapper"]

CLIENT_NAME = "codex_cli_rs"  # the originator codex's own TUI sends
_THREAD_TIMEOUT = 20.0
# Tools codex brings itself: a dynamic tool cannot take one of these names (codex runs its own).
_CODEX_TOOLS = frozenset({"exec_command", "write_stdin", "request_user_input", "view_image", "apply_patch",
                          "local_shell", "multi_agent_v1", "get_goal", "create_goal", "update_goal", "web_search",
                          "tool_search"})  # fmt: skip
_USAGE = {"inputTokens": "input_tokens", "cachedInputTokens": "cached_input_tokens", "outputTokens": "output_tokens",
          "reasoningOutputTokens": "reasoning_output_tokens", "totalTokens": "total_tokens"}  # fmt: skip


def _usage(value: Any) -> dict[str, int] | None:
    if not isinstance(value, Mapping):
        return None
    out = {neutral_key: value.get(key) for key, neutral_key in _USAGE.items()}
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in out.values()):
        return None
    return {k: out[k] for k in ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens", "total_tokens")}  # type: ignore[misc]


def _minus(total: dict[str, int], before: dict[str, int] | None) -> dict[str, int]:
    return {k: v - (before or {}).get(k, 0) for k, v in total.items()}


class TurnMapper:
    """The neutral events of one thread's notifications (no I/O): state per turn."""

    def __init__(self, emit: Emit, *, stream_error: Callable[[str, str], None]) -> None:
        self._emit = emit
        self._stream_error = stream_error
        self.turn_id: str | None = None
        self.done = asyncio.Event()
        self._error: dict[str, Any] | None = None
        self._total: dict[str, int] | None = None
        self._total_at_start: dict[str, int] | None = None
        self._reported_usage = False
        self.status: str | None = None

    def begin(self) -> None:
        self.turn_id, self._error, self.status = None, None, None
        self._total_at_start, self._reported_usage = self._total, False
        self.done.clear()

    def on(self, method: str, params: Mapping[str, Any]) -> None:
        turn_id = params.get("turnId")
        if method == "turn/started":
            turn = ev.as_mapping(params.get("turn"))
            self.turn_id = str(turn.get("id", ""))
            self._emit({"type": "turn.started", "turn_id": self.turn_id})
            return
        if self.turn_id is None or (turn_id is not None and turn_id != self.turn_id):
            if method == "thread/tokenUsage/updated":
                self._track_usage(params)
            return  # before the turn (the prewarm) or another turn
        if method == "rawResponseItem/completed":
            item = ev.output_item(ev.as_mapping(params.get("item")))
            if item is not None:
                self._emit({"type": "responses.output_item_done", "item": item})
                call = ev.tool_call_event(item)
                if call is not None:
                    self._emit(call)
        elif method == "rawResponse/completed":
            event: dict[str, Any] = {"type": "responses.completed", "response_id": str(params.get("responseId", ""))}
            usage = _usage(params.get("usage"))
            if usage is not None:
                event["token_usage"] = usage
            self._emit(event)
        elif method == "item/agentMessage/delta":
            self._emit({"type": "responses.output_text_delta", "delta": str(params.get("delta", ""))})
        elif method == "item/reasoning/summaryTextDelta" and isinstance(params.get("summaryIndex"), int):
            self._emit({"type": "responses.reasoning_summary_delta", "delta": str(params.get("delta", "")), "summary_index": params["summaryIndex"]})
        elif method == "item/reasoning/textDelta" and isinstance(params.get("contentIndex"), int):
            self._emit({"type": "responses.reasoning_content_delta", "delta": str(params.get("delta", "")), "content_index": params["contentIndex"]})
        elif method == "item/reasoning/summaryPartAdded" and isinstance(params.get("summaryIndex"), int):
            self._emit({"type": "responses.reasoning_summary_part_added", "summary_index": params["summaryIndex"]})
        elif method == "model/rerouted":
            self._emit({"type": "turn.model_reroute", "from_model": str(params.get("fromModel", "")),
                        "to_model": str(params.get("toModel", "")), "reason": ev.snake_case(str(params.get("reason", "")))})  # fmt: skip
        elif method == "warning":
            message = str(params.get("message", ""))
            if not ev.is_model_metadata_notice(message):
                self._emit(ev.warning(message))
        elif method == "error":
            self._on_error(params)
        elif method == "thread/tokenUsage/updated":
            self._track_usage(params)
            self._reported_usage = True
        elif method == "turn/completed":
            turn = ev.as_mapping(params.get("turn"))
            self.status = str(turn.get("status", ""))
            if self.status == "failed" and self._error is None and isinstance(turn.get("error"), Mapping):
                self._error = self._error_event(turn["error"])
            self.done.set()

    def _track_usage(self, params: Mapping[str, Any]) -> None:
        usage = ev.as_mapping(params.get("tokenUsage"))
        total = _usage(usage.get("total"))
        if total is not None:
            self._total = total

    def _on_error(self, params: Mapping[str, Any]) -> None:
        error = ev.as_mapping(params.get("error"))
        message = str(error.get("message", ""))
        if params.get("willRetry"):
            reconnect = ev.parse_reconnect(message)
            if reconnect is not None:
                self._stream_error(reconnect["message"], str(error.get("additionalDetails") or ""))
            elif message:
                self._emit(ev.warning(message))  # a notice codex carries on after
        else:
            self._error = self._error_event(error)

    @staticmethod
    def _error_event(error: Mapping[str, Any]) -> dict[str, Any]:
        event = ev.error_event(str(error.get("message", "")), None)
        event.update(ev.error_info(error.get("codexErrorInfo")))
        return event

    def end(self) -> None:
        """The turn's ``error`` (if it failed) and ``turn.completed``."""
        failed = self.status == "failed"
        if failed and self._error is not None:
            self._emit(self._error)
        done: dict[str, Any] = {"type": "turn.completed", "status": "failed" if failed else "completed"}
        if self._reported_usage and self._total is not None:
            done["token_usage"] = _minus(self._total, self._total_at_start)
        self._emit(done)


class AppServerResponses:
    """The ``responses.*`` steps of one case, on one app-server thread."""

    def __init__(
        self,
        *,
        codex: str,
        known_features: frozenset[str] = frozenset(),
        base_url: str,
        settings: ResponsesSettings,
        tools: list[Mapping[str, Any]] | None = None,
        home: str,
        workdir: str,
        emit: Emit,
        extra_env: Mapping[str, str] | None = None,
        log_for: Callable[[str], Path | None] = lambda kind: None,
    ) -> None:
        self._codex = codex
        self._known_features = known_features
        self._base_url = base_url
        self._settings = settings
        self._tools = [t for t in (tools or []) if isinstance(t, Mapping)]
        self._home = home
        self._workdir = workdir
        self._emit = emit
        self._extra_env = dict(extra_env or {})
        self._log_for = log_for
        self._server: AppServer | None = None
        self._thread_id: str | None = None
        self._tool_outputs: Mapping[str, Any] = {}
        self._log = ResponsesLog(emit=emit, auth_tags=settings.auth_tags, on_stream_error=self._stream_error_logged)
        self._retries_unmatched: dict[str, list[tuple[str, str]]] = {"log": [], "codex": []}
        self._turn = TurnMapper(emit, stream_error=lambda m, d: self._stream_error(m, d, source="codex"))

    # -- process ------------------------------------------------------------------

    def _argv(self) -> list[str]:
        s = self._settings
        provider = provider_table(
            base_url=self._base_url,
            api_key=s.api_key if s.key_source == "provider_env" else None,
            bearer_token=s.api_key if s.key_source == "provider_byok" else None,
            headers=s.headers,
            query_params=s.query_params,
            request_max_retries=s.request_max_retries,
            stream_max_retries=s.stream_max_retries,
            stream_idle_timeout_ms=s.stream_idle_timeout_ms,
            websockets=s.websocket,
        )
        if s.key_source == "auth_json":
            provider["requires_openai_auth"] = True
        argv = [self._codex, "app-server", *base_args(provider=provider)]
        for name, enabled in s.features.items():
            if name in self._known_features:
                argv += ["--enable" if enabled else "--disable", name]
        return argv

    def _env(self) -> dict[str, str]:
        extra = dict(self._extra_env)
        if self._settings.originator:
            extra["CODEX_INTERNAL_ORIGINATOR_OVERRIDE"] = self._settings.originator
        key = self._settings.api_key if self._settings.key_source == "provider_env" else None
        return codex_env(home=self._home, api_key=key, extra=extra)

    async def _ensure(self) -> AppServer:
        if self._server is None:
            s = self._settings
            if s.key_source == "auth_json" and s.api_key:
                await login_with_api_key(codex=self._codex, api_key=s.api_key, env=self._env(), cwd=self._workdir, log=self._log_for("login"))
            self._server = await AppServer.start(
                self._argv(),
                env=self._env(),
                cwd=self._workdir,
                client_name=CLIENT_NAME,
                client_version=CODEX_VERSION,
                on_notification=self._on_notification,
                on_request=self._on_request,
                log=self._log_for("app-server"),
                on_stderr=self._on_log_line,
            )
        if self._thread_id is None:
            await self._start_thread(self._server)
        return self._server

    async def _start_thread(self, server: AppServer) -> None:
        params: dict[str, Any] = {
            "cwd": self._workdir,
            "model": self._settings.model,
            "approvalPolicy": "never",
            "sandbox": "read-only",
            "experimentalRawEvents": True,
        }
        dynamic = [self._dynamic_tool(t) for t in self._tools if t.get("type") == "function" and t.get("name") not in _CODEX_TOOLS]
        if dynamic:
            params["dynamicTools"] = dynamic
        self._log.new_turn()
        result = await server.request("thread/start", params, timeout=_THREAD_TIMEOUT)
        self._thread_id = str(((result or {}).get("thread") or {}).get("id", ""))

    @staticmethod
    def _dynamic_tool(tool: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": "function", "name": str(tool["name"]), "description": str(tool.get("description") or ""),
                "inputSchema": tool.get("parameters") or {"type": "object", "properties": {}}}  # fmt: skip

    # -- codex's side -------------------------------------------------------------

    def _on_log_line(self, line: str) -> bool:
        record = parse_line(line)
        if record is None:
            return False
        self._log.feed(record)
        return True

    def _stream_error_logged(self, message: str, details: str) -> None:
        self._stream_error(message, details, source="log")

    def _stream_error(self, message: str, details: str, *, source: str) -> None:
        """``turn.stream_error`` once per retry, whether codex logged it, notified it, or both."""
        other = self._retries_unmatched["codex" if source == "log" else "log"]
        if (message, details) in other:
            other.remove((message, details))
            return
        self._retries_unmatched[source].append((message, details))
        self._emit({"type": "turn.stream_error", "message": message, "details": neutral(details)})

    def _on_notification(self, method: str, params: Mapping[str, Any]) -> None:
        if params.get("threadId") == self._thread_id:
            self._turn.on(method, params)

    async def _on_request(self, method: str, params: Mapping[str, Any]) -> Any:
        if method != "item/tool/call" or params.get("threadId") != self._thread_id:
            return None
        call_id, name = str(params.get("callId", "")), str(params.get("tool", ""))
        output = self._tool_outputs.get(call_id, self._tool_outputs.get(name))
        if output is None:
            return {"contentItems": [{"type": "inputText", "text": f"unsupported call: {name}"}], "success": False}
        if isinstance(output, str):
            return {"contentItems": [{"type": "inputText", "text": output}], "success": True}
        items = [{"type": "inputText", "text": str(part.get("text", ""))} if part.get("type") in ("input_text", "text", "output_text")
                 else {"type": "inputImage", "imageUrl": str(part.get("image_url", ""))}
                 for part in output if isinstance(part, Mapping)]  # fmt: skip
        return {"contentItems": items, "success": True}

    # -- steps --------------------------------------------------------------------

    async def handle(self, op: str, args: Mapping[str, Any]) -> None:
        if op == "responses.turn":
            await self._run_turn(prompt_text(args.get("input")), args.get("tool_outputs") or {})
        elif op == "responses.prewarm":
            # Starting the thread is what makes codex prewarm (its websocket, when it has one).
            await self._ensure()
        elif op == "responses.new_session":
            if self._server is not None:
                self._thread_id = None
                await self._start_thread(self._server)
        else:
            raise UnsupportedStep(f"codex-cli has no '{op}' step")

    async def _run_turn(self, text: str, tool_outputs: Mapping[str, Any]) -> None:
        server = await self._ensure()
        self._tool_outputs = dict(tool_outputs)
        self._retries_unmatched = {"log": [], "codex": []}
        self._log.new_turn()
        self._turn.begin()
        await server.request("turn/start", {"threadId": self._thread_id, "input": [{"type": "text", "text": text, "text_elements": []}]})
        waiter = asyncio.ensure_future(self._turn.done.wait())
        closed = asyncio.ensure_future(server.closed.wait())
        try:
            await asyncio.wait({waiter, closed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (waiter, closed):
                task.cancel()
        if not self._turn.done.is_set():
            raise RuntimeError(f"codex app-server exited during the turn; stderr:\n{server.stderr_tail}")
        await server.settle()  # codex's log records of this turn come before its end
        self._log.flush()
        self._turn.end()

    async def aclose(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.aclose()
