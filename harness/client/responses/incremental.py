"""Websocket request chaining: full `response.create`, v1 `response.append`, or v2
incremental `response.create` with `previous_response_id` (responses-wire §1.4).

Pure state kept per client session and cleared whenever a new connection is opened,
so a reconnect always starts with a full create.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.client.responses.request import build_ws_append, build_ws_create


__all__ = ["LastResponse", "WsIncrementalState"]

# Fields that may differ between chained requests (§1.4 `get_incremental_items`).
_IGNORED = frozenset({"input", "previous_response_id", "generate", "client_metadata", "type"})


@dataclass(frozen=True, slots=True)
class LastResponse:
    """The completed response of the last request: its id and its output items."""

    response_id: str
    items_added: tuple[Any, ...] = ()


class WsIncrementalState:
    """What the server already holds on this socket: last request body + its response."""

    def __init__(self) -> None:
        self.last_request: dict[str, Any] | None = None
        self.last_response: LastResponse | None = None
        self.last_was_prewarm = False

    def reset(self) -> None:
        self.last_request = None
        self.last_response = None
        self.last_was_prewarm = False

    def prepare(
        self,
        body: Mapping[str, Any],
        *,
        version: str,
        client_metadata: Mapping[str, str] | None,
        generate: bool | None = None,
    ) -> dict[str, Any]:
        """The frame for `body`; consumes the last response as codex's oneshot does."""
        last, self.last_response = self.last_response, None
        full = build_ws_create(body, generate=generate, client_metadata=client_metadata)
        if last is None:
            return full
        items = self._incremental_items(body, last)
        if items is None:
            return full
        if version == "v2":
            if not last.response_id:
                return full
            return build_ws_create(body, previous_response_id=last.response_id, input_items=items,
                                   generate=generate, client_metadata=client_metadata)  # fmt: skip
        return build_ws_append(items, client_metadata)

    def record_request(self, body: Mapping[str, Any], *, prewarm: bool = False) -> None:
        self.last_request = dict(body)
        self.last_was_prewarm = prewarm

    def record_response(self, response: LastResponse) -> None:
        self.last_response = response

    def _incremental_items(self, body: Mapping[str, Any], last: LastResponse) -> list[Any] | None:
        previous = self.last_request
        if previous is None:
            return None
        if _without_input(previous) != _without_input(body):
            return None
        baseline: list[Any] = [*previous.get("input", ()), *last.items_added]
        current: Sequence[Any] = body.get("input", ())
        if not baseline and not self.last_was_prewarm:
            return None
        if len(current) <= len(baseline) or list(current[: len(baseline)]) != baseline:
            return None
        return list(current[len(baseline) :])


def _without_input(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in _IGNORED}
