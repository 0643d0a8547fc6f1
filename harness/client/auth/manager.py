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
from harness.client.auth.env import EnvVarError, provider_api_key
from harness.client.auth.evidence import DebugContext, Headerish, debug_context
from harness.client.auth.recovery import (
    ACCOUNT_MISMATCH_MESSAGE,
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
from harness.client.auth.tokens import AuthFile, TokenData, auth_file_text, parse_auth_file
from harness.client.public_roots import public_roots


__all__ = [
    "ACCOUNT_ID_HEADER",
    "NO_MORE_STEPS",
    "REALTIME_ENDPOINT",
    "TOKEN_REFRESH_INTERVAL_DAYS",
    "AuthManager",
    "RecoveryDecision",
    "RefreshResult",
    "RequestAttempts",
]

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
TOKEN_REFRESH_INTERVAL_DAYS = 8
"""codex `TOKEN_REFRESH_INTERVAL`: managed tokens last refreshed longer ago are stale (seeds' revision)."""
NO_MORE_STEPS = "No more recovery steps available."
"""codex `UnauthorizedRecovery::next()` when `has_next()` is false (permanent, reason other)."""


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """A refresh that did not fail: whether a token request was sent, whether the auth changed."""

    requested: bool
    changed: bool


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
        self._cached_key: str | None = None  # auth.json now holds an API key (codex: ApiKey auth)
        self._last_refresh: dt.datetime | None = None
        self._file: Path | None = None
        self._reload_written = False
        self._permanent: tuple[TokenData, StepFailure] | None = None
        self.token_requests = 0  # POSTs to the token endpoint so far
        if config.mode == "chatgpt" and config.tokens is not None:
            folder = Path(tempfile.mkdtemp(prefix="wireplay-auth-"))
            weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)
            self._file = folder / "auth.json"
            stamp = _now() - dt.timedelta(days=config.last_refresh_age_days)
            self._store(AuthFile(tokens=config.tokens, last_refresh=stamp))
            self._set_file_auth(self._load())

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

        On the realtime upgrade only an API key (see `realtime`): the configured key or
        the auth.json API key; the realtime client adds codex's environment sources
        (`harness.client.auth.env.realtime_api_key`). A provider `env_key` that is
        missing gives None here; see `key_error` for codex's error text."""
        if self.realtime:
            return self._cfg.api_key or self._cached_key or None
        if self._cfg.mode == "api_key":
            if self._cfg.env_key:
                try:
                    return provider_api_key(self._cfg.env, self._cfg.env_key)
                except EnvVarError:
                    return None
            return self._cfg.api_key or None
        if self._cached_key is not None:
            return self._cached_key
        return self._cached.access_token if self._cached is not None else None

    def key_error(self) -> str | None:
        """codex `Missing environment variable: `NAME`.` when the provider's `env_key` names a
        variable the client's environment lacks (or holds only whitespace): the request
        must not be sent and the turn fails with this text (codex-cli.md §1.1)."""
        try:
            provider_api_key(self._cfg.env, self._cfg.env_key)
        except EnvVarError as exc:
            return str(exc)
        return None

    def account_id(self) -> str | None:
        """The `ChatGPT-Account-ID` value (ChatGPT auth only; never on the realtime upgrade)."""
        if self._cfg.mode == "api_key" or self._cached is None or self.realtime or self._cached_key is not None:
            return None
        return self._cached.account_id

    def account_id_of_cached(self) -> str | None:
        """The cached ChatGPT auth's account id, whichever endpoint this manager signs for."""
        if self._cfg.mode == "api_key" or self._cached is None or self._cached_key is not None:
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
        if self._cached_key is not None:
            return "ApiKey"
        return "Chatgpt" if self._cached is not None else None

    @property
    def auth_mode(self) -> str:
        """The cached auth's kind as the tags name it: `ApiKey`, `Chatgpt` or `""` (none)."""
        return self._auth_mode_tag() or ""

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
        chatgpt = self._cfg.mode in ("chatgpt", "external") and self._cached is not None and self._cached_key is None
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
            reloaded = self._reload(recovery.expected_account_id)
            if reloaded is ReloadOutcome.SKIPPED and self._cfg.account_mismatch == "refresh_cached":
                # Before openai/codex#11802 (Feb 2026): a reload skipped for another account
                # refreshed with the cached refresh token and ended recovery (`done`).
                failure = await self._refresh_from_authority()
                if failure is not None:
                    return failure
                recovery.step = RecoveryStep.DONE
                return StepSuccess(state_changed=True)
            return recovery.after_reload(reloaded)
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
        stored = self._load()
        loaded = stored.tokens if stored is not None and stored.api_key is None else None
        if (loaded.account_id if loaded is not None else None) != expected_account_id:
            return ReloadOutcome.SKIPPED
        changed = loaded != self._cached
        self._set_file_auth(stored)
        return ReloadOutcome.CHANGED if changed else ReloadOutcome.NO_CHANGE

    # -- the manager's own operations (steps `auth.*`, docs/auth.md) ------------------

    def reload(self, written: AuthFile | None = None) -> bool:
        """`AuthManager::reload()`: re-read auth.json whatever it holds; whether the auth changed.

        `written` is what another process (another codex, `codex login`) put in auth.json
        just before. Unlike the recovery's guarded reload, any account is taken, an API
        key included. Only a manager of managed tokens owns an auth.json.
        """
        if self._file is None:
            raise ValueError("auth.load: only managed ChatGPT auth (mode chatgpt) has an auth.json to re-read")
        if written is not None:
            self._store(written)
        before = (self._cached, self._cached_key)
        self._set_file_auth(self._load())
        return (self._cached, self._cached_key) != before

    def is_stale(self) -> bool:
        """codex `refresh_if_stale` at the seeds' revision: managed tokens whose `last_refresh`
        is more than 8 days old (`TOKEN_REFRESH_INTERVAL`). The access token's JWT `exp`
        came later (openai/codex#15545)."""
        if self._file is None or self._cached is None or self._cached_key is not None or self._last_refresh is None:
            return False
        return self._last_refresh < _now() - dt.timedelta(days=TOKEN_REFRESH_INTERVAL_DAYS)

    async def auth(self) -> tuple[bool, RefreshResult | StepFailure | None]:
        """`AuthManager::auth()`: refresh stale managed tokens first (straight from the token
        authority, as the seeds' revision does), then hand out the cached auth.

        A failed refresh is logged by codex and the cached auth is used anyway: it is
        returned here, never raised. Returns (stale, what the refresh did or None)."""
        if not self.is_stale():
            return False, None
        failure = await self._refresh_from_authority()
        return True, failure if failure is not None else RefreshResult(requested=True, changed=True)

    async def refresh_token(self, *, guarded: bool = True) -> RefreshResult | StepFailure:
        """`AuthManager::refresh_token()` ("refresh now"): a guarded reload first.

        auth.json changed for the same account → adopt it, no token request (another
        process refreshed already); unchanged → ask the token authority; another
        account → permanent `ACCOUNT_MISMATCH_MESSAGE`, no request (since
        openai/codex#11802; `account_mismatch: refresh_cached` keeps the earlier revision,
        which refreshed with the cached refresh token). `guarded=False` is
        `refresh_token_from_authority()`. API-key auth: nothing to do.
        """
        if self._cfg.mode == "api_key" or self._cached_key is not None:
            return RefreshResult(requested=False, changed=False)
        if guarded and self._cfg.mode == "chatgpt":
            expected = self._cached.account_id if self._cached is not None else None
            outcome = self._reload(expected)
            if outcome is ReloadOutcome.CHANGED:
                return RefreshResult(requested=False, changed=True)
            if outcome is ReloadOutcome.SKIPPED and self._cfg.account_mismatch == "fail":
                return StepFailure(permanent=True, message=ACCOUNT_MISMATCH_MESSAGE, reason="other")
        if self._cfg.mode == "external":
            failure = self._refresh_external()
            return failure if failure is not None else RefreshResult(requested=False, changed=True)
        failure = await self._refresh_from_authority()
        return failure if failure is not None else RefreshResult(requested=True, changed=True)

    async def _refresh_from_authority(self) -> StepFailure | None:
        """`refresh_token_from_authority`: POST the token endpoint, persist, reload.

        The answer is persisted into what auth.json holds now (codex `persist_tokens`
        loads the stored auth and replaces the returned fields), with a new
        `last_refresh`; then the manager reloads it.
        """
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
        stored = self._load()
        base = stored.tokens if stored is not None and stored.tokens is not None else auth
        self._store(AuthFile(tokens=base.with_refreshed(access_token=answer.access_token,
                                                        refresh_token=answer.refresh_token,
                                                        id_token=answer.id_token),
                             last_refresh=_now()))  # fmt: skip
        self._set_file_auth(self._load())
        return None

    async def _post_refresh(self, refresh_token: str) -> RefreshedTokens | StepFailure:
        from harness.client.custom_ca import proxy_for_url

        assert self._cfg.refresh_url is not None
        body = refresh_request_body(refresh_token, self._cfg.client_id)
        self.token_requests += 1
        try:
            async with httpx.AsyncClient(
                verify=self._ssl if self._ssl is not None else public_roots(),
                trust_env=False,  # the client's environment is the case's (auth `env`), never this process's
                proxy=proxy_for_url(self._cfg.refresh_url, self._cfg.env),
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

    def _set_file_auth(self, stored: AuthFile | None) -> None:
        """Cache what auth.json holds: tokens, or an API key (which codex prefers)."""
        key = stored.api_key if stored is not None else None
        if key != self._cached_key:
            self._permanent = None
        self._cached_key = key
        self._set_cached(stored.tokens if stored is not None and key is None else None)
        self._last_refresh = stored.last_refresh if stored is not None else None

    def _write(self, tokens: TokenData) -> None:
        """Tokens written now (a reload's `tokens_on_reload`, as another process refreshed)."""
        self._store(AuthFile(tokens=tokens, last_refresh=_now()))

    def _store(self, auth: AuthFile) -> None:
        assert self._file is not None
        self._file.write_text(auth_file_text(auth), encoding="utf-8")
        self._file.chmod(0o600)

    def _load(self) -> AuthFile | None:
        if self._file is None:
            return None
        try:
            return parse_auth_file(self._file.read_text(encoding="utf-8"))
        except OSError:
            return None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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
