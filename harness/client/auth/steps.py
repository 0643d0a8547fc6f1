"""The auth manager's own operations as client steps (``auth.*``, docs/auth.md).

Codex's ``AuthManager`` does more than sign requests: it re-reads auth.json
(``reload``), refreshes on demand (``refresh_token``, guarded by a reload), hands out
the cached auth after refreshing stale tokens (``auth``), and runs the
unauthorized-recovery machine one ``next()`` at a time. Codex's own tests drive
these directly (core/tests/suite/auth_refresh.rs); a case drives them with these
steps, against the same manager the session's Responses client signs with, so a
later ``responses.turn`` shows the result on the wire.

| step | codex | reports |
|---|---|---|
| ``auth.load`` | ``AuthManager::reload()`` | ``auth.loaded`` |
| ``auth.refresh_now`` | ``refresh_token()`` (``guarded: false``: ``refresh_token_from_authority()``) | ``auth.refresh`` |
| ``auth.get`` | ``auth()`` (stale tokens refreshed first) | ``auth.refresh`` when stale, then ``auth.current`` |
| ``auth.recovery_start`` | ``unauthorized_recovery()`` | ``auth.recovery_state`` |
| ``auth.recovery_next`` | ``UnauthorizedRecovery::next()`` | ``auth.recovery_step``, then ``auth.recovery_state`` |

Codex itself only logs these outcomes (``tracing``) or returns them to its caller;
the events are the reference's report of what each call returned, the way codex's
tests assert on those returns. No event carries a token.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from harness.client.auth.manager import NO_MORE_STEPS, AuthManager, RefreshResult
from harness.client.auth.recovery import StepFailure, StepSuccess, UnauthorizedRecovery
from harness.client.auth.tokens import AuthFile, tokens_from_mapping


__all__ = ["AUTH_STEPS", "AuthSteps", "auth_file_from_step"]

Emit = Callable[[dict[str, Any]], None]
AUTH_STEPS = ("auth.load", "auth.refresh_now", "auth.get", "auth.recovery_start", "auth.recovery_next")


def auth_file_from_step(raw: Mapping[str, Any]) -> AuthFile:
    """``auth.load``'s ``auth_json``: ``{tokens: {...}}`` or ``{api_key: ...}``, and
    ``last_refresh_age_days`` (default 0: written just now)."""
    unknown = sorted(set(raw) - {"tokens", "api_key", "last_refresh_age_days"})
    if unknown:
        raise ValueError(f"auth.load auth_json: unknown keys {', '.join(unknown)}")
    if ("tokens" in raw) == ("api_key" in raw):
        raise ValueError("auth.load auth_json holds tokens or an api_key (one of them)")
    age = raw.get("last_refresh_age_days", 0)
    if isinstance(age, bool) or not isinstance(age, int | float) or age < 0:
        raise ValueError("auth.load auth_json.last_refresh_age_days must be a number >= 0")
    stamp = dt.datetime.now(dt.UTC) - dt.timedelta(days=float(age))
    if "api_key" in raw:
        if not isinstance(raw["api_key"], str) or not raw["api_key"]:
            raise ValueError("auth.load auth_json.api_key must be a non-empty string")
        return AuthFile(api_key=raw["api_key"], last_refresh=None)
    if not isinstance(raw["tokens"], Mapping):
        raise ValueError("auth.load auth_json.tokens must be an object")
    return AuthFile(tokens=tokens_from_mapping(raw["tokens"], where="auth_json.tokens"), last_refresh=stamp)


def _refresh_event(result: RefreshResult | StepFailure, *, trigger: str, requested: bool) -> dict[str, Any]:
    """``auth.refresh``: what one refresh did (never a token)."""
    event: dict[str, Any] = {"type": "auth.refresh", "trigger": trigger, "token_request": requested}
    if isinstance(result, StepFailure):
        event["outcome"] = "failed_permanent" if result.permanent else "failed_transient"
        event["message"] = result.message
        if result.reason is not None:
            event["reason"] = result.reason
    elif result.requested:
        event["outcome"] = "refreshed"
    else:
        event["outcome"] = "adopted" if result.changed else "not_needed"
    return event


class AuthSteps:
    """Runs ``auth.*`` steps against the manager ``manager()`` returns (created on first use)."""

    def __init__(self, manager: Callable[[], AuthManager], emit: Emit) -> None:
        self._manager = manager
        self._emit = emit
        self._recovery: UnauthorizedRecovery | None = None
        self._started = False

    async def handle(self, op: str, args: Mapping[str, Any]) -> None:
        handlers = {
            "auth.load": self._load,
            "auth.refresh_now": self._refresh_now,
            "auth.get": self._get,
            "auth.recovery_start": self._recovery_start,
            "auth.recovery_next": self._recovery_next,
        }
        if op not in handlers:
            raise ValueError(f"unknown auth step '{op}'; expected one of: {', '.join(AUTH_STEPS)}")
        await handlers[op](dict(args or {}))

    # -- steps -------------------------------------------------------------------------

    async def _load(self, args: dict[str, Any]) -> None:
        manager = self._manager()
        written = auth_file_from_step(args["auth_json"]) if "auth_json" in args else None
        changed = manager.reload(written)
        self._emit(self._current("auth.loaded", manager, changed=changed))

    async def _refresh_now(self, args: dict[str, Any]) -> None:
        manager = self._manager()
        before = manager.token_requests
        result = await manager.refresh_token(guarded=bool(args.get("guarded", True)))
        self._emit(_refresh_event(result, trigger="manual", requested=manager.token_requests > before))

    async def _get(self, args: dict[str, Any]) -> None:
        manager = self._manager()
        before = manager.token_requests
        stale, result = await manager.auth()
        if result is not None:
            self._emit(_refresh_event(result, trigger="stale", requested=manager.token_requests > before))
        self._emit(self._current("auth.current", manager, stale=stale))

    async def _recovery_start(self, args: dict[str, Any]) -> None:
        self._recovery = self._manager().new_recovery()
        self._started = True
        self._emit(self._state())

    async def _recovery_next(self, args: dict[str, Any]) -> None:
        manager = self._manager()
        if not self._started:
            self._recovery = manager.new_recovery()
            self._started = True
        recovery = self._recovery
        facts = manager.facts()
        if recovery is None or not recovery.has_next(facts):
            mode = recovery.mode_name if recovery is not None else "none"
            phase = recovery.step_name if recovery is not None else "none"
            self._emit({"type": "auth.recovery_step", "mode": mode, "phase": phase,
                        "outcome": "recovery_failed_permanent", "reason": "other", "message": NO_MORE_STEPS})  # fmt: skip
        else:
            mode, phase = recovery.mode_name, recovery.step_name
            outcome = await manager.run_step(recovery)
            event: dict[str, Any] = {"type": "auth.recovery_step", "mode": mode, "phase": phase}
            if isinstance(outcome, StepSuccess):
                event.update(outcome="recovery_succeeded", state_changed=outcome.state_changed)
            else:
                kind = "permanent" if outcome.permanent else "transient"
                event.update(outcome=f"recovery_failed_{kind}", message=outcome.message)
                if outcome.reason is not None:
                    event["reason"] = outcome.reason
            self._emit(event)
        self._emit(self._state())

    # -- reports -----------------------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        recovery = self._recovery
        if recovery is None:
            return {"type": "auth.recovery_state", "mode": "none", "step": "none", "has_next": False,
                    "reason": "auth_manager_missing"}  # fmt: skip
        facts = self._manager().facts()
        return {"type": "auth.recovery_state", "mode": recovery.mode_name, "step": recovery.step_name,
                "has_next": recovery.has_next(facts), "reason": recovery.unavailable_reason(facts)}  # fmt: skip

    @staticmethod
    def _current(kind: str, manager: AuthManager, **extra: Any) -> dict[str, Any]:
        event: dict[str, Any] = {"type": kind, **extra, "auth_mode": manager.auth_mode}
        account = manager.account_id_of_cached()
        if account:
            event["account_id"] = account
        return event
