"""One codex process: its own process group, stdout as lines, a bounded stderr tail.

Codex spawns helpers (sandboxed shells, the exec server), so a process is always
ended by signalling its whole group: killing the launcher alone would leave them
behind. Every wait here is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path


__all__ = ["LOG_ENV", "CodexProcess"]

LOG_ENV = "WIREPLAY_CODEX_LOG"

_LINE_LIMIT = 64 * 1024 * 1024
_STDERR_LINES = 60
_TERM_GRACE = 0.3
_REAP = 2.0
_SETTLE_QUIET = 0.03
_SETTLE_LIMIT = 0.3

# Given each stderr line; True means it was one of codex's log records the adapter read.
OnStderr = Callable[[str], bool]


class CodexProcess:
    """A running codex command; ``lines()`` yields stdout lines, ``stop()`` ends the group."""

    def __init__(self, proc: asyncio.subprocess.Process, *, log: Path | None = None, on_stderr: OnStderr | None = None) -> None:
        self.proc = proc
        self._log = log
        self._on_stderr = on_stderr
        self._stderr: deque[str] = deque(maxlen=_STDERR_LINES)
        self._stderr_at = asyncio.get_running_loop().time()
        self._stderr_task = asyncio.create_task(self._drain_stderr())

    @classmethod
    async def spawn(
        cls,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: str,
        stdin_pipe: bool = False,
        log: Path | None = None,
        on_stderr: OnStderr | None = None,
    ) -> CodexProcess:
        """Start ``argv`` in a new session; stdin is /dev/null unless a pipe is asked for.

        exec reads a non-TTY stdin to EOF before it sends anything, so an open pipe
        would hang it forever (codex-cli.md §0).
        """
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if stdin_pipe else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
            limit=_LINE_LIMIT,
        )
        if log is not None:
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text("$ " + " ".join(shlex.quote(a) for a in argv) + "\n", encoding="utf-8")
        return cls(proc, log=log, on_stderr=on_stderr)

    def note(self, tag: str, text: str) -> None:
        """A line of the adapter's own in the debug log."""
        self._record(tag, text)

    def _record(self, tag: str, text: str) -> None:
        """Append to the debug log (``$WIREPLAY_CODEX_LOG``), if there is one."""
        if self._log is not None:
            with contextlib.suppress(OSError), self._log.open("a", encoding="utf-8") as f:
                f.write(f"{tag} {text.rstrip()}\n")

    async def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        with contextlib.suppress(Exception):
            while line := await self.proc.stderr.readline():
                text = line.decode(errors="replace").rstrip()
                self._stderr_at = asyncio.get_running_loop().time()
                self._record("ERR", text)
                read = False
                if self._on_stderr is not None:
                    try:
                        read = self._on_stderr(text)
                    except Exception as exc:  # a parser bug must not stop the draining
                        self._record("ADAPTER", f"log line not read: {exc!r}")
                if not read:
                    self._stderr.append(text)

    async def settle(self) -> None:
        """Let stderr catch up with stdout: until no line came for a moment (bounded).

        Codex writes its log records before the stdout line that follows them, but the
        two pipes are read apart; this keeps the events in codex's order.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _SETTLE_LIMIT
        await asyncio.sleep(_SETTLE_QUIET / 3)  # lines already in the pipe are read first
        while not self._stderr_task.done():
            now = loop.time()
            quiet_until = self._stderr_at + _SETTLE_QUIET
            if now >= quiet_until or now >= deadline:
                return
            await asyncio.sleep(min(quiet_until, deadline) - now)

    @property
    def stderr_tail(self) -> str:
        return "\n".join(self._stderr)

    async def readline(self) -> bytes:
        """The next stdout line, ``b""`` at EOF."""
        assert self.proc.stdout is not None
        line = await self.proc.stdout.readline()
        if line:
            self._record("OUT", line.decode(errors="replace"))
        return line

    def write_line(self, data: bytes, *, secret: bool = False) -> None:
        assert self.proc.stdin is not None
        self._record("IN ", "<secret>" if secret else data.decode(errors="replace"))
        self.proc.stdin.write(data)

    def close_stdin(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    async def drain(self) -> None:
        assert self.proc.stdin is not None
        await self.proc.stdin.drain()

    async def wait(self, timeout: float) -> int | None:
        """The exit code, or None if it is still running after ``timeout`` seconds."""
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            return None

    def _signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    async def stop(self) -> None:
        """SIGTERM the group, SIGKILL it after a short grace, reap; never raises."""
        if self.proc.returncode is None:
            self._signal_group(signal.SIGTERM)
            if await self.wait(_TERM_GRACE) is None:
                self._signal_group(signal.SIGKILL)
                await self.wait(_REAP)
        # Helpers may outlive a launcher that exited on its own.
        self._signal_group(signal.SIGKILL)
        if self.proc.stdin is not None:
            with contextlib.suppress(Exception):
                self.proc.stdin.close()
        self._stderr_task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(self._stderr_task, _REAP)
