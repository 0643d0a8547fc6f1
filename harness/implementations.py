"""Implementations by name, for ``--impl`` and ``--wireplay-impl``.

An implementation that is not installed is not an error of the run: every case is
reported UNSUPPORTED with the reason (and the command that installs it).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from harness.adapters.base import Adapter, Emit, Endpoint
from harness.errors import WireplayError
from harness.layer import ALL_LAYERS
from harness.revision import SEED


__all__ = ["IMPLEMENTATIONS", "ImplementationUnavailable", "UnavailableAdapter", "adapter_for"]

IMPLEMENTATIONS: dict[str, str] = {
    "reference": "harness.adapters.reference",
    "codex-cli": "harness.impls.codex_cli",
    "openai-python": "harness.impls.openai_python",
    "openai-node": "harness.impls.openai_node",
}


class ImplementationUnavailable(WireplayError):
    """The implementation is not installed here; ``reason`` says how to install it."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class UnavailableAdapter:
    """Stands in for a missing implementation: no capabilities, so every case is UNSUPPORTED."""

    version = ""
    capabilities: frozenset[str] = frozenset()
    layers = ALL_LAYERS
    revision = SEED

    def __init__(self, *, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    async def start(self, *, endpoint: Endpoint, config: Mapping[str, Any], emit: Emit, case_id: str = "") -> Any:
        raise ImplementationUnavailable(self.reason)


def adapter_for(*, impl: str | None, driver: str | None = None) -> Adapter:
    """The adapter for an implementation name or a driver command."""
    if driver:
        from harness.adapters.driver import DriverAdapter

        return DriverAdapter(command=driver)
    name = impl or "reference"
    if name not in IMPLEMENTATIONS:
        raise ValueError(f"unknown implementation '{name}'; expected one of: {', '.join(IMPLEMENTATIONS)} (or --driver CMD)")
    module = importlib.import_module(IMPLEMENTATIONS[name])
    if name == "reference":
        return module.ReferenceAdapter()
    try:
        return module.adapter()
    except ImplementationUnavailable as exc:
        return UnavailableAdapter(name=name, reason=exc.reason)
