"""What a failed response tells about auth: request ids and the upstream auth verdict.

codex's `extract_response_debug_context` (responses-wire §3.5): the request id is
`x-request-id`, else `x-oai-request-id`; `cf-ray` separately; the upstream auth
classification is `x-openai-authorization-error`, and `x-error-json` is base64 JSON
whose `error.code` is the auth error code. Pure: headers in, facts out.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


__all__ = [
    "AUTH_ERROR",
    "CF_RAY",
    "ERROR_JSON",
    "OAI_REQUEST_ID",
    "REQUEST_ID",
    "DebugContext",
    "HeaderLookup",
    "debug_context",
    "error_json_code",
]

REQUEST_ID = "x-request-id"
OAI_REQUEST_ID = "x-oai-request-id"
CF_RAY = "cf-ray"
AUTH_ERROR = "x-openai-authorization-error"
ERROR_JSON = "x-error-json"


class HeaderLookup(Protocol):
    """Anything with a case-insensitive `get` (the responses `Headers`, websockets' `Headers`)."""

    def get(self, name: str, /) -> Any: ...


Headerish = HeaderLookup | Mapping[str, str] | Iterable[tuple[str, str]] | None


@dataclass(frozen=True, slots=True)
class DebugContext:
    """The evidence of one failed response; None where the header was absent."""

    request_id: str | None = None
    cf_ray: str | None = None
    auth_error: str | None = None
    auth_error_code: str | None = None


def _lookup(headers: Headerish, name: str) -> str | None:
    if headers is None:
        return None
    if isinstance(headers, Mapping):
        wanted = name.lower()
        for key, value in headers.items():
            if str(key).lower() == wanted:
                return str(value)
        return None
    getter = getattr(headers, "get", None)
    if callable(getter):
        value = getter(name)
        return None if value is None else str(value)
    for key, value in headers:
        if key.lower() == name.lower():
            return value
    return None


def error_json_code(encoded: str | None) -> str | None:
    """`error.code` of the base64 JSON in `x-error-json`; None when any step fails."""
    if encoded is None:
        return None
    try:
        decoded = json.loads(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        return None
    error = decoded.get("error") if isinstance(decoded, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


def debug_context(headers: Headerish) -> DebugContext:
    """The §3.5 evidence of a response's headers (an empty context for None)."""
    return DebugContext(
        request_id=_lookup(headers, REQUEST_ID) or _lookup(headers, OAI_REQUEST_ID),
        cf_ray=_lookup(headers, CF_RAY),
        auth_error=_lookup(headers, AUTH_ERROR),
        auth_error_code=error_json_code(_lookup(headers, ERROR_JSON)),
    )
