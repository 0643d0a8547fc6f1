"""Revision profile: the settings where Codex revisions R-A, R-C and later disagree.

The realtime code changed often (realtime-wire §0, §10.1), so every revision-dependent
choice lives here instead of being hard-coded, and a case can pick a preset and
override single settings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from harness.client.realtime.kinds import SessionKind


__all__ = [
    "DEFAULT_PRESET",
    "PRESETS",
    "RealtimeProfile",
    "V2SessionShape",
    "resolve_profile",
]


class V2SessionShape(StrEnum):
    """How much a v2 conversational `session.update` says (realtime-wire §3.2)."""

    MINIMAL = "minimal"
    """R-A: voice only, no formats, noise reduction, turn detection or tool_choice."""
    FULL = "full"
    """R-C: output modalities, input/output formats, near-field noise reduction, server VAD."""


_RC_TOOL_DESCRIPTION = (
    "Delegate a request to Codex and return the final result to the user. Use this as the "
    "default action. If the user asks to do something next, later, after this, or once "
    "current work finishes, call this tool so the work is actually queued instead of "
    "merely promising to do it later."
)
_LATER_TOOL_DESCRIPTION = (
    "Send a user request to the background agent. Use this as the default action. Do not "
    "rephrase the user's ask or rewrite it in your own words; pass along the user's own "
    "words. If the background agent is idle, this starts a new task and returns the final "
    "result to the user. If the background agent is already working on a task, this sends "
    "the request as guidance to steer that previous task. If the user asks to do something "
    "next, later, after this, or once current work finishes, call this tool so the work is "
    "actually queued instead of merely promising to do it later."
)

_BOTH = frozenset({SessionKind.V1, SessionKind.V2})
_V1_ONLY = frozenset({SessionKind.V1})


@dataclass(frozen=True, slots=True, kw_only=True)
class RealtimeProfile:
    """Revision-dependent client behaviour; the defaults are revision R-C."""

    name: str = "r-c"
    """Preset the settings came from (informational)."""
    default_version: SessionKind = SessionKind.V1
    """Protocol used when the config names no `version` (realtime-wire §2)."""
    v1_voice: str = "fathom"
    """`audio.output.voice` of the v1 session (realtime-wire §3.1)."""
    v2_voice: str = "marin"
    """`audio.output.voice` of the v2 conversational session (realtime-wire §3.2)."""
    v2_session_shape: V2SessionShape = V2SessionShape.FULL
    """R-A minimal or R-C full v2 conversational session (realtime-wire §3.2)."""
    tool_name: str = "codex"
    """Name of the delegation function tool, advertised and recognised (§3.2, §4.2)."""
    tool_description: str = _RC_TOOL_DESCRIPTION
    tool_prompt_description: str = "The user request to delegate to Codex."
    final_message_prefix_versions: frozenset[SessionKind] = _BOTH
    """Versions whose handoff output gets the `"Agent Final Message"` prefix (§3.6)."""
    handoff_transcript_versions: frozenset[SessionKind] = _V1_ONLY
    """Versions whose handoffs get the accumulated active transcript (realtime-wire §5)."""
    v1_alpha_header: bool = False
    """Send `openai-alpha: quicksilver=v1` on the v1 handshake (later, realtime-wire §11)."""
    default_model: str | None = None
    """`model` query parameter used when the config names none (later: gpt-realtime-1.5)."""
    pre_split: bool = False
    """The first revision's protocol (realtime-wire §9, seed realtime-session-create): a
    `session.create{session:{backend_prompt, conversation_id?}}` handshake, `session.update`
    with the same shape for a prompt change, `response.input_audio.delta` audio, a `/ws`
    path for a base URL without one, no intent and no model in the URL."""
    transcript_done_events: bool = False
    """[later] `InputTranscriptDone` / `OutputTranscriptDone` (realtime-wire §4.1, §4.2): the
    completed input transcription is a done event instead of one more delta, and the
    output `*.done` events are reported too."""
    noop_tool: str | None = None
    """[later] the function tool whose call asks the assistant to stay silent (`remain_silent`):
    reported as a no-op request and answered with an empty function_call_output, no
    response.create (codex-api protocol_v2.rs later, core realtime_conversation.rs later)."""

    def overridden(self, overrides: Mapping[str, Any]) -> RealtimeProfile:
        """Return a copy with single settings replaced; raises ValueError on unknown keys."""
        known = {field.name for field in dataclasses.fields(self)}
        changes: dict[str, Any] = {}
        for key, value in overrides.items():
            if key not in known:
                raise ValueError(f"unknown realtime profile setting: {key}")
            changes[key] = _coerce(key, value)
        return dataclasses.replace(self, **changes)


def _versions(value: Iterable[str]) -> frozenset[SessionKind]:
    if isinstance(value, str):
        raise ValueError("a profile version set must be a list such as ['v1', 'v2']")
    return frozenset(SessionKind(item) for item in value)


def _coerce(key: str, value: Any) -> Any:
    if key == "default_version":
        return SessionKind(value)
    if key == "v2_session_shape":
        return V2SessionShape(value)
    if key in ("final_message_prefix_versions", "handoff_transcript_versions"):
        return _versions(value)
    if key in ("pre_split", "transcript_done_events", "v1_alpha_header") and not isinstance(
        value, bool
    ):
        raise ValueError(f"realtime profile setting {key} must be a boolean")
    return value


PRESETS: Mapping[str, RealtimeProfile] = {
    # The first revision (R-A-0, realtime-wire §9): codex-api endpoint/realtime_websocket.rs
    # before the v1/v2 split; only the wire shapes differ from R-A in what is modelled.
    "r-a-0": RealtimeProfile(
        name="r-a-0",
        v2_voice="alloy",
        v2_session_shape=V2SessionShape.MINIMAL,
        tool_description="Delegate work to Codex and return the result.",
        tool_prompt_description="Prompt text for the delegated Codex task.",
        final_message_prefix_versions=frozenset(),
        handoff_transcript_versions=_BOTH,
        pre_split=True,
    ),
    "r-a": RealtimeProfile(
        name="r-a",
        v2_voice="alloy",
        v2_session_shape=V2SessionShape.MINIMAL,
        tool_description="Delegate work to Codex and return the result.",
        tool_prompt_description="Prompt text for the delegated Codex task.",
        final_message_prefix_versions=frozenset(),
        handoff_transcript_versions=_BOTH,
    ),
    "r-c": RealtimeProfile(),
    # Partial: only the settings above; later-only features (text modality, steering
    # acknowledgements, delegation wrapping, the remain_silent tool in session.update) are
    # not modelled. The *.done transcript events and the noop tool's answer are.
    "later": RealtimeProfile(
        name="later",
        default_version=SessionKind.V2,
        v1_voice="cove",
        tool_name="background_agent",
        tool_description=_LATER_TOOL_DESCRIPTION,
        tool_prompt_description="The user request to delegate to the background agent.",
        final_message_prefix_versions=_V1_ONLY,
        handoff_transcript_versions=_BOTH,
        v1_alpha_header=True,
        default_model="gpt-realtime-1.5",
        transcript_done_events=True,
        noop_tool="remain_silent",
    ),
}
DEFAULT_PRESET = "r-c"


def resolve_profile(value: str | Mapping[str, Any] | None) -> RealtimeProfile:
    """Build a profile from the config key `profile`.

    `None` is the default preset, a string names a preset, and a mapping may name a
    `preset` and override single settings, e.g. `{"preset": "r-a", "v2_voice": "marin"}`.
    """
    if value is None:
        return PRESETS[DEFAULT_PRESET]
    if isinstance(value, str):
        return _preset(value)
    overrides = dict(value)
    base = _preset(overrides.pop("preset", DEFAULT_PRESET))
    return base.overridden(overrides)


def _preset(name: str) -> RealtimeProfile:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(
            f"unknown realtime profile preset: {name} (expected one of {', '.join(PRESETS)})"
        ) from None
