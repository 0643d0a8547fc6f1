"""The codex session layer: a realtime conversation driving the agent's own Responses turn.

Codex core R-C (core/src/realtime_conversation.rs `handle_start` fan-out, core/src/codex.rs
`route_realtime_text_input`, `maybe_mirror_event_text_to_realtime`,
`maybe_clear_realtime_handoff_for_event`; realtime-wire §6.2, §6.5):

- a realtime handoff routes its text (`routing.routed_text`) to the session before the
  handoff event is forwarded: a new turn when none is active, else the text steers the
  active one (it joins the turn's next request, and the turn goes on until it is answered);
- every assistant message the turn completes is mirrored to the realtime side
  (`RealtimeClient.handoff_out`: v1 appends it at once, v2 keeps the last one);
- the turn's completion finishes the handoff (`handoff_complete`: v2 sends the last message
  as the call's output, then response.create) and clears it;
- the turn runs in a task of its own, so realtime audio and events keep flowing meanwhile.

A case chooses this layer with `client.config.realtime.delegate: responses`; by default the
case's `realtime.handoff_output` / `realtime.turn_complete` steps stand in for the turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl as ssl_module
from collections.abc import Callable, Mapping
from typing import Any

from harness.client.realtime import RealtimeClient
from harness.client.responses import ResponsesClient
from harness.client.responses.errors import TurnError
from harness.client.responses.turn import TurnContext
from harness.client.session.routing import assistant_message_text, routed_text


__all__ = ["CodexSession", "SteerableResponsesClient", "delegates_to_responses"]

Emit = Callable[[dict[str, Any]], None]
_MAX_STEERED_FOLLOW_UPS = 64  # harness guard: a script that keeps steering forever
_TURN_END_TIMEOUT_S = 5.0


def delegates_to_responses(config: Mapping[str, Any]) -> bool:
    """Whether a case's client config asks for the session layer (`realtime.delegate`)."""
    realtime = config.get("realtime")
    return isinstance(realtime, Mapping) and realtime.get("delegate") == "responses"


class SteerableResponsesClient(ResponsesClient):
    """The reference Responses client plus codex's pending input (`steer_input`).

    Text steered into the active turn waits for its next request: it is recorded after what
    the current request produced (and after the tool outputs it asked for), and a request
    that would end the turn is followed by one more when steered text waits
    (`needs_follow_up |= sess.has_pending_input()`, core/src/codex.rs R-C `run_turn`).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pending_input: list[dict[str, Any]] = []

    def steer(self, text: str) -> None:
        """Queue user text for the active turn's next request."""
        self._pending_input.append(
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
        )

    def _take_pending_input(self) -> None:
        pending, self._pending_input = self._pending_input, []
        self._history.extend(pending)

    async def _sample_with_retries(self, turn: TurnContext) -> TurnError | None:
        for _ in range(_MAX_STEERED_FOLLOW_UPS):
            self._take_pending_input()
            failure = await super()._sample_with_retries(turn)
            if failure is not None or turn.pending_calls or not self._pending_input:
                return failure
        return await super()._sample_with_retries(turn)

    def drop_pending_input(self) -> None:
        """The turn ended without taking it (a failed turn): codex's turn state goes with it."""
        self._pending_input = []


class CodexSession:
    """Both clients of one codex session, joined the way codex core joins them.

    Realtime steps go to the realtime client; `responses.*` steps to the Responses client
    (a `responses.turn` step is a user turn, active while it runs, so a handoff steers it).
    """

    def __init__(
        self,
        *,
        base_url: str,
        realtime_base_url: str | None,
        config: Mapping[str, Any],
        emit: Emit,
        ssl: ssl_module.SSLContext | None = None,
    ) -> None:
        self._emit = emit
        self.responses = SteerableResponsesClient(
            base_url=base_url,
            config=dict(config.get("responses") or {}),
            emit=self._on_turn_event,
            ssl=ssl,
        )
        self.realtime = RealtimeClient(
            base_url=realtime_base_url or base_url,
            config=dict(config.get("realtime") or {}),
            emit=emit,
            ssl=ssl,
            env=config.get("env") or {},
            on_handoff=self._route,
        )
        self._turn_active = False
        self._turns: set[asyncio.Task[None]] = set()
        self._turn_lock = asyncio.Lock()

    async def handle(self, op: str, args: Mapping[str, Any]) -> None:
        if op == "responses.turn":
            await self._run_turn(args)
        elif op.startswith("responses."):
            await self.responses.handle(op, args)
        else:
            await self.realtime.handle(op, args)

    async def aclose(self) -> None:
        for task in list(self._turns):
            task.cancel()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(_TURN_END_TIMEOUT_S):
                await asyncio.gather(*self._turns, return_exceptions=True)
        await self.realtime.aclose()
        await self.responses.aclose()

    # -- route_realtime_text_input ------------------------------------------------------

    def _route(self, handoff: dict[str, Any]) -> None:
        """Called with each handoff before it is reported: start or steer a turn (§6.2)."""
        text = routed_text(handoff)
        if text is None:
            return  # neither transcript has text: no turn
        if self._turn_active:
            self.responses.steer(text)  # steer_input into the active turn
            return
        self._turn_active = True  # active from now on, as spawn_task registers it at once
        task = asyncio.get_running_loop().create_task(self._run_turn({"input": text}))
        self._turns.add(task)
        task.add_done_callback(self._turns.discard)

    async def _run_turn(self, args: Mapping[str, Any]) -> None:
        """One turn at a time, as codex's session runs one task; a user turn while a
        delegated one runs waits for it (codex would steer it instead: not modelled).

        The turn stops being steerable when it reports `turn.completed` (`_on_turn_event`);
        nothing awaits between that report and the end of this call, so steered text left
        over (a failed turn) is dropped with it, never taken from the next turn.
        """
        async with self._turn_lock:
            self._turn_active = True
            try:
                await self.responses.handle("responses.turn", args)
            except BaseException:
                self._turn_active = False
                raise
            finally:
                self.responses.drop_pending_input()

    # -- maybe_mirror_event_text_to_realtime / maybe_clear_realtime_handoff_for_event ----

    def _on_turn_event(self, event: dict[str, Any]) -> None:
        """Every event of the turn is reported; assistant messages and the turn's end are
        also mirrored to the realtime conversation, right after they are reported."""
        self._emit(event)
        kind = event.get("type")
        if kind == "responses.output_item_done":
            item = event.get("item")
            text = assistant_message_text(item) if isinstance(item, Mapping) else None
            if text is not None:
                self.realtime.handoff_out(text)
        elif kind == "turn.completed":
            # The turn is over for steering from now on (nothing awaits between the last
            # request and this event), then the handoff finishes.
            self._turn_active = False
            self.realtime.handoff_complete()
