"""A base case made fuzzable, the in-memory case of one example, and a finding's case file.

A **base** is a bundled (or your own) case taken as the client under test's revision
meets it, with its server side relaxed so that only the client is on trial: no request
expectations, any number of requests (up to the scripted ones), any order, any client
message where the script waits for one, extra messages allowed, no close or EOF
assertions. The client's side changes in three bounded ways, so that a client's designed
patience fits the case's bound and only a client that ignores it hangs:

- ``responses``: ``stream_idle_timeout_ms`` at most :data:`IDLE_MS`, ``request_max_retries``
  and ``stream_max_retries`` at most 1, ``retry_base_delay_ms`` at most 10;
- ``realtime``: ``close_timeout_ms`` at most 500, ``open_timeout_ms`` at most 2000;
- every ``wait`` step waits at most :data:`WAIT_CAP` seconds and also ends on an event
  that says the client gave up (an error, a closed conversation, a completed turn).

The one assertion of every example is :data:`ESCAPED_ASSERTION` (no exception escaped to
the user, docs/fuzz.md); crashes and hangs need none (ERROR, TIMEOUT).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fake_server.script import for_revision, script_from_mapping
from harness.case.model import Case, ClientStep, EventAssertion, EventCheckKind
from harness.fuzz.mutate import STALL_SECONDS, Mutation, apply, describe
from harness.layer import Layer
from harness.verdict.events import EventScope, event_types


__all__ = [
    "ESCAPED",
    "ESCAPED_ASSERTION",
    "ESCAPED_EXCEPTIONS",
    "ESCAPED_MATCHER",
    "IDLE_MS",
    "STALLED_HANDSHAKE_BOUND",
    "WAIT_CAP",
    "Base",
    "example_case",
    "finding_mapping",
    "fuzz_config",
    "make_base",
    "plan_key",
]

IDLE_MS = 1000
WAIT_CAP = 1.0
STALLED_HANDSHAKE_BOUND = 20.0  # Codex (and the reference) give a websocket handshake 15 s, with no config knob
_TERMINAL = ({"type": "error"}, {"type": "realtime.error"}, {"type": "conversation.closed"}, {"type": "turn.completed"})

# Language-level exceptions: a client that lets one of these reach its user did not handle
# what the server sent (an SDK documents its own error types; these are not them).
ESCAPED_EXCEPTIONS = (
    "TypeError", "KeyError", "AttributeError", "IndexError", "NameError", "UnboundLocalError", "AssertionError",
    "RecursionError", "ZeroDivisionError", "NotImplementedError", "OverflowError", "MemoryError",
    "UnicodeDecodeError", "UnicodeEncodeError", "JSONDecodeError", "ReferenceError", "RangeError", "SyntaxError",
)
ESCAPED = re.compile(
    r"(?s)(?:(?:.*?: )?(?:[A-Za-z_][\w.]*\.)?(?:" + "|".join(ESCAPED_EXCEPTIONS) + r")(?::.*|\s*)"
    r"|.*(?:panicked at|Traceback \(most recent call last\)|Uncaught ).*)"
)
ESCAPED_MATCHER: dict[str, Any] = {"type": {"$any_of": ["error", "realtime.error"]}, "message": {"$regex": ESCAPED.pattern}}
_ESCAPED_WHY = ("no exception escapes to the user: an error the client reports is never a language-level exception "
                "(TypeError, KeyError, JSONDecodeError, a Rust panic, a traceback, ...; docs/fuzz.md)")
ESCAPED_ASSERTION = EventAssertion(kind=EventCheckKind.ABSENT, matchers=(ESCAPED_MATCHER,), path="expect.events[0]",
                                   layer=Layer.PROTOCOL, why=_ESCAPED_WHY)


@dataclass(frozen=True, slots=True)
class Base:
    """A case ready to be mutated: the revision's case, its raw mapping, the relaxed server."""

    case: Case
    raw: Mapping[str, Any]
    server: Mapping[str, Any]
    steps: tuple[ClientStep, ...]
    raw_steps: tuple[Mapping[str, Any], ...]
    config: Mapping[str, Any]
    revision: str


def _strip_revision(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != "revision"}


def _relaxed_server(server: Mapping[str, Any], revision: str) -> dict[str, Any]:
    out = {k: copy.deepcopy(v) for k, v in server.items() if k not in ("exchanges", "ordered")}
    out["ordered"] = False
    exchanges = []
    for ex in server.get("exchanges", []):
        if not for_revision(ex, revision):
            continue
        ex = _strip_revision(copy.deepcopy(ex))
        ex.pop("expect", None)
        times = ex.get("times", 1)
        top = times if isinstance(times, int) else times.get("max")
        ex["times"] = {"min": 0, "max": None if top is None and not isinstance(times, int) else max(1, int(top or 1))}
        if "websocket" in ex and "reject" not in ex:
            ex["extra_messages"] = "allow"
            script = []
            for step in ex.get("script", []):
                if not for_revision(step, revision):
                    continue
                step = _strip_revision(step)
                if "expect" in step or "expect_eventually" in step:
                    step = {"expect": {"$any": "value"}, **({"timeout": step["timeout"]} if "timeout" in step else {})}
                elif "expect_close" in step or "expect_eof" in step:
                    continue
                script.append(step)
            ex["script"] = script
        exchanges.append(ex)
    out["exchanges"] = exchanges
    return out


