"""Any implementation, in any language, as a subprocess speaking JSON lines.

The protocol is specified in ``schemas/driver.schema.json`` (the pattern of Bowtie
and of Autobahn's client drivers): the driver says ``hello`` with its name, version
and capabilities; the harness sends ``start``, one ``command`` per client step (each
answered ``done`` or ``failed``) and ``end``; the driver reports ``event``s at any
time. One process runs one case, so a crash never outlives its case. Whatever the
driver does — hang, crash, print garbage, flood stderr — is reported for that case
and the process group is always reaped.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import os
import shlex
import signal
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from harness.adapters.base import Emit, Endpoint
from harness.errors import AdapterError, Unsupported
from harness.layer import Layer, parse_layers
from harness.revision import SEED


__all__ = ["DriverAdapter", "DriverSession"]

PROTOCOL = 1
_LINE_LIMIT = 16 * 1024 * 1024
_STDERR_TAIL = 8192
_END_GRACE = 1.5
_TERM_GRACE = 0.5


def _quiet_future() -> asyncio.Future[Any]:
    """A future whose exception counts as seen even if its waiter gave up (timeout,
    cancellation): the failure is reported through the session, not as a loop warning."""
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    future.add_done_callback(lambda f: None if f.cancelled() else f.exception())
    return future


def _ignore(event: dict[str, Any]) -> None:
    """Where a kept driver's events go between two cases."""


def _kill_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


