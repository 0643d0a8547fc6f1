"""MockAdapter: an adapter made from one plain async function, for tests.

Like httpx's MockTransport, it lets the runner's own tests produce every outcome
(PASS, FAIL, TIMEOUT, ERROR, UNSUPPORTED) without a real client.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.adapters.base import Emit, Endpoint
from harness.layer import ALL_LAYERS, Layer
from harness.revision import SEED


__all__ = ["MockAdapter", "MockContext"]


@dataclass(slots=True)
class MockContext:
    """What the handler sees: the endpoint, the case's config, emit, and free state."""

    endpoint: Endpoint
    config: Mapping[str, Any]
    emit: Emit
    state: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[str, Mapping[str, Any], MockContext], Awaitable[None]]


class _MockSession:
    def __init__(self, handler: Handler, ctx: MockContext, on_close: Callable[[MockContext], Awaitable[None]] | None) -> None:
        self._handler = handler
        self._ctx = ctx
        self._on_close = on_close

    async def handle(self, op: str, args: Mapping[str, Any]) -> None:
        await self._handler(op, args, self._ctx)

    async def aclose(self) -> None:
        if self._on_close is not None:
            await self._on_close(self._ctx)


class MockAdapter:
    """Adapter whose every step calls ``handler(op, args, ctx)``."""

    def __init__(
        self,
        handler: Handler,
        *,
        name: str = "mock",
        capabilities: frozenset[str] = frozenset(),
        on_close: Callable[[MockContext], Awaitable[None]] | None = None,
        layers: frozenset[Layer] = ALL_LAYERS,
        revision: str = SEED,
    ) -> None:
        self.name = name
        self.revision = revision
        self.version = "0"
        self.capabilities = capabilities
        self.layers = layers
        self._handler = handler
        self._on_close = on_close

    async def start(self, *, endpoint: Endpoint, config: Mapping[str, Any], emit: Emit, case_id: str = "") -> _MockSession:
        return _MockSession(self._handler, MockContext(endpoint=endpoint, config=config, emit=emit), self._on_close)
