"""Response / handshake headers: a case-insensitive view and what codex reads from it.

Transports hand over raw header pairs; everything header-derived (server model, etag,
reasoning-included, turn state, request ids) is decided here, without I/O (§3).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


__all__ = [
    "OPENAI_MODEL",
    "TURN_STATE",
    "Headers",
]

OPENAI_MODEL = "openai-model"
MODELS_ETAG = "x-models-etag"
REASONING_INCLUDED = "x-reasoning-included"
TURN_STATE = "x-codex-turn-state"
REQUEST_ID = "x-request-id"
OAI_REQUEST_ID = "x-oai-request-id"
CF_RAY = "cf-ray"
AUTH_ERROR = "x-openai-authorization-error"
ERROR_JSON = "x-error-json"


@dataclass(frozen=True, slots=True)
class Headers:
    """Ordered header pairs with case-insensitive lookup (first value wins)."""

    pairs: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, raw: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> Headers:
        if raw is None:
            return cls()
        items = raw.items() if isinstance(raw, Mapping) else raw
        return cls(tuple((str(k), str(v)) for k, v in items))

    def get(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.pairs:
            if key.lower() == wanted:
                return value
        return None

    def names(self) -> list[str]:
        return [key.lower() for key, _ in self.pairs]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def server_model(self) -> str | None:
        """`openai-model` (§3.3), trimmed; blank counts as absent."""
        return _trimmed(self.get(OPENAI_MODEL))

    def models_etag(self) -> str | None:
        """`X-Models-Etag` trimmed and non-empty (§3.5)."""
        return _trimmed(self.get(MODELS_ETAG))

    def reasoning_included(self) -> bool:
        """Presence of `x-reasoning-included`, whatever its value (§3.5)."""
        return REASONING_INCLUDED in self

    def turn_state(self) -> str | None:
        """The sticky-routing token `x-codex-turn-state` (§3.4)."""
        value = self.get(TURN_STATE)
        return value if value else None

    def request_id(self) -> str | None:
        """`x-request-id`, else `x-oai-request-id` (§3.5)."""
        return self.get(REQUEST_ID) or self.get(OAI_REQUEST_ID)

    def cf_ray(self) -> str | None:
        return self.get(CF_RAY)


def _trimmed(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None
