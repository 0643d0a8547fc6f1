"""The ``sdk.*`` steps' arguments (schemas/steps/sdk.schema.json), checked the same way by
every implementation that offers them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


__all__ = ["SendStep", "parse_send"]


@dataclass(frozen=True, slots=True)
class SendStep:
    """``sdk.send``: one client event on the SDK's websocket for ``api``, or one HTTP request."""

    api: str  # realtime | responses
    transport: str  # websocket | http
    body: dict[str, Any]


def parse_send(args: Mapping[str, Any]) -> SendStep:
    """Validate ``sdk.send`` args; ValueError names what is wrong."""
    transport = args.get("transport")
    if transport not in ("websocket", "http"):
        raise ValueError(f"sdk.send transport must be websocket or http, not {transport!r}")
    api = args.get("api", "responses")
    if api not in ("realtime", "responses"):
        raise ValueError(f"sdk.send api must be realtime or responses, not {api!r}")
    if transport == "http" and api != "responses":
        raise ValueError("sdk.send over http is a Responses request (api: responses)")
    body = args.get("body")
    if not isinstance(body, Mapping):
        raise ValueError("sdk.send body must be an object")
    if transport == "websocket" and not isinstance(body.get("type"), str):
        raise ValueError("sdk.send over a websocket sends a client event: its body needs a string `type`")
    return SendStep(api=str(api), transport=str(transport), body=dict(body))
