"""Client auth as the Codex CLI does it: API keys, managed and external ChatGPT tokens,
the unauthorized-recovery state machine and its feedback tags (responses-wire §5).

Sans-I/O core: `evidence` (401 headers → request id, cf-ray, auth error, code),
`recovery` (the step machine), `refresh` (token-endpoint request and answers),
`tokens` (token sets, auth.json), `tags` (the `auth.*` events), `config` (the
`auth` config key). Small I/O: `manager` (auth.json in a temp file, the refresh POST,
per-request attempts). The Responses and Realtime clients plug it in at their
connect / send seams; see docs/auth.md.
"""

from __future__ import annotations

from harness.client.auth.config import AuthConfig, ExternalRefresh
from harness.client.auth.evidence import DebugContext, debug_context
from harness.client.auth.manager import (
    ACCOUNT_ID_HEADER,
    AuthManager,
    RecoveryDecision,
    RequestAttempts,
)
from harness.client.auth.recovery import StepFailure, UnauthorizedRecovery
from harness.client.auth.tags import PendingRetry, RequestAuthContext
from harness.client.auth.tokens import TokenData


__all__ = [
    "ACCOUNT_ID_HEADER",
    "ApiKeyAuth",
    "AuthConfig",
    "AuthManager",
    "DebugContext",
    "ExternalRefresh",
    "PendingRetry",
    "RecoveryDecision",
    "RequestAttempts",
    "RequestAuthContext",
    "StepFailure",
    "TokenData",
    "UnauthorizedRecovery",
    "debug_context",
]


class ApiKeyAuth(AuthManager):
    """A bearer API key without tags (§1.2 `Authorization`; no key means no header)."""

    def __init__(self, api_key: str | None) -> None:
        super().__init__(AuthConfig.api_key_only(api_key))

    async def recover_unauthorized(self) -> bool:
        """API keys have no recovery step (§5.1 `has_next()` false)."""
        return False
