"""The adapter seam, in the style of an httpx transport: one way in, typed.

The runner knows nothing about any client. It starts a session through an adapter,
hands it the case's client steps one by one, and receives events through ``emit``.
In-process clients, subprocess drivers and the harness's own test doubles all fit
here, so every implementation is judged by the same runner.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from harness.layer import Layer


__all__ = ["Adapter", "Emit", "Endpoint", "Session"]

Emit = Callable[[dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where the fake server for this case listens.

    ``base_url`` is what a client is configured with: ``{origin}/v1`` as the Codex test
    suites do, unless the case gives its own (a path and query of its own, another
    scheme). ``realtime_base_url``, when the case gives one, is where realtime connects
    instead of the provider's base URL. ``ca_file`` is the PEM of the CA that signed the
    server's certificate when the case runs over TLS.
    """

    origin: str
    base_url: str
    ca_file: str | None = None
    realtime_base_url: str | None = None  # a realtime listener of its own (Codex: experimental_realtime_ws_base_url)


class Session(Protocol):
    """One running implementation for one case."""

    async def handle(self, op: str, args: Mapping[str, Any]) -> None:
        """Perform one client step; return when it is done. Raising means a crash (ERROR)."""

    async def aclose(self) -> None:
        """Stop the implementation and release everything; bounded in time."""


class Adapter(Protocol):
    """Drives one implementation. ``capabilities`` use the names cases ``require``;
    ``layers`` are those it is judged on (``protocol`` for an SDK, both for Codex);
    ``revision`` picks a case's per-revision variants."""

    name: str
    version: str
    capabilities: frozenset[str]
    layers: frozenset[Layer]
    revision: str  # ``seed``, or the implementation's own (cases may carry variants per revision)

    async def start(self, *, endpoint: Endpoint, config: Mapping[str, Any], emit: Emit, case_id: str = "") -> Session:
        """Start a session for one case (``case_id`` is for logs and drivers)."""
