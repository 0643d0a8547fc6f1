"""Secret redaction for everything that leaves memory: transcripts, logs, reports.

Credentials that a client sends (Authorization headers, API keys, OAuth tokens in
bodies) must never reach an artefact. The wire verdict is computed on the raw
values in memory; every serialisation goes through these functions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any


__all__ = ["REDACTED", "SECRET_HEADERS", "SECRET_KEYS", "redact_header", "redact_json", "redact_text"]

REDACTED = "<redacted>"
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "openai-api-key",
        "chatgpt-account-id",
    }
)
SECRET_KEYS = frozenset(
    {
        "api_key",
        "apikey",
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "password",
        "token",
        "authorization",
        "openai_api_key",
        "bearer_token",
    }
)
# A scheme followed by a credential-shaped token, not ordinary prose ("bearer or basic
# authentication"): 8+ characters with a digit or punctuation, or 20+ of any.
_BEARER = re.compile(
    r"(?i)\b(bearer|basic)\s+"
    r"(?:(?=[A-Za-z0-9._~+/=\-]*[0-9._~+/=\-])[A-Za-z0-9._~+/=\-]{8,}|[A-Za-z0-9._~+/=\-]{20,})"
)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_KEYLIKE = re.compile(r"\b(sk|rk)-[A-Za-z0-9_\-]{6,}")
_JSON_SECRET = re.compile(
    r'("(?:' + "|".join(sorted(SECRET_KEYS)) + r')"\s*:\s*)"[^"]*"', re.IGNORECASE
)


def redact_header(name: str, value: str) -> str:
    """Redact a header value when the header carries a credential."""
    if name.lower() in SECRET_HEADERS:
        scheme = value.split(" ", 1)[0] if " " in value else ""
        return f"{scheme} {REDACTED}".strip()
    return redact_text(value)


def redact_text(text: str) -> str:
    """Redact bearer credentials, key-shaped strings and JSON token fields in free text."""
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _KEYLIKE.sub(REDACTED, text)
    text = _JWT.sub(REDACTED, text)
    return _JSON_SECRET.sub(lambda m: f'{m.group(1)}"{REDACTED}"', text)


def redact_json(value: Any) -> Any:
    """Return a copy of a JSON value with secret fields and key-shaped strings redacted."""
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if str(k).lower() in SECRET_KEYS and v not in (None, "") else redact_json(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value
