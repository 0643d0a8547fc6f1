"""Responses steps as ``codex exec --json`` runs: one process per turn.

The first turn starts a thread; later turns ``resume`` it, so the conversation
carries over the way codex carries it (a cold resume from its rollout). Events are
emitted while codex runs, from its stdout, with the rollout read up to the record
that stdout line stands for (see :mod:`.rollout`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.adapters.base import Emit
from harness.impls.codex_cli import exec_events as ev
from harness.impls.codex_cli.config import base_args, codex_env, provider_table
from harness.impls.codex_cli.login import login_with_api_key
from harness.impls.codex_cli.logs import ResponsesLog, parse_line
from harness.impls.codex_cli.process import CodexProcess
from harness.impls.codex_cli.rollout import Record, Rollout
from harness.impls.codex_cli.texts import neutral


__all__ = ["ExecResponses", "ResponsesSettings", "UnsupportedStep"]

_SYNC = 3.0
_EXIT = 5.0
_DEFAULT_MODEL = "gpt-5.2-codex"
# Where a case's API key goes: codex's stored login (auth.json, used by a provider that
# requires OpenAI auth), the provider's env_key, or the provider's own bearer token.
_KEY_SOURCES = ("auth_json", "provider_env", "provider_byok")


class UnsupportedStep(NotImplementedError):
    """A step or setting codex cannot honour; the case should require a capability for it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponsesSettings:
    """The parts of a case's ``responses`` config codex has a knob for."""

    model: str = _DEFAULT_MODEL
    api_key: str | None = None
    websocket: bool = False
    request_max_retries: int | None = None
    stream_max_retries: int | None = None
    stream_idle_timeout_ms: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    query_params: Mapping[str, str] = field(default_factory=dict)
    originator: str | None = None
    features: Mapping[str, bool] = field(default_factory=dict)
    key_source: str = "provider_env"
    auth_tags: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ResponsesSettings:
        if config.get("ws_version", "v2") != "v2":
            raise UnsupportedStep("codex-cli 0.169.0 speaks only the v2 Responses websocket (response.create + previous_response_id)")
        auth = config.get("auth") or {}
        if auth.get("mode", "api_key") != "api_key":
            raise UnsupportedStep("codex-cli is driven with API keys only (no ChatGPT or external tokens)")
        key_source = str(auth.get("key_source", "auth_json")) if auth else "provider_env"
        if key_source not in _KEY_SOURCES:
            raise UnsupportedStep(f"codex-cli cannot be given an API key from '{key_source}'")
        api_key = auth["api_key"] if "api_key" in auth else config.get("api_key")
        return cls(
            model=str(config.get("model") or _DEFAULT_MODEL),
            api_key=api_key or None,
            key_source=key_source,
            # The vocabulary's auth events come with an `auth` config whose tags are not off.
            auth_tags=bool(auth) and auth.get("tags", True) is not False,
            websocket=config.get("transport") == "websocket",
            request_max_retries=config.get("request_max_retries"),
            stream_max_retries=config.get("stream_max_retries"),
            stream_idle_timeout_ms=config.get("stream_idle_timeout_ms"),
            headers=dict(config.get("headers") or {}),
            query_params=dict(config.get("query_params") or {}),
            originator=config.get("originator"),
            features=dict(config.get("features") or {}),
        )


def _prompt(value: Any) -> str:
    """exec takes one user text; a list of items is accepted only if it says just that."""
    if isinstance(value, str):
        return value
    texts: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        content = item.get("content") if isinstance(item, Mapping) else None
        if not (isinstance(item, Mapping) and item.get("type", "message") == "message" and item.get("role") == "user" and isinstance(content, list)):
            raise UnsupportedStep("codex exec sends only user text; raw input items cannot be sent")
        for part in content:
            if not (isinstance(part, Mapping) and part.get("type") == "input_text" and isinstance(part.get("text"), str)):
                raise UnsupportedStep("codex exec sends only user text; non-text content cannot be sent")
            texts.append(part["text"])
    if len(texts) != 1:
        raise UnsupportedStep("codex exec sends exactly one user text per turn")
    return texts[0]


def _event_msg(kind: str) -> Callable[[Record], bool]:
    return lambda r: r.get("type") == "event_msg" and isinstance(r.get("payload"), dict) and r["payload"].get("type") == kind


def _output_of(kinds: Callable[[str], bool]) -> Callable[[Record], bool]:
    def wanted(r: Record) -> bool:
        payload = r.get("payload")
        if r.get("type") != "response_item" or not isinstance(payload, dict):
            return False
        item = ev.output_item(payload)
        return item is not None and kinds(str(item.get("type")))

    return wanted


