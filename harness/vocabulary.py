"""The neutral event vocabulary as a validator (schemas/events.schema.json).

Events that fall outside the vocabulary are reported as events-plane problems, so a
driver author learns "field X of event Y is wrong" instead of reading a snapshot diff.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from harness.case.loader import SCHEMA_BASE, schema_registry


__all__ = ["vocabulary_problems"]


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator({"$ref": SCHEMA_BASE + "events.schema.json"}, registry=schema_registry())


def _closest_def(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """The $defs entry whose name is the event's type, in any area vocabulary."""
    registry = schema_registry()
    for area in ("common", "realtime", "responses", "auth"):
        try:
            defs = registry.contents(f"{SCHEMA_BASE}events/{area}.schema.json").get("$defs", {})
        except Exception:
            continue
        if event.get("type") in defs:
            return {"$ref": f"{SCHEMA_BASE}events/{area}.schema.json#/$defs/{event['type']}"}
    return None


def vocabulary_problems(event: Mapping[str, Any]) -> list[str]:
    """Why an event is outside the vocabulary (empty: it is a known, well-formed event)."""
    if _validator().is_valid(dict(event)):
        return []
    target = _closest_def(event)
    if target is None:
        return [f"event type {event.get('type')!r} is not in the vocabulary (schemas/events.schema.json)"]
    validator = Draft202012Validator(target, registry=schema_registry())
    problems = []
    for error in validator.iter_errors(dict(event)):
        where = ".".join(str(p) for p in error.absolute_path)
        problems.append(f"event {event.get('type')!r}{' field ' + where if where else ''}: {error.message}")
    return problems or [f"event {event.get('type')!r} does not match the vocabulary"]
