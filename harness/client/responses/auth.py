"""Auth seam: who signs requests and whether a 401 can be recovered.

Only API-key auth exists now; ChatGPT token recovery (responses-wire §5.1) is a later
issue and will plug in here without touching the transports.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ApiKeyAuth"]


@dataclass(frozen=True, slots=True)
class ApiKeyAuth:
    """Bearer API key (§1.2 `Authorization`); no key means no header, as codex does."""

    api_key: str | None

    @property
    def mode(self) -> str:
        return "api_key"

    def header(self) -> tuple[str, str] | None:
        """The auth header name and value, or None when no key is configured."""
        if not self.api_key:
            return None
        return ("Authorization", f"Bearer {self.api_key}")

    async def recover_unauthorized(self) -> bool:
        """Try one recovery step after a 401; API keys have none (§5.1 `has_next()` false)."""
        return False
