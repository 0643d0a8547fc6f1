"""Codex's items, texts and error info as neutral events (no I/O).

Shared by the app-server drivers: the Responses items codex parsed, its reroute and
reconnect notices, its warnings, and its error info as the ``error`` event's fields.
Each function turns one such fact into the events that carry it, and nothing else:
what codex does not record is not reported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from harness.impls.codex_cli.texts import neutral, with_error_fields


__all__ = [
    "FALLBACK_PREFIX",
    "INTERNAL_ITEM_KEYS",
    "error_event",
    "is_model_metadata_notice",
    "output_item",
    "parse_reconnect",
    "parse_reroute",
    "reconnect_details",
    "snake_case",
    "tool_call_event",
    "warning",
]

FALLBACK_PREFIX = "Falling back from WebSockets to HTTPS transport."
# Codex's own bookkeeping inside a stored item; never on the wire.
INTERNAL_ITEM_KEYS = frozenset({"internal_chat_message_metadata_passthrough", "metadata"})
_CLIENT_ROLES = frozenset({"user", "developer", "system"})
_CALL_TYPES = frozenset({"function_call", "custom_tool_call", "local_shell_call"})
_REROUTE = re.compile(r"^model rerouted: (?P<from>\S+) -> (?P<to>\S+) \((?P<reason>[A-Za-z]+)\)$")
_RECONNECT = re.compile(r"^(?P<message>Reconnecting\.\.\. \d+/\d+)(?: \((?P<details>.*)\))?$", re.DOTALL)
# Codex names items the server sent without an id itself: `<prefix>_<uuid v7>`.
_CODEX_ITEM_ID = re.compile(r"^[a-z]+_[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")


def snake_case(name: str) -> str:
    """``HighRiskCyberActivity`` → ``high_risk_cyber_activity`` (serde's snake_case)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def parse_reroute(message: str) -> dict[str, Any] | None:
    """The ``model rerouted: A -> B (Reason)`` error item as ``turn.model_reroute``."""
    m = _REROUTE.match(message.strip())
    if m is None:
        return None
    return {"type": "turn.model_reroute", "from_model": m["from"], "to_model": m["to"], "reason": snake_case(m["reason"])}


def parse_reconnect(message: str) -> dict[str, Any] | None:
    """The top-level ``Reconnecting... n/m (details)`` error as ``turn.stream_error``."""
    m = _RECONNECT.match(message.strip())
    if m is None:
        return None
    return {"type": "turn.stream_error", "message": m["message"], "details": neutral(m["details"] or "")}


def reconnect_details(message: str) -> str:
    """The raw details of a ``Reconnecting... n/m (details)`` line ("" without them)."""
    m = _RECONNECT.match(message.strip())
    return (m["details"] or "") if m is not None else ""


def is_model_metadata_notice(message: str) -> bool:
    """codex's start-up notice about an unknown model slug: local, not about the wire."""
    return message.startswith("Model metadata for `") and "not found" in message


def _without_nulls(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def output_item(payload: Mapping[str, Any]) -> dict[str, Any] | None:
    """A Responses item codex parsed (``rawResponseItem/completed``) as the wire item; else None.

    Client-authored items (user/developer messages, tool outputs) are not outputs.
    Codex adds its bookkeeping keys, writes absent optional fields as null (nested ones
    too) and gives an id-less item an id of its own (``fc_<uuid v7>``); all three are
    dropped so the item reads as the server sent it. Key order stays codex's.
    """
    kind = payload.get("type")
    if not isinstance(kind, str) or kind.endswith("_output"):
        return None
    if kind == "message" and payload.get("role") in _CLIENT_ROLES:
        return None
    item = {k: _without_nulls(v) for k, v in payload.items() if k not in INTERNAL_ITEM_KEYS and v is not None}
    if isinstance(item.get("id"), str) and _CODEX_ITEM_ID.match(item["id"]):
        del item["id"]
    return item


def tool_call_event(item: Mapping[str, Any]) -> dict[str, Any] | None:
    """``turn.tool_call`` for a call item, as the neutral vocabulary names calls."""
    kind = item.get("type")
    if kind not in _CALL_TYPES:
        return None
    call_id = item.get("call_id") or item.get("id")
    if not isinstance(call_id, str):
        return None
    name = "local_shell" if kind == "local_shell_call" else item.get("name")
    event: dict[str, Any] = {"type": "turn.tool_call", "call_id": call_id, "name": name if isinstance(name, str) else ""}
    arguments = item.get("arguments") if kind == "function_call" else item.get("input")
    if isinstance(arguments, str):
        event["arguments"] = arguments
    return event


def warning(message: str) -> dict[str, Any]:
    """A notice codex shows and carries on after, its library texts made neutral."""
    return {"type": "warning", "message": neutral(message)}


def as_mapping(value: Any) -> Mapping[str, Any]:
    """A JSON object of a notification, or an empty one when the field is absent or not an object."""
    return value if isinstance(value, Mapping) else {}


def error_info(info: Any) -> dict[str, Any]:
    """``codexErrorInfo`` (``"usageLimitExceeded"`` or ``{"httpConnectionFailed": {"httpStatusCode": 401}}``) as fields."""
    fields: dict[str, Any] = {}
    if isinstance(info, str) and info:
        fields["code"] = snake_case(info)
    elif isinstance(info, Mapping) and len(info) == 1:
        ((variant, detail),) = info.items()
        fields["code"] = snake_case(str(variant))
        status = detail.get("httpStatusCode") if isinstance(detail, Mapping) else None
        if isinstance(status, int) and not isinstance(status, bool):
            fields["http_status"] = status
    return fields


def error_event(message: str, info: Any) -> dict[str, Any]:
    """``error`` with ``code`` = the ``codex_error_info`` variant and its HTTP status.

    ``codex_error_info`` is a unit variant (``"other"``) or a one-key object such as
    ``{"http_connection_failed": {"http_status_code": 401}}``. The status and request id
    the text shows fill the fields it leaves out (:func:`.texts.error_fields`).
    """
    event: dict[str, Any] = {"type": "error", "message": neutral(message)}
    if isinstance(info, str) and info:
        event["code"] = snake_case(info) if info[:1].isupper() else info
    elif isinstance(info, Mapping) and len(info) == 1:
        (variant, fields), = info.items()
        event["code"] = str(variant)
        status = fields.get("http_status_code") if isinstance(fields, Mapping) else None
        if isinstance(status, int) and not isinstance(status, bool):
            event["http_status"] = status
    return with_error_fields(event)
