"""The auth manager: the token a request carries and the I/O of each recovery step.

One `AuthManager` per client (codex `AuthManager`). It holds the cached auth, the
auth.json file of managed ChatGPT tokens (a temp file it writes itself: the case
gives its initial content and, optionally, the content another process left there
when the reload step re-reads it), and runs the token-endpoint POST of the refresh
step. `RequestAttempts` is one model request's side of it (codex's `auth_recovery`
and `pending_retry` of one `stream(...)` call): it reports `auth.request` per
attempt and handles each 401 (`handle_unauthorized`), reporting `auth.recovery`.

Token values stay here: events carry tags only, failures carry codex's texts, and
no `repr` shows a token.
"""

from __future__ import annotations

import datetime as dt
import shutil
import ssl as ssl_module
import tempfile
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from harness.client.auth.config import AuthConfig
from harness.client.auth.evidence import DebugContext, Headerish, debug_context
from harness.client.auth.recovery import (
    AuthFacts,
    RecoveryStep,
    ReloadOutcome,
    StepFailure,
    StepOutcome,
    StepSuccess,
    UnauthorizedRecovery,
)
from harness.client.auth.refresh import (
    RefreshedTokens,
    classify_refresh_response,
    refresh_request_body,
    transient,
)
from harness.client.auth.tags import PendingRetry, RequestAuthContext, recovery_event, request_event
from harness.client.auth.tokens import TokenData, auth_json_text, parse_auth_json


__all__ = ["ACCOUNT_ID_HEADER", "REALTIME_ENDPOINT", "AuthManager", "RecoveryDecision", "RequestAttempts"]

Emit = Callable[[dict[str, Any]], None]
ACCOUNT_ID_HEADER = "ChatGPT-Account-ID"
REALTIME_ENDPOINT = "/realtime"
"""The realtime upgrade: codex authenticates it with an API key only, without tags or recovery."""
NO_REFRESH_URL = "Failed to refresh token: no token endpoint is configured"
EXTERNAL_NOT_CONFIGURED = "external auth is not configured"
EXTERNAL_NO_METADATA = "external auth refresh did not return ChatGPT metadata"
REFRESH_CONNECT_FAILED = "connection failed"
REFRESH_TIMED_OUT = "request timed out"
REFRESH_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class RecoveryDecision:
    """What a 401 leads to: send the same request again, fail with `failure`, or neither
    (no step ran: the caller reports the 401 itself, `UnexpectedStatus`)."""

    retry: bool = False
    failure: StepFailure | None = None


