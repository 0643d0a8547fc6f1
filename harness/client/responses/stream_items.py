"""What one response stream yields: codex's `ResponseEvent` plus a terminal failure.

Shared by SSE and websocket (responses-wire §2.2), so both transports feed the same
turn logic and emit the same neutral events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.client.responses.errors import ApiError
from harness.client.responses.models import RateLimitSnapshot, TokenUsage


__all__ = [
    "Completed",
    "Created",
    "Failed",
    "ModelVerifications",
    "ModelsEtag",
    "OutputItemAdded",
    "OutputItemDone",
    "OutputTextDelta",
    "RateLimits",
    "ReasoningContentDelta",
    "ReasoningSummaryDelta",
    "ReasoningSummaryPartAdded",
    "ServerModel",
    "ServerReasoningIncluded",
    "StreamItem",
    "TurnStateSeen",
]


@dataclass(frozen=True, slots=True)
class Created:
    response_id: str | None


@dataclass(frozen=True, slots=True)
class OutputItemAdded:
    item: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OutputItemDone:
    item: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OutputTextDelta:
    delta: str


@dataclass(frozen=True, slots=True)
class ReasoningSummaryDelta:
    delta: str
    summary_index: int


@dataclass(frozen=True, slots=True)
class ReasoningContentDelta:
    delta: str
    content_index: int


@dataclass(frozen=True, slots=True)
class ReasoningSummaryPartAdded:
    summary_index: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Completed:
    response_id: str
    token_usage: TokenUsage | None = None
    end_turn: bool | None = None
    via_done: bool = False
    """True when `response.done` ended the stream (profile `response_done_completes`)."""


@dataclass(frozen=True, slots=True)
class RateLimits:
    snapshot: RateLimitSnapshot


@dataclass(frozen=True, slots=True)
class ModelsEtag:
    etag: str


@dataclass(frozen=True, slots=True)
class ModelVerifications:
    """[later] verifications a `response.metadata` event recommends (codex
    `ResponseEvent::ModelVerifications`), e.g. `trusted_access_for_cyber`."""

    verifications: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ServerModel:
    model: str


@dataclass(frozen=True, slots=True)
class ServerReasoningIncluded:
    included: bool = True


@dataclass(frozen=True, slots=True)
class TurnStateSeen:
    """A turn-state token carried by a metadata event ([later], §10)."""

    value: str


@dataclass(frozen=True, slots=True)
class Failed:
    """Terminal: the stream ended with this error."""

    error: ApiError


StreamItem = (
    Created
    | OutputItemAdded
    | OutputItemDone
    | OutputTextDelta
    | ReasoningSummaryDelta
    | ReasoningContentDelta
    | ReasoningSummaryPartAdded
    | Completed
    | RateLimits
    | ModelsEtag
    | ModelVerifications
    | ServerModel
    | ServerReasoningIncluded
    | TurnStateSeen
    | Failed
)
