"""Reading a thread's rollout file as codex appends to it, one record at a time.

The file is written live (one JSON object per line). Records are consumed in order
and only up to the one a caller waits for, so events derived from them keep
codex's own order whatever the flush timing.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any


__all__ = ["Rollout"]

_POLL = 0.01

Record = dict[str, Any]


class Rollout:
    """The rollout of one thread under a CODEX_HOME; offsets survive across processes."""

    def __init__(self, *, home: str) -> None:
        self._sessions = Path(home) / "sessions"
        self._thread_id: str | None = None
        self._path: Path | None = None
        self._offsets: dict[Path, int] = {}
        self._partial = b""
        self._ready: deque[Record] = deque()

    def attach(self, thread_id: str) -> None:
        """Follow ``thread_id``'s file (found on the next read: it may not exist yet)."""
        if thread_id != self._thread_id:
            self._thread_id, self._path, self._partial = thread_id, None, b""

    def _locate(self) -> Path | None:
        if self._path is None and self._thread_id and self._sessions.is_dir():
            found = sorted(self._sessions.glob(f"**/rollout-*{self._thread_id}.jsonl"), key=lambda p: p.stat().st_mtime)
            self._path = found[-1] if found else None
        return self._path

    def _read_available(self) -> None:
        path = self._locate()
        if path is None:
            return
        offset = self._offsets.get(path, 0)
        try:
            with path.open("rb") as f:
                f.seek(offset)
                data = f.read()
        except OSError:
            return
        self._offsets[path] = offset + len(data)
        data = self._partial + data
        *lines, self._partial = data.split(b"\n")
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                self._ready.append(record)

    def take_ready(self) -> list[Record]:
        """Every complete record written so far and not yet consumed."""
        self._read_available()
        out = list(self._ready)
        self._ready.clear()
        return out

    async def take_until(self, wanted: Callable[[Record], bool], *, timeout: float) -> tuple[list[Record], bool]:
        """Records up to and including the first ``wanted`` one; ``False`` if it never came.

        On a timeout every record read so far is returned, so nothing is lost.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        taken: list[Record] = []
        while True:
            self._read_available()
            while self._ready:
                record = self._ready.popleft()
                taken.append(record)
                if wanted(record):
                    return taken, True
            if loop.time() >= deadline:
                return taken, False
            await asyncio.sleep(_POLL)