class AuthManager:
    """Signs requests for one client and recovers from 401s (responses-wire §5)."""

    def __init__(
        self,
        config: AuthConfig,
        *,
        emit: Emit | None = None,
        ssl: ssl_module.SSLContext | None = None,
        endpoint: str = "/responses",
        client_headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        self._cfg = config
        self._client_headers = list(client_headers)  # codex create_client(): originator, UA
        self._emit = emit
        self._ssl = ssl
        self.endpoint = endpoint
        self._cached: TokenData | None = config.tokens
        self._file: Path | None = None
        self._reload_written = False
        self._permanent: tuple[TokenData, StepFailure] | None = None
        if config.mode == "chatgpt" and config.tokens is not None:
            folder = Path(tempfile.mkdtemp(prefix="wireplay-auth-"))
            weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)
            self._file = folder / "auth.json"
            self._write(config.tokens)
            self._cached = self._read()

    # -- what a request carries -------------------------------------------------------

    @property
    def mode(self) -> str:
        """`api_key`, `chatgpt` or `external` (the config's mode)."""
        return self._cfg.mode

    @property
    def realtime(self) -> bool:
        """A manager for the realtime upgrade (codex core realtime_conversation.rs).

        codex's `realtime_api_key` takes the provider key, the bearer token or the
        auth.json API key, never a ChatGPT or host-provided access token (with none:
        `realtime conversation requires API key auth`); `realtime_request_headers` sends
        `Authorization` and `x-session-id` only; the realtime connect runs no 401
        recovery and emits no feedback tags (those come from the model client only).
        """
        return self.endpoint == REALTIME_ENDPOINT

    @property
    def tags_enabled(self) -> bool:
        return self._cfg.tags and self._emit is not None and not self.realtime

    @property
    def auth_file(self) -> Path | None:
        """The auth.json this manager reads (managed ChatGPT tokens only)."""
        return self._file

    def bearer_token(self) -> str | None:
        """The current API key or access token; None: no `Authorization` header at all.

        On the realtime upgrade only an API key (see `realtime`)."""
        if self._cfg.mode == "api_key" or self.realtime:
            return self._cfg.api_key or None
        return self._cached.access_token if self._cached is not None else None

    def account_id(self) -> str | None:
        """The `ChatGPT-Account-ID` value (ChatGPT auth only; never on the realtime upgrade)."""
        if self._cfg.mode == "api_key" or self._cached is None or self.realtime:
            return None
        return self._cached.account_id

    def header(self) -> tuple[str, str] | None:
        """The `Authorization` header, or None when there is no token."""
        token = self.bearer_token()
        return ("Authorization", f"Bearer {token}") if token else None

    def headers(self) -> list[tuple[str, str]]:
        """Every auth header: `Authorization`, then `ChatGPT-Account-ID` (§1.2)."""
        out: list[tuple[str, str]] = []
        header = self.header()
        if header is not None:
            out.append(header)
        account = self.account_id()
        if account:
            out.append((ACCOUNT_ID_HEADER, account))
        return out

    def request_context(self, retry: PendingRetry | None = None) -> RequestAuthContext:
        """`AuthRequestTelemetryContext` for the next request."""
        attached = self.bearer_token() is not None
        return RequestAuthContext(
            auth_mode=self._auth_mode_tag(),
            header_attached=attached,
            header_name="authorization" if attached else None,
            retry=retry or PendingRetry(),
        )

    def _auth_mode_tag(self) -> str | None:
        """`auth_mode`: the CodexAuth kind; a provider env key has no CodexAuth."""
        if self._cfg.mode == "api_key":
            if self._cfg.key_source == "auth_json" and self._cfg.api_key:
                return "ApiKey"
            return None
        return "Chatgpt" if self._cached is not None else None

    # -- tags -------------------------------------------------------------------------

    def attempts(self, request_kind: str) -> RequestAttempts:
        """One model request's recovery and tags (`api_request` or `websocket_connect`)."""
        return RequestAttempts(self, request_kind)

    def report_request(
        self,
        *,
        request_kind: str,
        context: RequestAuthContext,
        ok: bool,
        status: int | None,
        headers: Headerish = None,
        connection_reused: bool | None = None,
    ) -> None:
        """Emit `auth.request`; `headers` are the failed response's (ignored on success)."""
        if not self.tags_enabled:
            return
        debug = DebugContext() if ok else debug_context(headers)
        self._send(request_event(endpoint=self.endpoint, request_kind=request_kind,
                                 context=context, ok=ok, status=status, debug=debug,
                                 connection_reused=connection_reused))  # fmt: skip

    def _report_recovery(self, **fields: Any) -> None:
        if self.tags_enabled:
            self._send(recovery_event(**fields))

    def _send(self, event: dict[str, Any]) -> None:
        assert self._emit is not None
        self._emit(event)

    # -- recovery ---------------------------------------------------------------------

    def facts(self) -> AuthFacts:
        chatgpt = self._cfg.mode in ("chatgpt", "external") and self._cached is not None
        external = self._cfg.mode == "external" and self._cfg.refresh is not None
        return AuthFacts(chatgpt_auth=chatgpt, has_external_auth=external)

    def new_recovery(self) -> UnauthorizedRecovery | None:
        """`unauthorized_recovery()`; None without an auth manager (`no_auth_manager`)."""
        if self._cfg.mode == "api_key" and self._cfg.key_source == "no_auth_manager":
            return None
        account = self._cached.account_id if self._cached is not None else None
        return UnauthorizedRecovery.start(external=self._cfg.mode == "external", account_id=account)

    @property
    def byok(self) -> bool:
        """[later] BYOK provider auth: a 401 skips recovery without consulting the manager."""
        return self._cfg.mode == "api_key" and self._cfg.key_source == "provider_byok"

    async def run_step(self, recovery: UnauthorizedRecovery) -> StepOutcome:
        """`UnauthorizedRecovery::next()`: run the current step's I/O."""
        if recovery.step is RecoveryStep.RELOAD:
            return recovery.after_reload(self._reload(recovery.expected_account_id))
        if recovery.step is RecoveryStep.REFRESH_TOKEN:
            return recovery.after_refresh(await self._refresh_from_authority())
        if recovery.step is RecoveryStep.EXTERNAL_REFRESH:
            return recovery.after_refresh(self._refresh_external())
        return StepSuccess(state_changed=False)  # `done`: has_next() keeps callers away

    def _reload(self, expected_account_id: str | None) -> ReloadOutcome:
        """`reload_if_account_id_matches`: re-read auth.json, keep it only for the same account."""
        if expected_account_id is None or self._file is None:
            return ReloadOutcome.SKIPPED
        if self._cfg.tokens_on_reload is not None and not self._reload_written:
            self._reload_written = True  # what another process left in auth.json meanwhile
            self._write(self._cfg.tokens_on_reload)
        loaded = self._read()
        if (loaded.account_id if loaded is not None else None) != expected_account_id:
            return ReloadOutcome.SKIPPED
        changed = loaded != self._cached
        self._set_cached(loaded)
        return ReloadOutcome.CHANGED if changed else ReloadOutcome.NO_CHANGE

    async def _refresh_from_authority(self) -> StepFailure | None:
        """`refresh_token_from_authority`: POST the token endpoint, persist, reload."""
        auth = self._cached
        if auth is None:
            return None
        if self._permanent is not None and self._permanent[0] == auth:
            return self._permanent[1]  # the same auth already failed for good: no new POST
        if not self._cfg.refresh_url:
            return transient(NO_REFRESH_URL)
        answer = await self._post_refresh(auth.refresh_token)
        if isinstance(answer, StepFailure):
            if answer.permanent:
                self._permanent = (auth, answer)
            return answer
        self._write(auth.with_refreshed(access_token=answer.access_token,
                                        refresh_token=answer.refresh_token,
                                        id_token=answer.id_token))  # fmt: skip
        self._set_cached(self._read())
        return None

    async def _post_refresh(self, refresh_token: str) -> RefreshedTokens | StepFailure:
        assert self._cfg.refresh_url is not None
        body = refresh_request_body(refresh_token, self._cfg.client_id)
        try:
            async with httpx.AsyncClient(
                verify=self._ssl if self._ssl is not None else True,
                trust_env=False,
                timeout=REFRESH_TIMEOUT_S,
            ) as client:
                headers = [*self._client_headers, ("Content-Type", "application/json")]
                response = await client.post(self._cfg.refresh_url, content=body, headers=headers)
        except httpx.TimeoutException:
            return transient(REFRESH_TIMED_OUT)
        except httpx.HTTPError:
            return transient(REFRESH_CONNECT_FAILED)
        return classify_refresh_response(response.status_code, response.content)

    def _refresh_external(self) -> StepFailure | None:
        """`refresh_external_auth(Unauthorized)`: ask the host; its failures are transient."""
        refresh = self._cfg.refresh
        if refresh is None:
            return transient(EXTERNAL_NOT_CONFIGURED)
        if refresh.error is not None:
            return transient(refresh.error)
        assert refresh.tokens is not None
        if not refresh.tokens.account_id:
            return transient(EXTERNAL_NO_METADATA)
        self._set_cached(refresh.tokens)
        return None

    def _set_cached(self, tokens: TokenData | None) -> None:
        if tokens != self._cached:
            self._permanent = None  # a recorded permanent failure belongs to the old auth
        self._cached = tokens

    def _write(self, tokens: TokenData) -> None:
        assert self._file is not None
        stamp = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
        self._file.write_text(auth_json_text(tokens, last_refresh=stamp), encoding="utf-8")
        self._file.chmod(0o600)

    def _read(self) -> TokenData | None:
        if self._file is None:
            return None
        try:
            return parse_auth_json(self._file.read_text(encoding="utf-8"))
        except OSError:
            return None


