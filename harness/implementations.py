"""Implementations by name, for ``--impl`` and ``--wireplay-impl``."""

from __future__ import annotations

from harness.adapters.base import Adapter

__all__ = ["IMPLEMENTATIONS", "adapter_for"]

IMPLEMENTATIONS = ("reference",)


def adapter_for(*, impl: str | None, driver: str | None = None) -> Adapter:
    """The adapter for an implementation name or a driver command."""
    if driver:
        from harness.adapters.driver import DriverAdapter

        return DriverAdapter(command=driver)
    name = impl or "reference"
    if name == "reference":
        from harness.adapters.reference import ReferenceAdapter

        return ReferenceAdapter()
    raise ValueError(f"unknown implementation '{name}'; expected one of: {', '.join(IMPLEMENTATIONS)} (or --driver CMD)")
