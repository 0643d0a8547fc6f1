"""The `auth` key of a client config (schemas/config/{responses,realtime}.schema.json).

```yaml
auth:
  mode: chatgpt                      # api_key (default) | chatgpt | external
  tags: true                         # report auth.request / auth.recovery events
  # api_key
  api_key: sk-...                    # default: the area's own api_key / bearer_token
  key_source: auth_json              # auth_json | provider_env | provider_byok | no_auth_manager
  # chatgpt (managed tokens in auth.json)
  tokens: {access_token, refresh_token, account_id, id_token?}   # auth.json at start
  tokens_on_reload: {...}            # auth.json when the reload step re-reads it
  refresh_url: ${server:origin}/oauth/token
  client_id: app_...                 # default: codex's
  # external (host-provided tokens)
  tokens: {access_token, account_id}
  refresh: {tokens: {access_token, account_id}} | {error: "..."}
```

`key_source` says where an API key comes from, which decides the tags of a 401 that
cannot be recovered (responses-wire §5.1/§5.2): `auth_json` (a CodexAuth API key:
`auth_mode` ApiKey, recovery `managed`/`reload` not run, `not_chatgpt_auth`),
`provider_env` (a provider `env_key`: no CodexAuth, so `auth_mode` empty; same
recovery tags), `provider_byok` ([later] BYOK path: `none`/`recovery_not_run`,
outcome `skipped`), `no_auth_manager` (`none`/`none`, `auth_manager_missing`).

The client's environment (docs/auth.md, "The client's environment"):

```yaml
auth:
  key_source: provider_env
  env_key: WIREPLAY_KEY              # the key is read from this variable of client.env
  # chatgpt
  last_refresh_age_days: 9           # auth.json's last_refresh, that long ago (stale after 8 days)
  account_mismatch: fail             # fail (default) | refresh_cached (before openai/codex#11802)
  env: {...}                         # the client's environment: the reference session sets it
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.client.auth.refresh import CLIENT_ID
from harness.client.auth.tokens import TokenData, tokens_from_mapping


__all__ = ["ACCOUNT_MISMATCH", "KEY_SOURCES", "MODES", "AuthConfig", "ExternalRefresh"]

MODES = ("api_key", "chatgpt", "external")
KEY_SOURCES = ("auth_json", "provider_env", "provider_byok", "no_auth_manager")
ACCOUNT_MISMATCH = ("fail", "refresh_cached")
_COMMON = {"mode", "tags", "env"}
_KEYS = {
    "api_key": _COMMON | {"api_key", "key_source", "env_key"},
    "chatgpt": _COMMON | {"tokens", "tokens_on_reload", "refresh_url", "client_id", "last_refresh_age_days", "account_mismatch"},
    "external": _COMMON | {"tokens", "refresh"},
}


@dataclass(frozen=True, slots=True)
class ExternalRefresh:
    """What the host answers to `refresh(Unauthorized)`: new tokens, or an error text."""

    tokens: TokenData | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthConfig:
    """Typed view of the `auth` mapping; see the module docstring."""

    mode: str = "api_key"
    tags: bool = False
    api_key: str | None = field(default=None, repr=False)
    key_source: str = "auth_json"
    tokens: TokenData | None = None
    tokens_on_reload: TokenData | None = None
    refresh_url: str | None = None
    client_id: str = CLIENT_ID
    refresh: ExternalRefresh | None = None
    env_key: str | None = None
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    last_refresh_age_days: float = 0.0
    account_mismatch: str = "fail"

    @classmethod
    def api_key_only(cls, api_key: str | None) -> AuthConfig:
        """A client without an `auth` key: its API key, no tags (the pre-auth behaviour)."""
        return cls(api_key=api_key or None)

    @classmethod
    def from_mapping(
        cls, raw: Mapping[str, Any] | None, *, api_key: str | None = None
    ) -> AuthConfig:
        """Read the `auth` mapping; `api_key` is the area's own key (the api_key default).

        Absent (`None`) means no `auth` key: API-key auth without tags. Raises
        ValueError on a malformed value, naming the field but never its value.
        """
        if raw is None:
            return cls.api_key_only(api_key)
        if not isinstance(raw, Mapping):
            raise ValueError("auth config must be an object")
        common = _common(raw)
        mode = raw.get("mode", "api_key")
        if mode not in MODES:
            raise ValueError(f"auth config mode must be one of {', '.join(MODES)}")
        unknown = sorted(set(raw) - _KEYS[mode])
        if unknown:
            raise ValueError(f"auth config ({mode}): unknown keys {', '.join(unknown)}")
        tags = raw.get("tags", True)
        if not isinstance(tags, bool):
            raise ValueError("auth config tags must be a boolean")
        if mode == "api_key":
            return cls._api_key(raw, tags=tags, fallback=api_key, common=common)
        tokens = _tokens(raw, "tokens", required=True)
        # The area's own key is kept beside ChatGPT / external tokens: the realtime
        # upgrade authenticates with an API key only (AuthManager.bearer_token).
        if mode == "chatgpt":
            age = raw.get("last_refresh_age_days", 0)
            if isinstance(age, bool) or not isinstance(age, int | float) or age < 0:
                raise ValueError("auth config last_refresh_age_days must be a number >= 0")
            mismatch = raw.get("account_mismatch", "fail")
            if mismatch not in ACCOUNT_MISMATCH:
                raise ValueError(f"auth config account_mismatch must be one of {', '.join(ACCOUNT_MISMATCH)}")
            return cls(
                mode=mode,
                tags=tags,
                api_key=api_key or None,
                tokens=tokens,
                tokens_on_reload=_tokens(raw, "tokens_on_reload", required=False),
                refresh_url=_opt_str(raw, "refresh_url"),
                client_id=_opt_str(raw, "client_id") or CLIENT_ID,
                last_refresh_age_days=float(age),
                account_mismatch=mismatch,
                **common,
            )
        return cls(mode=mode, tags=tags, api_key=api_key or None, tokens=tokens,
                   refresh=_external_refresh(raw), **common)  # fmt: skip

    @classmethod
    def _api_key(cls, raw: Mapping[str, Any], *, tags: bool, fallback: str | None, common: dict[str, Any]) -> AuthConfig:
        key = _opt_str(raw, "api_key")
        env_key = _opt_str(raw, "env_key") or None
        source = raw.get("key_source", "provider_env" if env_key else "auth_json")
        if source not in KEY_SOURCES:
            raise ValueError(f"auth config key_source must be one of {', '.join(KEY_SOURCES)}")
        if env_key and source != "provider_env":
            raise ValueError("auth config env_key is a provider's env_key: key_source must be provider_env")
        if env_key and key:
            raise ValueError("auth config: give api_key or env_key, not both")
        return cls(mode="api_key", tags=tags, api_key=None if env_key else (key or fallback or None),
                   key_source=source, env_key=env_key, **common)  # fmt: skip


def _common(raw: Mapping[str, Any]) -> dict[str, Any]:
    """`env` (the client's environment, which the reference session fills from client.env)."""
    env = raw.get("env") or {}
    if not isinstance(env, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise ValueError("auth config env must map variable names to strings")
    return {"env": dict(env)}


def _opt_str(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"auth config {key} must be a string")
    return value


def _tokens(raw: Mapping[str, Any], key: str, *, required: bool) -> TokenData | None:
    value = raw.get(key)
    if value is None:
        if required:
            raise ValueError(f"auth config {key} is required for mode {raw.get('mode')}")
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"auth config {key} must be an object")
    return tokens_from_mapping(value, where=key)


def _external_refresh(raw: Mapping[str, Any]) -> ExternalRefresh | None:
    value = raw.get("refresh")
    if value is None:
        return None
    if not isinstance(value, Mapping) or set(value) - {"tokens", "error"} or len(value) != 1:
        raise ValueError("auth config refresh must be {tokens: {...}} or {error: text}")
    if "error" in value:
        if not isinstance(value["error"], str):
            raise ValueError("auth config refresh.error must be a string")
        return ExternalRefresh(error=value["error"])
    tokens = value["tokens"]
    if not isinstance(tokens, Mapping):
        raise ValueError("auth config refresh.tokens must be an object")
    return ExternalRefresh(tokens=tokens_from_mapping(tokens, where="refresh.tokens"))