class DriverSession:
    """One driver process, serving one case at a time (several in turn if it says so)."""

    def __init__(self, proc: asyncio.subprocess.Process, emit: Emit, *, release: Callable[[DriverSession], None] | None = None) -> None:
        self.proc = proc
        self.emit = emit
        self.release = release  # hands a cleanly ended, reusable process back to its adapter
        self.hello: asyncio.Future[dict[str, Any]] = _quiet_future()
        self.ended = asyncio.Event()
        self.pending: dict[int, asyncio.Future[None]] = {}
        self.next_id = 0
        self.problem: str | None = None
        self.stderr_tail: deque[bytes] = deque()
        self.stderr_size = 0
        self.stderr_total = 0
        self.readers = [
            asyncio.create_task(self._read_stdout()),
            asyncio.create_task(self._read_stderr()),
        ]

    # -- reading ---------------------------------------------------------------
    async def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        while True:
            try:
                line = await self.proc.stdout.readline()
            except ValueError:  # a line over the limit
                self._protocol_problem(f"the driver wrote a line longer than {_LINE_LIMIT} bytes")
                with contextlib.suppress(Exception):
                    await self.proc.stdout.read(_LINE_LIMIT)
                continue
            if not line:
                break
            self._on_line(line)
        self._fail_pending(self._exit_message())

    def _on_line(self, raw: bytes) -> None:
        text = raw.decode("utf-8", "replace").strip()
        if not text:
            return
        try:
            msg = json.loads(text)
        except ValueError:
            self._protocol_problem(f"the driver wrote a line that is not JSON: {text[:200]!r}")
            return
        kind = msg.get("type") if isinstance(msg, dict) else None
        if kind == "event" and isinstance(msg.get("event"), dict):
            self.emit(msg["event"])
        elif kind == "hello" and not self.hello.done():
            self.hello.set_result(msg)
        elif kind in ("done", "failed") and msg.get("id") in self.pending:
            future = self.pending.pop(msg["id"])
            if future.done():
                return
            if kind == "done":
                future.set_result(None)
            elif msg.get("unsupported") is True:
                future.set_exception(Unsupported(str(msg.get("message", ""))))
            else:
                detail = msg.get("traceback") or ""
                future.set_exception(AdapterError(f"the implementation failed on command {msg['id']}: {msg.get('message', '')}\n{detail}".rstrip()))
        elif kind == "ended":
            self.ended.set()
        else:
            self._protocol_problem(f"the driver wrote an unexpected message: {text[:200]!r}")

    def _protocol_problem(self, message: str) -> None:
        if self.problem is None:
            self.problem = message
        self._fail_pending(message)

    def _fail_pending(self, message: str) -> None:
        for future in self.pending.values():
            if not future.done():
                future.set_exception(AdapterError(message + self._stderr_note()))
        self.pending.clear()
        if not self.hello.done():
            self.hello.set_exception(AdapterError(message + self._stderr_note()))

    async def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        while chunk := await self.proc.stderr.read(65536):
            self.stderr_total += len(chunk)
            self.stderr_tail.append(chunk)
            self.stderr_size += len(chunk)
            while self.stderr_size - len(self.stderr_tail[0]) >= _STDERR_TAIL:
                self.stderr_size -= len(self.stderr_tail.popleft())

    def _stderr_note(self) -> str:
        tail = b"".join(self.stderr_tail)[-_STDERR_TAIL:].decode("utf-8", "replace").rstrip()
        if not tail:
            return ""
        dropped = f" (last {len(tail)} of {self.stderr_total} bytes)" if self.stderr_total > _STDERR_TAIL else ""
        return f"\n--- driver stderr{dropped} ---\n{tail}"

    def _exit_message(self) -> str:
        code = self.proc.returncode
        return "the driver closed its stdout" + (f" (exit code {code})" if code is not None else "")

    # -- writing ---------------------------------------------------------------
    async def send(self, message: Mapping[str, Any]) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps(message, ensure_ascii=False) + "\n").encode())
            await self.proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as exc:
            await self._settle_exit()
            raise AdapterError(f"the driver is gone ({exc.__class__.__name__}; {self._exit_message()}){self._stderr_note()}") from None

    async def _settle_exit(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.proc.wait(), 1.0)

    async def handle(self, op: str, args: Mapping[str, Any]) -> None:
        if self.problem is not None:
            raise AdapterError(self.problem + self._stderr_note())
        self.next_id += 1
        future: asyncio.Future[None] = _quiet_future()
        self.pending[self.next_id] = future
        await self.send({"type": "command", "id": self.next_id, "op": op, "args": dict(args)})
        try:
            await future
        except AdapterError:
            await self._settle_exit()
            if self.proc.returncode not in (None, 0):
                raise AdapterError(f"the driver crashed (exit code {self.proc.returncode}) during {op}{self._stderr_note()}") from None
            raise

    @property
    def reusable(self) -> bool:
        hello = self.hello.result() if self.hello.done() and not self.hello.exception() else {}
        return hello.get("cases") == "many"

    def reset(self, emit: Emit) -> None:
        """Prepare a kept process for its next case."""
        self.emit = emit
        self.ended = asyncio.Event()
        self.pending.clear()

    async def aclose(self) -> None:
        """Ask the driver to end the case; keep the process for the next case when it says
        it serves many and ended cleanly, else terminate, then kill its whole process group.

        Cancellation-safe: whatever interrupts the polite steps, the group is killed.
        """
        if self.release is not None and self.reusable and self.problem is None and self.proc.returncode is None:
            with contextlib.suppress(AdapterError, TimeoutError):
                await self.send({"type": "end"})
                await asyncio.wait_for(self.ended.wait(), _END_GRACE)
                if self.ended.is_set() and self.problem is None and self.proc.returncode is None and not self.pending:
                    self.emit = _ignore  # anything it says between cases goes nowhere
                    self.release(self)
                    return
        try:
            if self.proc.returncode is None:
                with contextlib.suppress(AdapterError):
                    await self.send({"type": "end"})
                loop = asyncio.get_running_loop()
                deadline = loop.time() + _END_GRACE  # one grace for ending the case and the process
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.ended.wait(), _END_GRACE)
                if self.proc.stdin is not None:
                    self.proc.stdin.close()  # no next case: a driver that serves many ends at EOF
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.proc.wait(), max(0.05, deadline - loop.time()))
            if self.proc.returncode is None:
                _kill_group(self.proc.pid, signal.SIGTERM)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.proc.wait(), _TERM_GRACE)
        finally:
            _kill_group(self.proc.pid, signal.SIGKILL)  # the driver if still alive, and any children it left
            with contextlib.suppress(BaseException):
                await asyncio.shield(self._reap())
        if self.problem is not None:
            raise AdapterError(self.problem + self._stderr_note())

    async def _reap(self) -> None:
        """Wait for the process and let the readers reach EOF, so every pipe closes now
        (a transport left for the garbage collector would warn after its loop is gone)."""
        await asyncio.wait_for(self.proc.wait(), 2.0)
        _, late = await asyncio.wait(self.readers, timeout=2.0)
        for task in late:
            task.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)
        if self.proc.stdin is not None:
            self.proc.stdin.close()


