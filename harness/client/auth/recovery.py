"""The unauthorized-recovery state machine (codex `UnauthorizedRecovery`, responses-wire §5.1).

One machine per model request (codex creates it per `stream(...)` call). Managed
ChatGPT tokens walk `reload` → `refresh_token` → `done`; host-provided (external)
tokens have one step, `external_refresh` → `done`; API-key auth has no step at all.
Pure: the manager runs each step's I/O and reports its outcome back here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


__all__ = [
    "ACCOUNT_MISMATCH_MESSAGE",
    "AuthFacts",
    "RecoveryMode",
    "RecoveryStep",
    "ReloadOutcome",
    "StepFailure",
    "StepSuccess",
    "UnauthorizedRecovery",
]

ACCOUNT_MISMATCH_MESSAGE = (
    "Your access token could not be refreshed because you have since logged out or signed in "
    "to another account. Please sign in again."
)


class RecoveryMode(StrEnum):
    """`mode_name()`: managed (auth.json tokens) or external (host-provided tokens)."""

    MANAGED = "managed"
    EXTERNAL = "external"


class RecoveryStep(StrEnum):
    """`step_name()`: the step the next recovery attempt runs."""

    RELOAD = "reload"
    REFRESH_TOKEN = "refresh_token"
    EXTERNAL_REFRESH = "external_refresh"
    DONE = "done"


class ReloadOutcome(StrEnum):
    """What re-reading auth.json found (`reload_if_account_id_matches`)."""

    CHANGED = "reloaded_changed"
    NO_CHANGE = "reloaded_no_change"
    SKIPPED = "skipped"  # no expected account id, or the stored account differs


@dataclass(frozen=True, slots=True)
class AuthFacts:
    """What the machine asks the manager: is the cached auth ChatGPT auth, is a host refresher set."""

    chatgpt_auth: bool
    has_external_auth: bool


@dataclass(frozen=True, slots=True)
class StepSuccess:
    """A step that worked; the same request is then sent again with the current token."""

    state_changed: bool


@dataclass(frozen=True, slots=True)
class StepFailure:
    """`RefreshTokenError`: permanent (`RefreshTokenFailed`, fatal) or transient (`Io`, retryable).

    `reason` is the permanent failure's `RefreshTokenFailedReason` (expired, exhausted,
    revoked, other); `message` is the display text the turn reports. Never a token.
    """

    permanent: bool
    message: str
    reason: str | None = None


StepOutcome = StepSuccess | StepFailure


@dataclass(slots=True)
class UnauthorizedRecovery:
    """Where one model request is in its recovery; see the module docstring."""

    mode: RecoveryMode
    step: RecoveryStep
    expected_account_id: str | None

    @classmethod
    def start(cls, *, external: bool, account_id: str | None) -> UnauthorizedRecovery:
        """A fresh machine: external tokens start at `external_refresh`, others at `reload`."""
        if external:
            return cls(RecoveryMode.EXTERNAL, RecoveryStep.EXTERNAL_REFRESH, account_id)
        return cls(RecoveryMode.MANAGED, RecoveryStep.RELOAD, account_id)

    @property
    def mode_name(self) -> str:
        return self.mode.value

    @property
    def step_name(self) -> str:
        return self.step.value

    def has_next(self, facts: AuthFacts) -> bool:
        """Whether a 401 can run a step now (`has_next()`)."""
        return self.unavailable_reason(facts) == "ready"

    def unavailable_reason(self, facts: AuthFacts) -> str:
        """`ready`, `not_chatgpt_auth`, `no_external_auth` or `recovery_exhausted`."""
        if not facts.chatgpt_auth:
            return "not_chatgpt_auth"
        if self.mode is RecoveryMode.EXTERNAL and not facts.has_external_auth:
            return "no_external_auth"
        if self.step is RecoveryStep.DONE:
            return "recovery_exhausted"
        return "ready"

    def after_reload(self, outcome: ReloadOutcome) -> StepOutcome:
        """Reload ran: changed or not, the refresh step comes next; a mismatch ends recovery."""
        if outcome is ReloadOutcome.SKIPPED:
            self.step = RecoveryStep.DONE
            return StepFailure(permanent=True, message=ACCOUNT_MISMATCH_MESSAGE, reason="other")
        self.step = RecoveryStep.REFRESH_TOKEN
        return StepSuccess(state_changed=outcome is ReloadOutcome.CHANGED)

    def after_refresh(self, failure: StepFailure | None) -> StepOutcome:
        """`refresh_token` / `external_refresh` ran: success ends recovery (`done`).

        A failure leaves the step where it was, as codex's `?` returns before the
        assignment; the request fails anyway, so no later 401 sees it.
        """
        if failure is not None:
            return failure
        self.step = RecoveryStep.DONE
        return StepSuccess(state_changed=True)
