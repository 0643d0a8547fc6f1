"""Serve an adapter over the driver protocol: ``wireplay driver`` (``python -m harness.driver``).

This is the reference client as a subprocess driver (schemas/driver.schema.json),
the same program other implementations write in their own language. A test runs
the whole suite both ways and requires the same verdicts.
"""

from __future__ import annotations

import asyncio
import json
import sys
import traceback
from typing import Any

from harness.adapters.base import Adapter, Endpoint, Session
from harness.errors import Unsupported
from harness.revision import SEED


__all__ = ["main", "serve_driver"]


def _write(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message, ensure_ascii=False) + "\n")
    sys.stdout.flush()


async def _stdin_reader() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=16 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def hello(adapter: Adapter) -> dict[str, Any]:
    """The hello line: who it is, what it can do and claims, and that it serves many cases."""
    layers = sorted(getattr(adapter, "layers", ("protocol", "codex")))
    revision = getattr(adapter, "revision", SEED)
    return {"type": "hello", "protocol": 1, "name": adapter.name, "version": adapter.version, "capabilities": sorted(adapter.capabilities),
            "layers": layers, "revision": revision, "cases": "many"}  # fmt: skip


async def serve_driver(adapter: Adapter) -> int:
    """Say hello, then serve start / command / end, case after case, until stdin closes.

    The hello says ``"cases": "many"``: after ``ended`` this driver takes the next
    ``start``, so the harness keeps one process per worker instead of one per case.
    """
    _write(hello(adapter))
    reader = await _stdin_reader()
    session: Session | None = None
    try:
        while line := await reader.readline():
            msg = json.loads(line)
            kind = msg.get("type")
            if kind == "start":
                session = await adapter.start(
                    endpoint=Endpoint(**msg["endpoint"]),
                    config=msg["config"],
                    emit=lambda event: _write({"type": "event", "event": event}),
                    case_id=msg.get("case", {}).get("id", ""),
                )
            elif kind == "command":
                try:
                    assert session is not None, "command before start"
                    await session.handle(msg["op"], msg["args"])
                except Unsupported as exc:
                    _write({"type": "failed", "id": msg["id"], "message": str(exc), "unsupported": True})
                except Exception as exc:
                    _write({"type": "failed", "id": msg["id"], "message": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()})
                else:
                    _write({"type": "done", "id": msg["id"]})
            elif kind == "end":
                if session is not None:
                    await session.aclose()
                    session = None
                _write({"type": "ended"})
    finally:
        if session is not None:
            await session.aclose()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point: the reference client as a driver; ``--hello`` writes only the hello line."""
    from harness.adapters.reference import ReferenceAdapter

    argv = sys.argv[1:] if argv is None else argv
    if "--hello" in argv:
        _write(hello(ReferenceAdapter()))
        return 0
    return asyncio.run(serve_driver(ReferenceAdapter()))


if __name__ == "__main__":
    raise SystemExit(main())
