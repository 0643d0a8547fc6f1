"""The decisions an application makes on top of the SDK (``client.config.policy``).

Defaults are what the SDK itself does; the hello announces them (``policy``, the shape the
openai-node driver announces too), and a case sets a key only when its subject is that
decision (schemas/config/policy.schema.json, docs/impl-openai-python.md "Policies").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from harness.impls.openai_python.sdkdriver.errors import Unsupported


__all__ = ["CHOICES", "DEFAULT", "Policy"]

CHOICES: dict[str, tuple[str, ...]] = {
    # none: every request carries the whole conversation (the SDK never chains by itself);
    # previous_response_id: on the websocket, a request extending the previous one plus its
    # output is sent as previous_response_id + the new items while that socket is open.
    "chaining": ("none", "previous_response_id"),
    # After response.failed / incomplete / a server error frame: the SDK leaves the socket
    # open (keep_connection), or the app closes it (drop_connection).
    "after_failure": ("keep_connection", "drop_connection"),
    # A frame or SSE line the SDK cannot parse (recv() / the stream raise JSONDecodeError):
    # sdk = what the SDK's own iteration does (its `async for` ends: the Responses turn
    # fails, the realtime conversation ends); fail_turn; skip_frame; end_conversation.
    "parse_failure": ("sdk", "fail_turn", "skip_frame", "end_conversation"),
    # A realtime server `error` event: the SDK keeps the socket (continue), or the app ends it.
    "realtime_error": ("continue", "end_conversation"),
}


@dataclass(frozen=True, slots=True)
class Policy:
    chaining: str = "none"
    after_failure: str = "keep_connection"
    parse_failure: str = "sdk"
    realtime_error: str = "continue"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Policy:
        """``client.config.policy`` over the defaults; an unknown key or value is Unsupported."""
        section = config.get("policy")
        if section is None:
            return DEFAULT
        if not isinstance(section, Mapping):
            raise Unsupported(f"client.config.policy must be an object, not {section!r}")
        known = {f.name for f in fields(cls)}
        changes: dict[str, str] = {}
        for key, value in section.items():
            if key not in known:
                raise Unsupported(f"openai-python has no policy {key!r} (it has {', '.join(sorted(known))})")
            if value not in CHOICES[key]:
                raise Unsupported(f"openai-python cannot run policy {key}: {value!r} (it runs {', '.join(CHOICES[key])})")
            changes[key] = str(value)
        return replace(DEFAULT, **changes)

    def hello(self) -> dict[str, str]:
        """The hello's ``policy``: these keys, and how retries are decided (not configurable)."""
        return {**asdict(self), "retries": "request_max_retries"}

    def responses_parse(self) -> str:
        """What a Responses websocket frame the SDK cannot parse does: fail_turn, skip_frame or end_conversation."""
        return "fail_turn" if self.parse_failure == "sdk" else self.parse_failure

    def realtime_parse(self) -> str:
        """The same for a realtime frame: the SDK's iteration ends, so sdk ends the conversation."""
        return "end_conversation" if self.parse_failure == "sdk" else self.parse_failure


DEFAULT = Policy()