class RequestAttempts:
    """One model request: the auth context of each attempt and the handling of its 401s."""

    def __init__(self, manager: AuthManager, request_kind: str) -> None:
        self._manager = manager
        self._kind = request_kind
        self._recovery = manager.new_recovery()
        self._pending = PendingRetry()

    def context(self) -> RequestAuthContext:
        """The context of the attempt about to be sent (after a recovery: its mode and phase)."""
        return self._manager.request_context(self._pending)

    def observe(
        self,
        *,
        ok: bool,
        status: int | None,
        headers: Headerish = None,
        context: RequestAuthContext | None = None,
        connection_reused: bool | None = None,
    ) -> None:
        """Report one attempt (`auth.request`)."""
        self._manager.report_request(request_kind=self._kind, context=context or self.context(),
                                     ok=ok, status=status, headers=headers,
                                     connection_reused=connection_reused)  # fmt: skip

    async def unauthorized(self, headers: Headerish) -> RecoveryDecision:
        """`handle_unauthorized`: run the next step if any, report it, say what follows."""
        manager = self._manager
        if manager.realtime:
            return RecoveryDecision()  # no step, no tag: the caller reports the 401 itself
        debug = debug_context(headers)
        if manager.byok:
            manager._report_recovery(mode="none", phase="recovery_not_run", outcome="skipped",
                                     debug=debug, reason="byok_auth_has_no_token_refresh")  # fmt: skip
            return RecoveryDecision()
        recovery = self._recovery
        facts = manager.facts()
        if recovery is not None and recovery.has_next(facts):
            mode, phase = recovery.mode_name, recovery.step_name
            outcome = await manager.run_step(recovery)
            if isinstance(outcome, StepSuccess):
                manager._report_recovery(mode=mode, phase=phase, outcome="recovery_succeeded",
                                         debug=debug, state_changed=outcome.state_changed)  # fmt: skip
                self._pending = PendingRetry.after(mode, phase)
                return RecoveryDecision(retry=True)
            kind = "permanent" if outcome.permanent else "transient"
            manager._report_recovery(mode=mode, phase=phase, outcome=f"recovery_failed_{kind}",
                                     debug=debug)  # fmt: skip
            return RecoveryDecision(failure=outcome)
        if recovery is None:
            mode, phase, reason = "none", "none", "auth_manager_missing"
        else:
            mode, phase = recovery.mode_name, recovery.step_name
            reason = recovery.unavailable_reason(facts)
        manager._report_recovery(mode=mode, phase=phase, outcome="recovery_not_run", debug=debug,
                                 reason=reason)  # fmt: skip
        return RecoveryDecision()
