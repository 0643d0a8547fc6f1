"""A case's floor: the least time it can take, from what it scripts to wait.

A case that sleeps, paces events, delays a reply, pauses reading or asserts that something
takes at least N seconds cannot finish sooner, whatever the harness does. The bench sets the
suite's wall time against the sum of these floors (``suite_floor_s``) to tell the harness's
own cost from the waits the cases ask for.
"""

from __future__ import annotations

from collections.abc import Mapping

from fake_server.script import Exchange
from harness.case.model import Case


__all__ = ["case_floor"]


_WS_WAITS = frozenset({"sleep", "pause_reading"})
_WS_INTERACTIONS = frozenset({"send", "send_text", "send_binary", "expect", "expect_eventually", "expect_close", "expect_eof", "close", "drop", "reset"})


_TERMINAL = frozenset({"response.completed", "response.failed", "response.incomplete", "response.done", "error"})


def _type_of(payload: object) -> object:
    return payload.get("type") if isinstance(payload, dict) else None


def _stalls_unanswered(exchange: Exchange) -> bool:
    """The exchange stops answering before it sent a terminal event: a client must wait out
    its idle timeout to give up (after a terminal event it has its answer and need not)."""
    for step in exchange.script:
        if step.op == "send" and _type_of(step.payload) in _TERMINAL:
            return False
        if step.op == "stall":
            return True
    reply = exchange.reply
    if reply is not None and reply.end == "hang":
        return not any(sse.op == "event" and _type_of(sse.payload) in _TERMINAL for sse in reply.sse or ())
    return False


def _exchange_waits(exchange: Exchange, *, idle_s: float, await_close: bool) -> float:
    """The waits before the exchange's last interaction (a wait after it, a trailing sleep the
    case's end cuts short, bounds nothing), and the client's idle timeout when the exchange
    stalls unanswered: the stall bound the case sets."""
    total = exchange.accept_delay + (idle_s if _stalls_unanswered(exchange) else 0.0)
    if await_close and exchange.on_close == "stall" and any(step.op == "expect_close" for step in exchange.script):
        # The client closes and, by the case's profile, awaits the answer the server never
        # gives: its idle timeout bounds that wait.
        total = max(total, exchange.accept_delay + idle_s)
    last = max((i for i, step in enumerate(exchange.script) if step.op in _WS_INTERACTIONS), default=-1)
    for step in exchange.script[: last + 1]:
        if step.op in _WS_WAITS:
            total += float(step.payload)
        elif step.op.startswith("send") and exchange.pace:
            total += exchange.pace * step.repeat
    reply = exchange.reply
    if reply is not None:
        total += reply.delay
        steps = reply.sse or ()
        last = max((i for i, sse in enumerate(steps) if sse.op not in ("sleep", "mark", "await")), default=-1)
        for sse in steps[: last + 1]:
            if sse.op == "sleep":
                total += float(sse.payload)
            elif reply.pace and sse.op == "event":
                total += reply.pace * sse.repeat
    return total


def case_floor(case: Case, *, revision: str = "seed") -> float:
    """Seconds, for an implementation of ``revision``: the largest of the client's own sleeps,
    any one exchange's scripted waits and stall bound (exchanges may overlap, so they are not
    added up), and any timing check's ``at_least``.
    A lower bound, never an estimate of the case's time."""
    case = case.for_revision(revision)
    client = sum(float(step.args["seconds"]) * step.repeat for step in case.steps if step.op == "sleep")
    responses = case.config.get("responses") or {}
    idle_s = float(responses.get("stream_idle_timeout_ms") or 0) / 1000
    pinned = case.profile.get("responses")  # a named profile ("later") or the overrides themselves
    await_close = isinstance(pinned, Mapping) and bool(pinned.get("ws_await_close_on_error"))
    server = max((_exchange_waits(ex, idle_s=idle_s, await_close=await_close) for ex in case.script.exchanges), default=0.0)
    asserted = max((t.at_least for t in case.timing), default=0.0)
    return max(client, server, asserted)
