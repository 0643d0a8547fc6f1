"""A minimal client of ``codex app-server``: newline-delimited JSON-RPC over stdio.

Realtime is reachable only through the app-server (``thread/realtime/*``, marked
experimental, so ``initialize`` opts in with ``capabilities.experimentalApi``).
Requests are bounded; notifications go to a callback in arrival order; requests
the server makes of its client are declined unless the driver answers them (a
scripted tool output, the host's refreshed tokens).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.impls.codex_cli.process import CodexProcess, OnStderr


__all__ = ["AppServer", "RpcError"]

_REQUEST_TIMEOUT = 10.0
_METHOD_NOT_FOUND = -32601

OnNotification = Callable[[str, Mapping[str, Any]], None]
# A request the server makes of its client: the result to answer, or None to decline it.
OnRequest = Callable[[str, Mapping[str, Any]], Awaitable[Any]]


class RpcError(Exception):
    """A JSON-RPC error answer: what the app-server tells its client went wrong."""

    def __init__(self, *, method: str, code: int | None, message: str) -> None:
        self.method = method
        self.code = code
        self.message = message
        super().__init__(f"{method}: {message} (code {code})")


class AppServer:
    """One app-server process, initialized, with a reader task."""

    def __init__(self, proc: CodexProcess, *, on_notification: OnNotification, on_request: OnRequest | None = None) -> None:
        self._proc = proc
        self._on_notification = on_notification
        self._on_request = on_request
        self._pending: dict[int, tuple[str, asyncio.Future[Any]]] = {}
        self._next_id = 0
        self._reader = asyncio.create_task(self._read())
        self.closed = asyncio.Event()

    @classmethod
    async def start(
        cls,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: str,
        client_name: str,
        client_version: str,
        on_notification: OnNotification,
        log: Path | None = None,
        on_stderr: OnStderr | None = None,
        on_request: OnRequest | None = None,
    ) -> AppServer:
        """Spawn, ``initialize`` (experimental API on), then send ``initialized``."""
        proc = await CodexProcess.spawn(argv, env=env, cwd=cwd, stdin_pipe=True, log=log, on_stderr=on_stderr)
        server = cls(proc, on_notification=on_notification, on_request=on_request)
        try:
            await server.request(
                "initialize",
                {"clientInfo": {"name": client_name, "version": client_version}, "capabilities": {"experimentalApi": True}},
            )
            await server.notify("initialized")
        except BaseException:
            await server.aclose()
            raise
        return server

    @property
    def stderr_tail(self) -> str:
        return self._proc.stderr_tail

    async def settle(self) -> None:
        """Let codex's log (stderr) catch up with its notifications (stdout)."""
        await self._proc.settle()

    async def _send(self, message: Mapping[str, Any]) -> None:
        self._proc.write_line((json.dumps(message, ensure_ascii=False) + "\n").encode())
        await self._proc.drain()

    async def notify(self, method: str, params: Mapping[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"method": method}
        if params is not None:
            message["params"] = dict(params)
        await self._send(message)

    async def request(self, method: str, params: Mapping[str, Any], *, timeout: float = _REQUEST_TIMEOUT) -> Any:
        """The result, or :class:`RpcError`; a dead or silent server raises ``RuntimeError``."""
        if self.closed.is_set():
            raise RuntimeError(f"codex app-server has exited; stderr:\n{self.stderr_tail}")
        self._next_id += 1
        rid = self._next_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[rid] = (method, future)
        try:
            await self._send({"id": rid, "method": method, "params": dict(params)})
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise RuntimeError(f"codex app-server did not answer {method} within {timeout:g}s") from None
        finally:
            self._pending.pop(rid, None)

    async def _read(self) -> None:
        try:
            while line := await self._proc.readline():
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if isinstance(message, dict):
                    await self._dispatch(message)
        finally:
            self.closed.set()
            for method, future in self._pending.values():
                if not future.done():
                    future.set_exception(RuntimeError(f"codex app-server exited before answering {method}; stderr:\n{self.stderr_tail}"))

    async def _dispatch(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        rid = message.get("id")
        if isinstance(method, str) and rid is not None:
            params = message.get("params")
            result = None
            if self._on_request is not None:
                try:
                    result = await self._on_request(method, params if isinstance(params, dict) else {})
                except RpcError as exc:
                    await self._send({"id": rid, "error": {"code": exc.code, "message": exc.message}})
                    return
            if result is None:
                await self._send({"id": rid, "error": {"code": _METHOD_NOT_FOUND, "message": f"wireplay does not answer {method}"}})
            else:
                await self._send({"id": rid, "result": result})
        elif isinstance(method, str):
            params = message.get("params")
            self._on_notification(method, params if isinstance(params, dict) else {})
        elif isinstance(rid, int) and rid in self._pending:
            name, future = self._pending[rid]
            if future.done():
                return
            error = message.get("error")
            if isinstance(error, dict):
                future.set_exception(RpcError(method=name, code=error.get("code"), message=str(error.get("message", ""))))
            else:
                future.set_result(message.get("result"))

    async def aclose(self) -> None:
        """Kill the process group and stop reading; bounded, never raises."""
        await self._proc.stop()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(self._reader, 1.0)
