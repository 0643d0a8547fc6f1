"""Token data and the auth.json file that holds managed ChatGPT tokens.

The file has codex's `AuthDotJson` shape: `{"OPENAI_API_KEY": null, "tokens":
{"id_token", "access_token", "refresh_token", "account_id"}, "last_refresh"}`.
Token fields never appear in a `repr`, so a traceback or a log line cannot carry them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


__all__ = [
    "AuthFile",
    "TokenData",
    "auth_file_text",
    "auth_json_text",
    "parse_auth_file",
    "parse_auth_json",
    "tokens_from_mapping",
]


@dataclass(frozen=True, slots=True)
class TokenData:
    """One token set; `account_id` is the `ChatGPT-Account-ID` value (not a secret)."""

    access_token: str = field(default="", repr=False)
    refresh_token: str = field(default="", repr=False)
    id_token: str | None = field(default=None, repr=False)
    account_id: str | None = None

    def with_refreshed(
        self, *, access_token: str | None, refresh_token: str | None, id_token: str | None
    ) -> TokenData:
        """`persist_tokens`: each field the endpoint returned replaces the stored one."""
        return TokenData(
            access_token=access_token if access_token is not None else self.access_token,
            refresh_token=refresh_token if refresh_token is not None else self.refresh_token,
            id_token=id_token if id_token is not None else self.id_token,
            account_id=self.account_id,
        )


def tokens_from_mapping(raw: Mapping[str, Any], *, where: str) -> TokenData:
    """A config `tokens` object; unknown keys and non-string values are rejected."""
    known = {"access_token", "refresh_token", "id_token", "account_id"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ValueError(f"auth config {where}: unknown keys {', '.join(unknown)}")
    for key, value in raw.items():
        if value is not None and not isinstance(value, str):
            raise ValueError(f"auth config {where}.{key} must be a string")
    if not raw.get("access_token"):
        raise ValueError(f"auth config {where}.access_token is required")
    return TokenData(
        access_token=raw["access_token"],
        refresh_token=raw.get("refresh_token") or "",
        id_token=raw.get("id_token"),
        account_id=raw.get("account_id"),
    )


def auth_json_text(tokens: TokenData, *, last_refresh: str) -> str:
    """The auth.json content for `tokens`."""
    return auth_file_text(AuthFile(tokens=tokens), last_refresh=last_refresh)


@dataclass(frozen=True, slots=True)
class AuthFile:
    """What auth.json holds: an API key (codex then uses it: `ApiKey` auth), or ChatGPT tokens,
    and when they were last refreshed (codex `AuthDotJson`; `last_refresh` drives the
    proactive refresh of stale tokens)."""

    tokens: TokenData | None = None
    api_key: str | None = field(default=None, repr=False)
    last_refresh: dt.datetime | None = None


def auth_file_text(auth: AuthFile, *, last_refresh: str | None = None) -> str:
    """The auth.json content (`last_refresh` as given, else the file's own, else null)."""
    tokens = auth.tokens
    stamp = last_refresh
    if stamp is None and auth.last_refresh is not None:
        stamp = auth.last_refresh.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    body = {
        "OPENAI_API_KEY": auth.api_key,
        "tokens": None if tokens is None else {
            "id_token": tokens.id_token,
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "account_id": tokens.account_id,
        },
        "last_refresh": stamp,
    }
    return json.dumps(body, indent=2) + "\n"


def parse_auth_file(text: str) -> AuthFile | None:
    """auth.json as codex's `load_auth` reads it; None when it holds no auth at all.

    An `OPENAI_API_KEY` wins over tokens (codex: "Prefer AuthMode.ApiKey if it's set").
    """
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    stamp = parsed.get("last_refresh")
    last_refresh = None
    if isinstance(stamp, str):
        try:
            last_refresh = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            last_refresh = None
    key = parsed.get("OPENAI_API_KEY")
    if isinstance(key, str):
        return AuthFile(api_key=key, last_refresh=last_refresh)
    tokens = parse_auth_json(text)
    if tokens is None:
        return None
    return AuthFile(tokens=tokens, last_refresh=last_refresh)


def parse_auth_json(text: str) -> TokenData | None:
    """The tokens of an auth.json text; None when it holds none (codex then has no auth)."""
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    tokens = parsed.get("tokens") if isinstance(parsed, dict) else None
    if not isinstance(tokens, dict) or not isinstance(tokens.get("access_token"), str):
        return None

    def opt(key: str) -> str | None:
        value = tokens.get(key)
        return value if isinstance(value, str) else None

    return TokenData(
        access_token=tokens["access_token"],
        refresh_token=opt("refresh_token") or "",
        id_token=opt("id_token"),
        account_id=opt("account_id"),
    )
