"""One failed assertion, in the layer it belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from harness.layer import Layer


__all__ = ["Finding", "Plane"]


class Plane(StrEnum):
    """Where a finding was made: what the server saw, or what the implementation reported."""

    WIRE = "wire"
    EVENTS = "events"


@dataclass(frozen=True, slots=True)
class Finding:
    """A failure; ``layer`` None is a fault in what the implementation reported at all
    (a non-event, a credential, an impossible duration), judged in every layer."""

    plane: Plane
    layer: Layer | None
    message: str

    def __str__(self) -> str:
        tag = f" [{self.layer}]" if self.layer is not None else ""
        return f"{self.plane}{tag}: {self.message}"

    def to_json(self) -> dict[str, str | None]:
        return {"layer": self.layer.value if self.layer is not None else None, "message": self.message}
