"""Plumbing around the SDK's websocket connections: bounded closes and task cancels."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any


__all__ = ["bounded_close", "cancel", "is_open", "spawn"]


async def bounded_close(conn: Any, timeout_s: float) -> bool:
    """Close through the SDK; True when the server never answered the close frame in time.

    The websockets connection under the SDK's wrapper records whether the server's close
    frame arrived; a slow TCP teardown after a completed handshake is not a timeout.
    """
    started = time.monotonic()
    try:
        await asyncio.wait_for(conn.close(), timeout_s + 1.0)
    except Exception:  # a failed close is still a close
        return True
    ran_out = time.monotonic() - started >= timeout_s * 0.95
    ws = getattr(conn, "_connection", None)
    if ws is not None and hasattr(ws, "close_rcvd"):
        return ran_out and ws.close_rcvd is None
    return ran_out


def is_open(conn: Any) -> bool:
    """Whether the SDK connection's socket can still carry a request (the server has not
    closed it, nor started to): websockets reads in the background, so a close frame from
    the server shows in ``state`` before anyone calls ``recv``."""
    ws = getattr(conn, "_connection", None)
    state = getattr(ws, "state", None)
    return state is None or getattr(state, "name", "OPEN") == "OPEN"


async def cancel(task: asyncio.Task[Any] | None) -> None:
    if task is None or task is asyncio.current_task():
        return
    task.cancel()
    with contextlib.suppress(BaseException):
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 1.0)


def spawn(tasks: set[asyncio.Task[Any]], coro: Any) -> asyncio.Task[Any]:
    """A task kept in ``tasks`` until it is done."""
    task: asyncio.Task[Any] = asyncio.get_running_loop().create_task(coro)
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return task
