"""`ResponsesClient`: the reference Responses client behind the seam of docs/contracts.md.

It runs codex's turn loop (responses-wire §4.3): sample, retry retryable failures with
`Reconnecting... n/m`, fall back from websocket to HTTP for good, answer tool calls
with the case's scripted outputs, and report everything as neutral events.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import random
import ssl as ssl_module
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from harness.client.responses import events
from harness.client.responses.auth import client_auth
from harness.client.responses.config import ClientConfig
from harness.client.responses.errors import ApiError, TurnError, map_api_error
from harness.client.responses.http_transport import HttpTransport
from harness.client.responses.models import TokenUsage
from harness.client.responses.request import build_body, responses_url, turn_metadata_json, ws_url
from harness.client.responses.retry import backoff_s
from harness.client.responses.sampler import Outcome, Sampler
from harness.client.responses.stream_items import (
    Completed,
    ModelVerifications,
    OutputItemDone,
    RateLimits,
    ServerModel,
    StreamItem,
    TurnStateSeen,
)
from harness.client.responses.tools import (
    ORIGINAL_DETAIL_FEATURE,
    output_item,
    supports_original_detail,
    tool_call_of,
    user_input_items,
)
from harness.client.responses.turn import (
    ClientSession,
    RequestContext,
    TokenUsageInfo,
    TurnContext,
    is_reroute,
)


__all__ = ["ResponsesClient"]

Emit = Callable[[dict[str, Any]], None]
MAX_REQUESTS_PER_TURN = 64  # harness guard: a script that never stops calling tools
FALLBACK_WARNING = "Falling back from WebSockets to HTTPS transport. {err}"
OPS = ("responses.turn", "responses.request", "responses.prewarm", "responses.new_session")


class ResponsesClient:
    """One conversation with the fake server; see docs/responses.md for ops and events."""

    def __init__(
        self,
        *,
        base_url: str,
        config: Mapping[str, Any],
        emit: Callable[[dict[str, Any]], None],
        ssl: ssl_module.SSLContext | None = None,
    ) -> None:
        self._cfg = ClientConfig.from_mapping(config)
        self._profile = self._cfg.profile
        self._emit = emit
        self._rng = random.Random()
        self._auth = client_auth(self._cfg.auth, api_key=self._cfg.api_key, emit=emit, ssl=ssl,
                                 originator=self._cfg.originator)  # fmt: skip
        url = responses_url(base_url, self._cfg.query_params)
        self._http = HttpTransport(
            emit=emit,
            auth=self._auth,
            rng=self._rng,
            max_retries=self._cfg.request_max_retries,
            retry_base_ms=self._cfg.retry_base_delay_ms,
            idle_timeout_s=self._cfg.stream_idle_timeout_ms / 1000.0,
            ssl=ssl,
        )
        self._conversation_id = self._cfg.conversation_id or str(uuid.uuid4())
        self._sampler = Sampler(cfg=self._cfg, auth=self._auth, emit=emit, http=self._http,
                                url=url, ws_url=ws_url(url), ssl=ssl,
                                conversation_id=lambda: self._conversation_id)  # fmt: skip
        self._ws_disabled = self._cfg.transport != "websocket"
        self._history: list[dict[str, Any]] = []
        self._session = ClientSession()
        self._turn: TurnContext | None = None
        self._request: RequestContext | None = None  # a `responses.request` step in flight
        self._token_info: TokenUsageInfo | None = None  # codex's session TokenUsageInfo
        self._quiet = False  # prewarm streams are not surfaced as events

    # -- seam -------------------------------------------------------------------------

    async def handle(self, op: str, args: Mapping[str, Any]) -> None:
        """Perform one client step; protocol failures become events, never exceptions."""
        if op == "responses.turn":
            await self._run_turn(args)
        elif op == "responses.request":
            await self._run_request(args)
        elif op == "responses.prewarm":
            await self._prewarm()
        elif op == "responses.new_session":
            self._new_session()
        else:
            raise ValueError(f"unknown responses op {op!r}; known: {', '.join(OPS)}")

    async def aclose(self) -> None:
        """Drop the socket and the HTTP pool; bounded and silent."""
        self._sampler.drop_ws()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await self._http.aclose()

    # -- RequestHooks for the sampler --------------------------------------------------

    def turn_state(self) -> str | None:
        return self._session.turn_state

    def capture_turn_state(self, value: str) -> None:
        self._session.capture(value)

    def turn_metadata(self) -> str | None:
        if self._turn is not None:
            return self._turn.metadata
        return self._request.metadata if self._request is not None else None

    def on_item(self, item: StreamItem) -> None:
        turn = self._turn
        if isinstance(item, TurnStateSeen):
            self._session.capture(item.value)
            return
        if self._quiet or (turn is None and self._request is None):
            return
        event = events.stream_event(item)
        if event is not None:
            self._emit(event)
        if turn is None:
            return  # a bare request reports its stream; the turn logic below is core's
        if isinstance(item, ModelVerifications):
            if not turn.verification_emitted:  # core `model_verification_emitted`: once per turn
                turn.verification_emitted = True
                self._emit(events.model_verification(item.verifications))
        elif isinstance(item, ServerModel):
            self._check_reroute(turn, item.model)
        elif isinstance(item, OutputItemDone):
            self._history.append(item.item)
            call = tool_call_of(item.item)
            if call is not None:
                turn.pending_calls.append(call)
                self._emit(events.tool_call(call.call_id, call.name, call.arguments))
        elif isinstance(item, Completed):
            turn.add_usage(item.token_usage)
            self._update_token_info(item.token_usage)

    # -- token usage info (codex Session::update_token_usage_info / set_total_tokens_full) --

    def _update_token_info(self, usage: TokenUsage | None) -> None:
        """After a completed response: append its usage to the session's info, then report
        the info (codex sends TokenCount after every Completed; nothing while it is None)."""
        if usage is not None:
            self._token_info = TokenUsageInfo.new_or_append(
                self._token_info, usage, self._cfg.model_context_window
            )
        self._emit_token_count()

    def _fill_context_window(self) -> None:
        """`ContextWindowExceeded`: the usage is set to the whole effective window (when
        the model's window is known) and reported before the error (§4.3)."""
        window = self._cfg.model_context_window
        if window is not None:
            if self._token_info is None:
                self._token_info = TokenUsageInfo.full_context_window(window)
            else:
                self._token_info.fill_to_context_window(window)
        self._emit_token_count()

    def _emit_token_count(self) -> None:
        info = self._token_info
        if info is not None:
            self._emit(events.token_count(total=info.total, last=info.last,
                                          model_context_window=info.model_context_window))  # fmt: skip

    # -- ops --------------------------------------------------------------------------

    async def _run_turn(self, args: Mapping[str, Any]) -> None:
        items = user_input_items(args.get("input"))
        outputs = args.get("tool_outputs") or {}
        if not isinstance(outputs, Mapping):
            raise ValueError("responses.turn 'tool_outputs' must be an object")
        if self._session.used_by_turn:
            self._begin_session()
        self._session.used_by_turn = True
        turn_id = str(uuid.uuid4())
        turn = TurnContext(turn_id=turn_id,
                           metadata=turn_metadata_json(turn_id, self._cfg.turn_metadata))  # fmt: skip
        self._turn = turn
        self._emit(events.turn_started(turn_id))
        self._history.extend(items)
        status = "completed"
        try:
            for _ in range(MAX_REQUESTS_PER_TURN):
                failure = await self._sample_with_retries(turn)
                if failure is not None:
                    self._emit(events.error(failure.message, failure.code, failure.http_status,
                                            failure.request_id))  # fmt: skip
                    self._abort_pending_calls(turn)
                    status = "failed"
                    break
                calls, turn.pending_calls = turn.pending_calls, []
                if not calls:
                    break
                detail = self._cfg.feature(ORIGINAL_DETAIL_FEATURE) and supports_original_detail(
                    self._cfg.model
                )
                for call in calls:
                    self._history.append(output_item(call, outputs, original_detail=detail))
            else:
                self._emit(events.error("turn exceeded the model request limit", "other"))
                self._abort_pending_calls(turn)
                status = "failed"
        finally:
            self._turn = None
        self._emit(events.turn_completed(status=status, token_usage=turn.usage))

    async def _run_request(self, args: Mapping[str, Any]) -> None:
        """One model request on the current client session (codex `ModelClientSession::
        stream`): its own whole input, instructions and turn metadata; no tool loop, no
        turn-level retry. The stream is reported as it comes; a failure as an `error`."""
        items = user_input_items(args.get("input"))
        instructions = args.get("instructions")
        if instructions is not None and not isinstance(instructions, str):
            raise ValueError("responses.request 'instructions' must be a string")
        metadata = args.get("turn_metadata")
        if isinstance(metadata, Mapping):
            metadata = json.dumps(metadata, separators=(",", ":"), ensure_ascii=False)
        elif metadata is not None and not isinstance(metadata, str):
            raise ValueError("responses.request 'turn_metadata' must be a string or an object")
        cfg = (
            self._cfg
            if instructions is None
            else dataclasses.replace(self._cfg, instructions=instructions)
        )
        self._session.used_by_turn = True  # the next turn opens a session of its own
        self._request = RequestContext(metadata=metadata)
        try:
            body = build_body(cfg, items, prompt_cache_key=self._conversation_id)
            outcome: Outcome | None = None
            if self._websocket_active():
                outcome = await self._sampler.sample_ws(body, self, attempt=1)
                if outcome.fallback:
                    self._fallback_on_426(outcome)
                    outcome = None
            if outcome is None:
                outcome = await self._sampler.sample_http(body, self)
        finally:
            self._request = None
        if outcome.error is not None:
            err = map_api_error(outcome.error, now_s=time.time())
            self._emit(events.error(err.message, err.code, err.http_status, err.request_id))

    def _abort_pending_calls(self, turn: TurnContext) -> None:
        """Calls left unanswered by a failed turn get an `aborted` output right after them,
        as codex's history normalisation does, so the next request stays well-formed."""
        for call in turn.pending_calls:
            output = {**output_item(call, {}, original_detail=False), "output": "aborted"}
            index = next((i for i, item in enumerate(self._history)
                          if tool_call_of(item) == call), len(self._history) - 1)  # fmt: skip
            self._history.insert(index + 1, output)
        turn.pending_calls = []

    async def _prewarm(self) -> None:
        """Websocket only: handshake (early-2026) or a `generate:false` request (later)."""
        if not self._websocket_active():
            return
        self._quiet = True
        try:
            if self._profile.prewarm == "handshake":
                opened = await self._sampler.ensure_ws(self)
                if isinstance(opened, ApiError) and opened.kind == "http" and opened.status == 426:
                    self._fallback_on_426(Outcome(error=opened, fallback=True))
            else:
                body = build_body(self._cfg, [], prompt_cache_key=self._conversation_id)
                outcome = await self._sampler.sample_ws(body, self, attempt=1, generate=False)
                if outcome.fallback:
                    self._fallback_on_426(outcome)
        finally:
            self._quiet = False

    def _new_session(self) -> None:
        """A fresh client session: new turn-state slot; the socket stays for reuse."""
        self._begin_session()

    def _begin_session(self) -> None:
        self._session = ClientSession()
        if not self._profile.ws_incremental_across_turns:
            self._sampler.incr.reset()

    # -- the sampling loop (§4.3) ----------------------------------------------------

    async def _sample_with_retries(self, turn: TurnContext) -> TurnError | None:
        retries = 0
        budget = self._cfg.stream_max_retries
        while True:
            outcome = await self._sample_once(turn, attempt=retries + 1)
            if outcome.completed is not None:
                return None
            assert outcome.error is not None
            err = map_api_error(outcome.error, now_s=time.time())
            if err.rate_limits is not None:
                self.on_item(RateLimits(err.rate_limits))  # §4.3: usage limit → rate limits first
            if err.kind == "context_window_exceeded":
                self._fill_context_window()
            if not err.retryable:
                return err
            on_ws = self._websocket_active()
            if retries < budget:
                retries += 1
                delay = err.delay_s
                if delay is None:
                    delay = backoff_s(self._cfg.retry_base_delay_ms, retries, self._rng)
                self._emit(events.retry_scheduled(attempt=retries, max_retries=budget,
                                                  delay_ms=round(delay * 1000)))  # fmt: skip
                if not (on_ws and retries == 1 and self._profile.hide_first_ws_reconnect):
                    self._emit(events.turn_stream_error(f"Reconnecting... {retries}/{budget}",
                                                        err.message))  # fmt: skip
                await asyncio.sleep(delay)
                continue
            if on_ws:
                self._fallback_to_http()
                self._emit(events.warning(FALLBACK_WARNING.format(err=err.message)))
                if self._profile.fallback_resets_retries:
                    retries = 0
                continue
            return err

    async def _sample_once(self, turn: TurnContext, *, attempt: int) -> Outcome:
        body = build_body(self._cfg, self._history, prompt_cache_key=self._conversation_id)
        if self._websocket_active():
            outcome = await self._sampler.sample_ws(body, self, attempt=attempt)
            if not outcome.fallback:
                return outcome
            self._fallback_on_426(outcome)
        return await self._sampler.sample_http(body, self)

    def _websocket_active(self) -> bool:
        return not self._ws_disabled

    def _fallback_on_426(self, outcome: Outcome) -> None:
        """426 Upgrade Required: HTTP for good, at once and silently, as codex does (§6.3,
        codex-cli §4g); the profile's warn_on_426_fallback adds the issue's warning."""
        self._fallback_to_http()
        if self._profile.warn_on_426_fallback and outcome.error is not None:
            err = map_api_error(outcome.error, now_s=time.time())
            self._emit(events.warning(FALLBACK_WARNING.format(err=err.message)))

    def _fallback_to_http(self) -> None:
        """Session-wide and sticky: later turns never try the websocket again (§6.3)."""
        self._ws_disabled = True
        self._sampler.drop_ws()

    def _check_reroute(self, turn: TurnContext, server_model: str) -> None:
        """At most one reroute + warning per turn (§3.3)."""
        if turn.reroute_warned or not is_reroute(self._cfg.model, server_model):
            return
        turn.reroute_warned = True
        self._emit(events.model_reroute(self._cfg.model, server_model))
        self._emit(events.warning(events.REROUTE_WARNING))
        if self._profile.record_reroute_warning:
            text = f"Warning: {events.REROUTE_WARNING}"
            self._history.append({"type": "message", "role": "user",
                                  "content": [{"type": "input_text", "text": text}]})  # fmt: skip
