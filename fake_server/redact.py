"""Secret redaction for everything that leaves memory: transcripts, logs, reports.

Credentials that a client sends (Authorization headers, API keys, OAuth tokens in
bodies) must never reach an artefact. The wire verdict is computed on the raw
values in memory; every serialisation goes through these functions.

A secret is shown as its harmless prefix (``sk-``, ``eyJ``, or nothing) and a short
fingerprint, ``sk-…3f9a``: the fingerprint is the first four hex digits of the SHA-256
of the whole secret, never a part of it. Two different keys get different forms, so
``expected "Bearer sk-…3f9a", got "Bearer sk-…07c1"`` stays a readable mismatch.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any


__all__ = ["REDACTED", "SECRET_HEADERS", "SECRET_KEYS", "fingerprint", "redact_header", "redact_json", "redact_text"]

REDACTED = "…"  # the mark every redacted form carries, before its fingerprint
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
_PREFIXES = ("sk-", "rk-", "eyJ")


def fingerprint(secret: str) -> str:
    """The redacted form of one secret: its kind prefix, ``…`` and 4 hex digits of its SHA-256."""
    digest = hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()[:4]
    prefix = next((p for p in _PREFIXES if secret.startswith(p)), "")
    return f"{prefix}{REDACTED}{digest}"
_JSON_SECRET = re.compile(
    r'("(?:' + "|".join(sorted(SECRET_KEYS)) + r')"\s*:\s*)"([^"]*)"', re.IGNORECASE
)


def redact_header(name: str, value: str) -> str:
    """Redact a header value when the header carries a credential."""
    if name.lower() in SECRET_HEADERS:
        scheme, _, credential = value.rpartition(" ")
        return f"{scheme} {fingerprint(credential)}".strip()
    return redact_text(value)


# Whatever any of the patterns above can match starts with one of these: most strings (event
# types, ids, prose) hold none, and one search then spares the four substitutions.
_CANDIDATE = re.compile(r"(?i)bearer|basic|\b[sr]k-|\beyJ|" + "|".join(sorted(SECRET_KEYS)))


def redact_text(text: str) -> str:
    """Redact bearer credentials, key-shaped strings and JSON token fields in free text."""
    if _CANDIDATE.search(text) is None:
        return text
    text = _BEARER.sub(lambda m: f"{m.group(1)} {fingerprint(m.group(0).split(None, 1)[1])}", text)
    text = _KEYLIKE.sub(lambda m: fingerprint(m.group(0)), text)
    text = _JWT.sub(lambda m: fingerprint(m.group(0)), text)
    return _JSON_SECRET.sub(lambda m: f'{m.group(1)}"{fingerprint(m.group(2))}"', text)


def redact_json(value: Any) -> Any:
    """Return a copy of a JSON value with secret fields and key-shaped strings redacted."""
    if isinstance(value, Mapping):
        return {
            k: (fingerprint(str(v)) if str(k).lower() in SECRET_KEYS and v not in (None, "") else redact_json(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value
