"""Secrets and volatile values of what a client sent, turned into matchers (pure).

A recorded case must hold no credential and must not pin a value that changes from run
to run of the same client. What the client sent becomes the case's wire expectations,
so each value is kept literally unless it is

- a **secret**: a credential header (``fake_server.redact.SECRET_HEADERS``) becomes a
  matcher of its shape (``Authorization: Bearer sk-…`` → ``{$regex: "^Bearer .+"}``), a
  secret body field (``SECRET_KEYS``) or any string ``redact_text`` would change (a key,
  a JWT, a bearer credential inside a text) becomes ``{$any: string}``;
- **volatile**: a uuid, a generated id (``resp_68c1f0a9…``: a prefix and 16 or more random
  characters), a long hex or digit string (request ids, epoch milliseconds), an ISO 8601
  timestamp, or an epoch number under a time-like key becomes a matcher of its shape;
- an object with a ``$`` key (a JSON Schema inside a tool definition): the case format
  reads such objects as matchers, so it becomes ``{$any: object}``.

Every replacement is counted in a :class:`Scrubbed` report for the case's notes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fake_server.redact import SECRET_HEADERS, SECRET_KEYS, redact_text


__all__ = ["DROPPED_HEADERS", "Scrubbed", "header_expectation", "is_codex_header", "scrub_json", "scrub_string", "volatile_matcher"]

# Headers a recorded case never asserts: transport and connection details, the proxy's
# own host and port, and the client library's self-description (version-specific).
DROPPED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "connection",
        "keep-alive",
        "accept-encoding",
        "user-agent",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "proxy-connection",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
    }
)
_DROPPED_PREFIXES = ("x-stainless-",)
_CODEX_HEADERS = frozenset({"originator", "session_id", "version"})

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_GENERATED = re.compile(r"((?:[A-Za-z]+[_-])+)([A-Za-z0-9]{16,})")
_HEX = re.compile(r"[0-9a-fA-F]{24,}")
_DIGITS = re.compile(r"[0-9]{10,}")
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
_TIME_KEY = re.compile(r"(^|_)(at|time|timestamp|ts|ms|date)$|_at$|timestamp", re.IGNORECASE)
_EPOCH_RANGES = ((1_000_000_000, 10_000_000_000), (1_000_000_000_000, 10_000_000_000_000))


@dataclass(slots=True)
class Scrubbed:
    """What was replaced, by kind, with the field paths (for the case's notes)."""

    secrets: Counter[str] = field(default_factory=Counter)
    volatile: Counter[str] = field(default_factory=Counter)
    schema_objects: Counter[str] = field(default_factory=Counter)

    def note(self) -> str:
        parts = []
        if self.secrets:
            parts.append("secrets → matchers: " + ", ".join(sorted(self.secrets)))
        if self.volatile:
            parts.append("volatile values → matchers: " + ", ".join(sorted(self.volatile)))
        if self.schema_objects:
            parts.append("objects with $ keys (JSON Schema) → {$any: object}: " + ", ".join(sorted(self.schema_objects)))
        return "; ".join(parts)


def is_codex_header(name: str) -> bool:
    """A header only the Codex CLI sends (its application layer, docs/case-format.md#layers)."""
    return name in _CODEX_HEADERS or name.startswith(("x-codex-", "x-openai-"))


def volatile_matcher(value: Any, *, key: str = "") -> Any | None:
    """The matcher for a value that changes from run to run, or None if it is stable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        if _TIME_KEY.search(key) and any(lo <= abs(value) < hi for lo, hi in _EPOCH_RANGES):
            return {"$any": "integer" if isinstance(value, int) else "number"}
        return None
    if not isinstance(value, str):
        return None
    if _UUID.fullmatch(value):
        return {"$regex": "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"}
    generated = _GENERATED.fullmatch(value)
    if generated and re.search(r"\d", generated.group(2)) and re.search(r"[A-Za-z]", generated.group(2)):
        return {"$regex": "^" + re.escape(generated.group(1)) + "[A-Za-z0-9]+$"}
    if _HEX.fullmatch(value) and re.search(r"\d", value):
        return {"$regex": "^[0-9a-fA-F]+$"}
    if _DIGITS.fullmatch(value):
        return {"$regex": "^[0-9]+$"}
    if _ISO_TIME.fullmatch(value):
        return {"$regex": r"^\d{4}-\d{2}-\d{2}[T ].+$"}
    return None


_EMBEDDED = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    r"(?P<uuid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"|(?P<time>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)"
    r"|(?P<id>(?:[A-Za-z]+[_-])+(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{16,})"
    r"|(?P<hex>(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{24,})"
    r"|(?P<digits>\d{10,})"
    r")(?![A-Za-z0-9])"
)
_EMBEDDED_PATTERNS = {
    "uuid": "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    "time": r"\d{4}-\d{2}-\d{2}[T ][0-9:.]+(?:Z|[+-][0-9:]+)?",
    "hex": "[0-9a-fA-F]+",
    "digits": "[0-9]+",
}


def _embedded(value: str) -> str | None:
    """A full-match pattern for a string with volatile tokens inside it (a uuid in a JSON
    header value, a timestamp in a text), or None when it has none."""
    parts: list[str] = []
    last = 0
    for m in _EMBEDDED.finditer(value):
        kind = m.lastgroup or ""
        parts.append(re.escape(value[last : m.start()]))
        if kind == "id":
            prefix = re.match(r"(?:[A-Za-z]+[_-])+", m.group(0))
            parts.append(re.escape(prefix.group(0) if prefix else "") + "[A-Za-z0-9]+")
        else:
            parts.append(_EMBEDDED_PATTERNS[kind])
        last = m.end()
    if not parts:
        return None
    return "^" + "".join(parts) + re.escape(value[last:]) + "$"


def scrub_string(value: str, *, where: str, report: Scrubbed, key: str = "") -> Any:
    """A string as expected: a secret or volatile value as its matcher, else itself."""
    if redact_text(value) != value:
        report.secrets[where] += 1
        return {"$any": "string"}
    matcher = volatile_matcher(value, key=key)
    if matcher is None:
        embedded = _embedded(value)
        matcher = {"$regex": embedded} if embedded is not None else None
    if matcher is not None:
        report.volatile[where] += 1
        return matcher
    return value


def scrub_json(value: Any, *, where: str, report: Scrubbed, key: str = "") -> Any:
    """A JSON value the client sent, as a case expects it (see the module's rules)."""
    if isinstance(value, Mapping):
        if any(isinstance(k, str) and k.startswith("$") for k in value):
            report.schema_objects[where] += 1
            return {"$any": "object"}
        out: dict[str, Any] = {}
        for k, v in value.items():
            sub = f"{where}.{k}" if where else str(k)
            if str(k).lower() in SECRET_KEYS and v not in (None, ""):
                report.secrets[sub] += 1
                out[str(k)] = {"$any": "string"} if isinstance(v, str) else {"$any": "value"}
            else:
                out[str(k)] = scrub_json(v, where=sub, report=report, key=str(k))
        return out
    if isinstance(value, list):
        return [scrub_json(v, where=f"{where}[]", report=report, key=key) for v in value]
    if isinstance(value, str):
        return scrub_string(value, where=where, report=report, key=key)
    matcher = volatile_matcher(value, key=key)
    if matcher is not None:
        report.volatile[where] += 1
        return matcher
    return value


def header_expectation(name: str, value: str, *, report: Scrubbed) -> Any | None:
    """What a case asserts about one request header; None: not asserted (transport, identity)."""
    name = name.lower()
    if name in DROPPED_HEADERS or name.startswith(_DROPPED_PREFIXES):
        return None
    where = f"header {name}"
    if name in SECRET_HEADERS:
        report.secrets[where] += 1
        scheme, sep, _credential = value.strip().partition(" ")
        if sep and scheme.isalpha():
            return {"$regex": f"^{re.escape(scheme)} .+"}
        return {"$any": "string"}
    return scrub_string(value, where=where, report=report, key=name)