class DriverAdapter:
    """Drives ``command`` (a shell-style string or an argv list) as a subprocess per case."""

    def __init__(self, *, command: str | Sequence[str], env: Mapping[str, str] | None = None, hello_timeout: float = 20.0) -> None:
        self.argv = shlex.split(command) if isinstance(command, str) else list(command)
        self.env = dict(os.environ if env is None else env)
        self.hello_timeout = hello_timeout
        self._hello: dict[str, Any] | None = None
        self._spare: tuple[asyncio.AbstractEventLoop, DriverSession] | None = None
        # Keep a driver that serves many cases for the next one: only where the caller runs
        # every case on one event loop (the pytest plugin's), which outlives the process.
        self.keep_processes = False

    def _probe(self) -> dict[str, Any]:
        """Learn name, version and capabilities once: start the driver, read hello, end it."""
        if self._hello is None:
            # Once per adapter, possibly from inside the runner's loop: use a loop of its own.
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
                self._hello = pool.submit(asyncio.run, self._read_hello()).result()
        return self._hello

    async def _read_hello(self) -> dict[str, Any]:
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, env=self.env, start_new_session=True, limit=_LINE_LIMIT,
            )
        except OSError as exc:
            raise AdapterError(f"cannot start driver {shlex.join(self.argv)}: {exc}") from None
        session = DriverSession(proc, lambda event: None)
        try:
            hello = await asyncio.wait_for(asyncio.shield(session.hello), self.hello_timeout)
        except TimeoutError:
            raise AdapterError(f"driver {shlex.join(self.argv)} did not say hello within {self.hello_timeout:g}s{session._stderr_note()}") from None
        finally:
            with contextlib.suppress(AdapterError):
                await session.aclose()
        if hello.get("protocol") != PROTOCOL:
            raise AdapterError(f"driver {shlex.join(self.argv)} speaks protocol {hello.get('protocol')!r}; wireplay speaks {PROTOCOL}")
        return hello

    @property
    def name(self) -> str:
        return str(self._probe().get("name", "driver"))

    @property
    def version(self) -> str:
        return str(self._probe().get("version", ""))

    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset(self._probe().get("capabilities", []))

    @property
    def layers(self) -> frozenset[Layer]:
        """The layers the driver claims (hello ``layers``; default ``protocol``: an SDK's)."""
        return parse_layers(self._probe().get("layers", ["protocol"]), where=f"driver {shlex.join(self.argv)} hello.layers")

    @property
    def revision(self) -> str:
        """The revision the driver's client speaks (hello ``revision``; default ``seed``)."""
        return str(self._probe().get("revision") or SEED)

    @property
    def reported_events(self) -> frozenset[str]:
        """If given, the only event types (``x.y`` or ``x.*``) the driver reports."""
        return frozenset(self._probe().get("reported_events", []))

    @property
    def unreported_events(self) -> frozenset[str]:
        """Event types (``x.y`` or ``x.*``) the driver declares it never reports."""
        return frozenset(self._probe().get("unreported_events", []))

    def _keep(self, session: DriverSession) -> None:
        self._spare = (asyncio.get_running_loop(), session)

    def _take_spare(self) -> DriverSession | None:
        """The kept process, if it is alive and belongs to this event loop (else it is killed)."""
        if self._spare is None:
            return None
        loop, session = self._spare
        self._spare = None
        if loop is asyncio.get_running_loop() and session.proc.returncode is None and session.problem is None:
            return session
        _kill_group(session.proc.pid, signal.SIGKILL)  # another loop's process cannot be driven from here
        return None

    async def aclose(self) -> None:
        """End a kept process, on the loop it runs on (the plugin calls it when its session ends)."""
        if self._spare is not None:
            _, session = self._spare
            self._spare = None
            session.release = None
            await session.aclose()

    async def start(self, *, endpoint: Endpoint, config: Mapping[str, Any], emit: Emit, case_id: str = "") -> DriverSession:
        session = self._take_spare()
        if session is not None:
            session.reset(emit)
            session.release = self._keep
        else:
            proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=self.env,
                start_new_session=True,
                limit=_LINE_LIMIT,
            )
            session = DriverSession(proc, emit, release=self._keep if self.keep_processes else None)
        try:
            try:
                await asyncio.wait_for(asyncio.shield(session.hello), self.hello_timeout)
            except TimeoutError:
                raise AdapterError(f"the driver did not say hello within {self.hello_timeout:g}s{session._stderr_note()}") from None
            await session.send({
                "type": "start",
                "case": {"id": case_id},
                "endpoint": {"origin": endpoint.origin, "base_url": endpoint.base_url, "ca_file": endpoint.ca_file,
                             "realtime_base_url": endpoint.realtime_base_url},
                "config": dict(config),
            })
        except BaseException:
            session.release = None
            with contextlib.suppress(Exception):
                await session.aclose()
            raise
        return session
