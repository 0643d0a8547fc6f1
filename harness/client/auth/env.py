"""Keys a client reads from its process environment, read from the case's instead.

The reference clients never read ``os.environ``: the case gives the client's whole
environment (``client.env``, which adapters receive as ``config["env"]``), and these
helpers look keys up in that mapping the way codex reads its own environment.

- :func:`provider_api_key` — a model provider's ``env_key`` (codex
  ``ModelProviderInfo::api_key``): the named variable's value, as is; a missing
  variable, or one that is empty or only whitespace, is an error
  (:class:`EnvVarError`, ``Missing environment variable: `NAME`.``) and the request
  is never sent (codex-cli.md §1.1: 0 requests, the turn fails with that text).
- :func:`openai_api_key` — ``OPENAI_API_KEY`` (codex
  ``read_openai_api_key_from_env``): trimmed, ``None`` when empty. Codex reads it as
  the realtime key when ChatGPT auth is active and the provider is the built-in
  OpenAI one (core ``realtime_conversation.rs`` ``realtime_api_key``, the "temporary
  fallback" step), never for Responses requests.
- :func:`realtime_api_key` — that whole realtime order: the provider's ``env_key``,
  its bearer token, the auth.json API key, then ``OPENAI_API_KEY`` (OpenAI provider
  only); none → ``realtime conversation requires API key auth``.

The Realtime and Responses clients call these at their request seams; the
``auth`` config's ``env_key`` / ``env`` keys (docs/auth.md) carry the same lookups
through :class:`harness.client.auth.AuthManager`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


__all__ = [
    "OPENAI_API_KEY_ENV",
    "REALTIME_REQUIRES_API_KEY",
    "EnvVarError",
    "openai_api_key",
    "provider_api_key",
    "realtime_api_key",
]

OPENAI_API_KEY_ENV = "OPENAI_API_KEY"
REALTIME_REQUIRES_API_KEY = "realtime conversation requires API key auth"


@dataclass(frozen=True, slots=True)
class EnvVarError(Exception):
    """codex ``CodexErr::EnvVar``: the provider's key variable is missing or empty."""

    var: str
    instructions: str | None = None

    def __str__(self) -> str:
        text = f"Missing environment variable: `{self.var}`."
        return f"{text} {self.instructions}" if self.instructions else text


def provider_api_key(env: Mapping[str, str] | None, env_key: str | None, *, instructions: str | None = None) -> str | None:
    """The provider's key: None without an ``env_key``; raises :class:`EnvVarError` when the
    variable is missing or blank. The value is returned untrimmed, as codex sends it."""
    if not env_key:
        return None
    value = (env or {}).get(env_key)
    if value is None or not value.strip():
        raise EnvVarError(env_key, instructions)
    return value


def openai_api_key(env: Mapping[str, str] | None) -> str | None:
    """``OPENAI_API_KEY`` trimmed; None when missing or blank."""
    value = (env or {}).get(OPENAI_API_KEY_ENV)
    if value is None:
        return None
    value = value.strip()
    return value or None


def realtime_api_key(
    *,
    env: Mapping[str, str] | None,
    env_key: str | None = None,
    bearer_token: str | None = None,
    auth_api_key: str | None = None,
    openai_provider: bool = True,
) -> str | None:
    """The realtime key in codex's order; None means ``realtime conversation requires API key auth``.

    Raises :class:`EnvVarError` for a provider ``env_key`` that is missing (codex's
    ``provider.api_key()?`` fails the start before any other source is tried).
    """
    key = provider_api_key(env, env_key)
    if key is not None:
        return key
    if bearer_token is not None:
        return bearer_token
    if auth_api_key is not None:
        return auth_api_key
    if openai_provider:
        return openai_api_key(env)
    return None
