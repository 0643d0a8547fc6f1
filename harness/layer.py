"""The two layers every assertion belongs to.

``protocol`` is what any client of the Realtime / Responses API must do; ``codex`` is
the Codex CLI's application behaviour on top of it (retry policy, fallback, warnings,
its own texts, headers, events and telemetry). An implementation claims the layers it
is judged on: an SDK claims ``protocol`` only, so Codex's choices are never counted as
its protocol failures.
"""

from __future__ import annotations

from enum import StrEnum


__all__ = ["ALL_LAYERS", "Layer", "parse_layers"]


class Layer(StrEnum):
    """Where an assertion belongs."""

    PROTOCOL = "protocol"
    CODEX = "codex"


ALL_LAYERS = frozenset(Layer)


def parse_layers(values: object, *, where: str) -> frozenset[Layer]:
    """Layers an implementation declares (adapter metadata, driver ``hello``)."""
    if not isinstance(values, (list, tuple, set, frozenset)) or not values:
        raise ValueError(f"{where}: expected a non-empty list of layers ({', '.join(Layer)}), got {values!r}")
    try:
        return frozenset(Layer(v) for v in values)
    except ValueError:
        raise ValueError(f"{where}: unknown layer in {list(values)!r}; expected {', '.join(Layer)}") from None