@dataclass(slots=True)
class _Turn:
    """What one turn has seen so far."""

    started: bool = False
    ended: bool = False
    usage: dict[str, int] | None = None
    complete: dict[str, Any] | None = None
    pending_error: str | None = None


class ExecResponses:
    """The ``responses.*`` steps of one case, against ``base_url``."""

    def __init__(
        self,
        *,
        codex: str,
        known_features: frozenset[str] = frozenset(),
        base_url: str,
        settings: ResponsesSettings,
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
        self._home = home
        self._workdir = workdir
        self._emit = emit
        self._extra_env = dict(extra_env or {})
        self._log_for = log_for
        self._rollout = Rollout(home=home)
        self._thread_id: str | None = None
        self._logged_in = False
        self._proc: CodexProcess | None = None
        self._log = ResponsesLog(emit=emit, auth_tags=settings.auth_tags, on_stream_error=self._stream_error_logged)
        # A retry codex both logs and prints is one turn.stream_error: each side's unmatched ones.
        self._retries_unmatched: dict[str, list[tuple[str, str]]] = {"log": [], "stdout": []}

    async def handle(self, op: str, args: Mapping[str, Any]) -> None:
        if op == "responses.turn":
            # ``tool_outputs`` cannot be honoured: codex answers every call with its own tool
            # (exec_command in its read-only sandbox; `unsupported call: <name>` for others).
            # The turn still runs, so everything else the case checks is still judged.
            await self._turn(_prompt(args.get("input")))
        elif op in ("responses.prewarm", "responses.new_session"):
            # Every exec process is a new client session, and on the websocket it sends its
            # own generate:false prewarm before the turn: there is nothing to do ahead of it.
            return
        else:
            raise UnsupportedStep(f"codex-cli has no '{op}' step")

    def _argv(self, prompt: str) -> list[str]:
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
        argv = [self._codex, "exec", "--json", "--skip-git-repo-check", "-C", self._workdir, *base_args(provider=provider), "-m", s.model]
        for name, enabled in s.features.items():
            # A flag this release does not have gates nothing in it: its behaviour is fixed.
            if name in self._known_features:
                argv += ["--enable" if enabled else "--disable", name]
        if self._thread_id:
            argv += ["resume", self._thread_id]
        return [*argv, "--", prompt]

    def _env(self) -> dict[str, str]:
        extra = dict(self._extra_env)
        if self._settings.originator:
            extra["CODEX_INTERNAL_ORIGINATOR_OVERRIDE"] = self._settings.originator
        key = self._settings.api_key if self._settings.key_source == "provider_env" else None
        return codex_env(home=self._home, api_key=key, extra=extra)

    async def _turn(self, prompt: str) -> None:
        if self._settings.key_source == "auth_json" and self._settings.api_key and not self._logged_in:
            await login_with_api_key(codex=self._codex, api_key=self._settings.api_key, env=self._env(), cwd=self._workdir, log=self._log_for("login"))
            self._logged_in = True
        self._log.new_turn()
        self._retries_unmatched = {"log": [], "stdout": []}
        proc = await CodexProcess.spawn(self._argv(prompt), env=self._env(), cwd=self._workdir, log=self._log_for("exec"), on_stderr=self._on_log_line)
        self._proc = proc
        turn = _Turn()
        try:
            while line := await proc.readline():
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if isinstance(message, dict):
                    await self._on_stdout(message, turn)
            code = await proc.wait(_EXIT)
            if turn.pending_error is not None:
                self._emit(ev.warning(turn.pending_error))
            if not turn.ended:
                raise RuntimeError(f"codex exec ended (exit {code}) without finishing the turn; stderr:\n{proc.stderr_tail}")
        finally:
            self._proc = None
            await proc.stop()

    def _on_log_line(self, line: str) -> bool:
        record = parse_line(line)
        if record is None:
            return False
        self._log.feed(record)
        return True

    def _stream_error_logged(self, message: str, details: str) -> None:
        self._stream_error(message, details, source="log")

    def _stream_error(self, message: str, details: str, *, source: str) -> None:
        """``turn.stream_error`` once per retry, whether codex logged it, printed it, or both."""
        other = self._retries_unmatched["stdout" if source == "log" else "log"]
        if (message, details) in other:
            other.remove((message, details))
            return
        self._retries_unmatched[source].append((message, details))
        self._emit({"type": "turn.stream_error", "message": message, "details": neutral(details)})

    async def _sync(self, wanted: Callable[[Record], bool], turn: _Turn) -> bool:
        records, found = await self._rollout.take_until(wanted, timeout=_SYNC)
        for record in records:
            if self._proc is not None:
                self._proc.note("ROLLOUT", json.dumps(record)[:2000])
            self._on_record(record, turn)
        return found

    def _on_record(self, record: Record, turn: _Turn) -> None:
        payload = record.get("payload")
        if not isinstance(payload, dict):
            return
        kind = record.get("type")
        if kind == "event_msg" and payload.get("type") == "task_started":
            turn_id = payload.get("turn_id")
            if isinstance(turn_id, str) and not turn.started:
                turn.started = True
                self._emit({"type": "turn.started", "turn_id": turn_id})
            return
        if not turn.started:
            return  # history replayed by a resume, or thread set-up
        if kind == "response_item":
            item = ev.output_item(payload)
            if item is not None:
                self._emit({"type": "responses.output_item_done", "item": item})
                call = ev.tool_call_event(item)
                if call is not None:
                    self._emit(call)
        elif kind == "token_usage_record":
            turn.usage = ev.token_usage(payload.get("turn_token_usage")) or turn.usage
        elif kind == "event_msg" and payload.get("type") == "task_complete":
            turn.complete = payload

    async def _on_stdout(self, message: dict[str, Any], turn: _Turn) -> None:
        kind = message.get("type")
        item = message.get("item") if isinstance(message.get("item"), dict) else {}
        failed = message.get("error") if kind == "turn.failed" and isinstance(message.get("error"), dict) else {}
        if turn.pending_error is not None and failed.get("message") != turn.pending_error:
            # A non-fatal error line (e.g. `Reconnecting... waiting for network (...)`):
            # codex shows it and carries on, which the vocabulary calls a warning.
            self._emit(ev.warning(turn.pending_error))
        turn.pending_error = None
        if kind == "thread.started" and isinstance(message.get("thread_id"), str):
            self._thread_id = message["thread_id"]
            self._rollout.attach(self._thread_id)
        elif kind == "turn.started":
            if not await self._sync(_event_msg("task_started"), turn):
                raise RuntimeError("codex printed turn.started but its rollout recorded no task_started")
        elif kind == "item.completed" and item.get("type") == "agent_message":
            await self._sync(_output_of(lambda t: t == "message"), turn)
        elif kind == "item.completed" and item.get("type") == "reasoning":
            await self._sync(_output_of(lambda t: t == "reasoning"), turn)
        elif kind == "item.started" and item.get("type") in ("command_execution", "mcp_tool_call", "web_search", "file_change"):
            await self._sync(_output_of(lambda t: t not in ("message", "reasoning")), turn)
        elif kind == "item.completed" and item.get("type") == "error":
            self._on_error_item(str(item.get("message", "")))
        elif kind == "error":
            text = str(message.get("message", ""))
            reconnect = ev.parse_reconnect(text)
            if reconnect is not None:
                self._stream_error(reconnect["message"], ev.reconnect_details(text), source="stdout")
            else:
                # exec prints a failing turn's error twice (`error`, then `turn.failed`):
                # held back until the next line says which it was.
                turn.pending_error = text
        elif kind in ("turn.completed", "turn.failed"):
            await self._end(message, turn, failed=kind == "turn.failed")

    def _on_error_item(self, text: str) -> None:
        """exec lists non-fatal notices as ``error`` items; codex's text mode calls them warnings."""
        if ev.is_model_metadata_notice(text):
            return
        reroute = ev.parse_reroute(text)
        self._emit(reroute if reroute is not None else ev.warning(text))

    async def _end(self, message: dict[str, Any], turn: _Turn, *, failed: bool) -> None:
        await self._sync(_event_msg("task_complete"), turn)
        if self._proc is not None:
            await self._proc.settle()  # codex's log records of this turn come before its end
        self._log.flush()
        turn.ended = True
        complete = turn.complete or {}
        if failed:
            error = message.get("error") if isinstance(message.get("error"), dict) else {}
            text = error.get("message") or ""
            stored = complete.get("error") if isinstance(complete.get("error"), dict) else {}
            self._emit(ev.error_event(str(text), stored.get("codex_error_info")))
        done: dict[str, Any] = {"type": "turn.completed", "status": "failed" if failed else "completed"}
        if turn.usage is not None:
            done["token_usage"] = turn.usage
        self._emit(done)

    async def aclose(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            await proc.stop()

