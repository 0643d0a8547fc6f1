"""Auth seam: a thin adapter over `harness.client.auth` (docs/auth.md).

The transports ask the auth object for its headers, open one `RequestAttempts` per
model request (codex's per-`stream(...)` recovery), report each attempt and hand it
each 401. A recovery failure becomes the `ApiError` codex maps it to (§5.1):
permanent → `RefreshTokenFailed` (fatal, `unauthorized`), transient → `Io` (retryable).
"""

from __future__ import annotations

import ssl as ssl_module
from collections.abc import Callable, Mapping
from typing import Any

from harness.client.auth import (
    ApiKeyAuth,
    AuthConfig,
    AuthManager,
    RecoveryDecision,
    RequestAttempts,
    StepFailure,
)
from harness.client.responses.errors import ApiError


__all__ = [
    "ENDPOINT",
    "ApiKeyAuth",
    "AuthManager",
    "RecoveryDecision",
    "RequestAttempts",
    "client_auth",
    "recovery_error",
]

ENDPOINT = "/responses"  # `RESPONSES_ENDPOINT`, the feedback tags' `endpoint`


def client_auth(
    raw: Mapping[str, Any] | None,
    *,
    api_key: str | None,
    emit: Callable[[dict[str, Any]], None],
    ssl: ssl_module.SSLContext | None,
    originator: str,
) -> AuthManager:
    """The client's auth from its `auth` config key (absent: `api_key`, no tags).

    The token-endpoint request carries codex's default client headers (`create_client()`:
    `originator` and the codex User-Agent).
    """
    from harness.client.responses.request import user_agent  # request imports this module

    config = AuthConfig.from_mapping(raw, api_key=api_key)
    headers = [("originator", originator), ("User-Agent", user_agent(originator))]
    return AuthManager(config, emit=emit, ssl=ssl, endpoint=ENDPOINT, client_headers=headers)


def recovery_error(failure: StepFailure) -> ApiError:
    """The `ApiError` a failed recovery step ends the request with."""
    kind = "refresh_token_failed" if failure.permanent else "io"
    return ApiError(kind=kind, message=failure.message)