def fuzz_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The client's config with its patience bounded (see the module docstring)."""
    out = copy.deepcopy(dict(config))
    responses = out.get("responses")
    if isinstance(responses, dict):
        for key, cap, default in (("stream_idle_timeout_ms", IDLE_MS, 300_000), ("request_max_retries", 1, 4),
                                  ("stream_max_retries", 1, 5), ("retry_base_delay_ms", 10, 200)):
            responses[key] = min(int(responses.get(key, default)), cap)
    realtime = out.get("realtime")
    if isinstance(realtime, dict):
        for key, cap, default in (("close_timeout_ms", 500, 1000), ("open_timeout_ms", 2000, 10_000)):
            realtime[key] = min(int(realtime.get(key, default)), cap)
    return out


def _wait_args(args: Mapping[str, Any], scope: EventScope) -> dict[str, Any]:
    out = dict(args)
    out["timeout"] = min(float(args.get("timeout", 5.0)), WAIT_CAP)
    types = event_types(args["event"])
    if not types or any(scope.keeps(t) for t in types):
        out["event"] = {"$any_of": [args["event"], *copy.deepcopy(list(_TERMINAL))]}
    return out


def make_base(case: Case, raw: Mapping[str, Any], *, revision: str, scope: EventScope) -> Base:
    """``case`` (as loaded, every revision) and its YAML mapping, made fuzzable for ``revision``."""
    seen = case.for_revision(revision)
    steps = tuple(
        dataclasses.replace(step, args=_wait_args(step.args, scope), revisions=frozenset()) if step.op == "wait"
        else dataclasses.replace(step, revisions=frozenset())
        for step in seen.steps
    )
    raw_steps = []
    for step in raw.get("client", {}).get("steps", []):
        if not for_revision(step, revision):
            continue
        step = _strip_revision(step)
        if "wait" in step:
            step = {**step, "wait": _wait_args(step["wait"], scope)}
        raw_steps.append(step)
    return Base(case=case, raw=raw, server=_relaxed_server(raw["server"], revision), steps=steps, raw_steps=tuple(raw_steps),
                config=fuzz_config(case.config), revision=revision)


def _stalled_handshake(server: Mapping[str, Any]) -> bool:
    return any(float(ex.get("accept", {}).get("delay", 0)) >= STALL_SECONDS for ex in server.get("exchanges", []))


def bound(timeout: float, server: Mapping[str, Any]) -> float:
    """An example's bound: the base case's, or :data:`STALLED_HANDSHAKE_BOUND` when a websocket
    handshake never completes (the client's own handshake timeout must fit before a hang)."""
    return max(timeout, STALLED_HANDSHAKE_BOUND) if _stalled_handshake(server) else timeout


def example_case(base: Base, plan: Sequence[Mutation]) -> Case:
    """The in-memory case of one example: the base with ``plan`` applied to its server."""
    server = apply(base.server, plan)
    return dataclasses.replace(
        base.case,
        server=server,
        script=script_from_mapping(server, layer=base.case.layer.value),
        steps=base.steps,
        config=base.config,
        wire=(),
        timing=(),
        events=(ESCAPED_ASSERTION,),
        snapshot=False,
        revision=None,
        timeout=bound(base.case.timeout, server),
    )


def plan_key(base_index: int, plan: Sequence[Mutation]) -> str:
    """A stable key of an example (for memoising results and naming findings)."""
    text = json.dumps([base_index, [[m.op, m.at, m.arg, m.value] for m in plan]], ensure_ascii=True, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def finding_mapping(base: Base, plan: Sequence[Mutation], *, kind: str, signature: str, detail: str, seed: int,
                    implementation: str, key: str) -> dict[str, Any]:
    """The replayable case file of a finding (the case format, as a mapping)."""
    raw = base.raw
    client: dict[str, Any] = {k: copy.deepcopy(raw["client"][k]) for k in ("endpoint", "env") if k in raw.get("client", {})}
    client["config"] = fuzz_config(raw.get("client", {}).get("config", {}))
    client["steps"] = [copy.deepcopy(dict(s)) for s in base.raw_steps]
    server = apply(base.server, plan)
    mutated = "\n".join(f"  - {describe(m)}" for m in plan) or "  (none: the base case itself)"
    shown = detail.strip().splitlines()[0][:300] if detail.strip() else signature
    notes = (
        f"Found by `wireplay fuzz` (seed {seed}) against {implementation}: {kind} - {signature}.\n"
        f"What happened: {shown}\n"
        f"Base: {base.case.id} ({base.case.file.name}), revision {base.revision}, its server relaxed (no request expectations, "
        "any client message, any count and order) and the client's patience bounded (docs/fuzz.md).\n"
        f"Mutations of the server script, after shrinking:\n{mutated}\n"
        "Replay: wireplay run --cases <this file> with the same client. A crash replays as ERROR, a hang as TIMEOUT, "
        "an escaped exception as a FAIL of expect.events[0].\n"
    )
    data: dict[str, Any] = {
        "id": f"{base.case.area}.fuzz-{kind}-{key[:10]}",
        "title": f"fuzz finding ({kind}): {signature}",
        "seed": "fuzz",
        "requires": sorted(raw.get("requires", [])),
        "layer": "protocol",
        "timeout": bound(float(raw.get("timeout", 10.0)), server),
        "notes": notes,
    }
    if "profile" in raw:
        data["profile"] = copy.deepcopy(raw["profile"])
    data["client"] = client
    data["server"] = server
    data["expect"] = {"events": [{"absent": copy.deepcopy(ESCAPED_MATCHER), "why": _ESCAPED_WHY}], "snapshot": False}
    return data
