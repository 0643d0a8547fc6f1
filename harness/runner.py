"""Run one case against one implementation: serve, drive, bound, judge.

The runner starts the case's fake server, starts the implementation through its
adapter, hands it the client steps (running ``wait``/``sleep`` itself), collects
the events it reports on the server's clock, and turns everything into a
``CaseResult``. Every wait is bounded by the case timeout, a crash becomes ERROR
with its traceback, and the server and client are always torn down.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fake_server.matchers import match, render
from fake_server.redact import redact_json, redact_text
from fake_server.server import FakeServer
from harness.adapters.base import Adapter, Session
from harness.case.model import Case, ClientStep
from harness.errors import Unsupported
from harness.layer import ALL_LAYERS, Layer
from harness.revision import SEED
from harness.serving import CaseServer
from harness.verdict.events import (
    EventScope,
    event_types,
    judge_events,
    report_problems,
    unreported_types,
)
from harness.verdict.finding import Finding, Plane
from harness.verdict.normalise import normalise_events, snapshot_text
from harness.verdict.outcome import Outcome, worst
from harness.verdict.wire import judge_wire, wire_layers


__all__ = ["CaseResult", "CaseRun", "adapter_layers", "adapter_revision", "adapter_scope", "judge", "judged_layers", "run_case", "run_case_async"]

_SETTLE = 1.0
_WAIT_MARGIN = 0.25
_TEARDOWN = 3.0
_TRACE_TAIL = 40
_EVENTS_SHOWN = 30
_QUIET = 0.2  # a wait on an event the implementation never reports ends after this much silence


def adapter_layers(adapter: Adapter) -> frozenset[Layer]:
    """The layers an implementation claims (both, unless it declares fewer)."""
    return frozenset(getattr(adapter, "layers", ALL_LAYERS))


def adapter_revision(adapter: Adapter) -> str:
    """The revision an implementation speaks (``seed`` unless it declares its own)."""
    return str(getattr(adapter, "revision", None) or SEED)


def adapter_scope(adapter: Adapter) -> EventScope:
    """The event types an implementation declares it reports."""
    return EventScope(
        unreported=frozenset(getattr(adapter, "unreported_events", frozenset())),
        reported=frozenset(getattr(adapter, "reported_events", frozenset())),
    )


def judged_layers(case: Case, *, layers: frozenset[Layer], scope: EventScope) -> frozenset[Layer]:
    """The claimed layers in which ``case`` asserts something this implementation can show."""
    events = {a.layer for a in case.events if not unreported_types(a, scope)}
    return layers & (wire_layers(case, scope=scope) | events)


@dataclass(slots=True)
class CaseRun:
    """What happened, before judging: events, transcript, findings, crash or timeout."""

    case: Case
    implementation: str
    status: str = "completed"  # completed | timeout | error | unsupported
    error: str = ""
    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    step_failures: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    event_problems: list[str] = field(default_factory=list)
    server_findings: list[Any] = field(default_factory=list)
    records: list[Any] = field(default_factory=list)
    wire_log: list[dict[str, Any]] = field(default_factory=list)
    missing: frozenset[str] = frozenset()
    layers: frozenset[Layer] = ALL_LAYERS
    scope: EventScope = field(default_factory=EventScope)
    running_step: str = ""
    steps: list[list[Any]] = field(default_factory=list)  # [label, started, ended | None] on the events' clock
    duration: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # serve, drive, settle (seconds): where the time went
    _normalised: list[dict[str, Any]] | None = None

    def normalised(self) -> list[dict[str, Any]]:
        """The events, normalised once (the snapshot and the report both read them)."""
        if self._normalised is None or len(self._normalised) != len(self.events):
            self._normalised = normalise_events(e for _, e in self.events)
        return self._normalised

    def snapshot_text(self) -> str:
        return snapshot_text(self.normalised())

    def timed_events(self) -> list[dict[str, Any]]:
        """The normalised events, each with ``t_ms``: its time since the case started."""
        return [{"t_ms": round(t * 1000, 1), **e} for (t, _), e in zip(self.events, self.normalised(), strict=True)]


@dataclass(frozen=True, slots=True)
class CaseResult:
    """A judged case: the outcome overall and per layer, the findings, what a report needs."""

    case_id: str
    implementation: str
    outcome: Outcome
    layers: dict[Layer, Outcome | None]
    findings: tuple[Finding, ...]
    duration: float
    detail: str
    wire_log: tuple[dict[str, Any], ...]
    title: str = ""
    non_strict: tuple[tuple[Layer, str], ...] = ()
    not_judged: tuple[str, ...] = ()
    events: tuple[dict[str, Any], ...] = ()
    phases: Mapping[str, float] = field(default_factory=dict)  # serve, drive, settle, judge (seconds)

    def of_plane(self, plane: Plane) -> list[Finding]:
        return [f for f in self.findings if f.plane is plane]

    def to_json(self) -> dict[str, Any]:
        """The report record; every string is redacted on the way out."""
        wire = self.of_plane(Plane.WIRE)
        events = self.of_plane(Plane.EVENTS)
        record: dict[str, Any] = redact_json({
            "id": self.case_id,
            "title": self.title,
            "implementation": self.implementation,
            "outcome": self.outcome.value,
            "layers": {layer.value: (o.value if o is not None else None) for layer, o in sorted(self.layers.items())},
            "duration": round(self.duration, 4),
            "detail": self.detail,
            "wire": {"ok": not wire, "findings": [f.to_json() for f in wire]},
            "events": {
                "ok": not events,
                "findings": [f.to_json() for f in events],
                "non_strict": [{"layer": layer.value, "why": why} for layer, why in self.non_strict],
                "received": list(self.events),
            },
            "not_judged": list(self.not_judged),
            "phases_ms": {k: round(v * 1000, 2) for k, v in self.phases.items()},
            "wire_log": list(self.wire_log),
        })
        return record


class _Events:
    """Events reported by the implementation, stamped on the server's clock."""

    def __init__(self, run: CaseRun, now: Callable[[], float]) -> None:
        self.run = run
        self.now = now
        self.cursor = 0
        self.arrived = asyncio.Event()

    def emit(self, event: dict[str, Any]) -> None:
        if not isinstance(event, Mapping) or not isinstance(event.get("type"), str):
            self.run.event_problems.append(f"the implementation reported a non-event (needs a string 'type'): {redact_text(repr(event))[:200]}")
            return
        self.run.events.append((self.now(), dict(event)))
        self.arrived.set()

    async def wait_for(self, expected: Any, *, timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for i in range(self.cursor, len(self.run.events)):
                if match(expected, self.run.events[i][1]) is None:
                    self.cursor = i + 1
                    return True
            self.arrived.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self.arrived.wait(), remaining)
            except TimeoutError:
                return False


async def _wait(step: ClientStep, events: _Events, server: FakeServer, *, deadline: float) -> bool:
    """Run a ``wait``; False stops the case (a failed wait in a layer that is judged).

    A wait on event types the implementation never reports cannot be met: instead of
    running out its bound it ends when the server falls quiet (it has sent what the
    script gives before the client's next move), and the case goes on.
    """
    run = events.run
    loop = asyncio.get_running_loop()
    # A wait never outlives the case: it ends a little before the case bound, so a
    # missing event is reported as that, not as a TIMEOUT of the whole case.
    timeout = min(float(step.args.get("timeout", 5.0)), max(0.05, deadline - loop.time() - _WAIT_MARGIN))
    wanted = render(step.args["event"])
    types = event_types(step.args["event"])
    if types and not any(run.scope.keeps(t) for t in types):
        await server.quiet(idle=_QUIET, timeout=timeout)
        run.notes.append(f"{step.path}.wait [{step.layer}]: not judged, {run.implementation} does not report {', '.join(sorted(types))}; the case went on once the server was quiet")
        return True
    if await events.wait_for(step.args["event"], timeout=timeout):
        return True
    if step.layer not in run.layers:
        run.notes.append(f"{step.path}.wait [{step.layer}]: no event matching {wanted} within {timeout:g}s; not judged for {run.implementation}, the case went on")
        return True
    run.step_failures.append(Finding(Plane.EVENTS, step.layer, f"{step.path}.wait: no event matching {wanted} within {timeout:g}s"))
    return False


async def _drive(case: Case, session: Session, events: _Events, server: FakeServer, *, deadline: float) -> None:
    for step in case.steps:
        events.run.running_step = f"{step.path} ({step.op})"
        # When each step started and ended, on the events' clock: a failure shows the
        # step that was running beside the events received so far.
        timing: list[Any] = [events.run.running_step + (f" x{step.repeat}" if step.repeat > 1 else ""), events.now(), None]
        events.run.steps.append(timing)
        go_on = await _step(step, session, events, server, deadline=deadline)
        timing[2] = events.now()
        if not go_on:
            return
    events.run.running_step = ""


async def _step(step: ClientStep, session: Session, events: _Events, server: FakeServer, *, deadline: float) -> bool:
    """One client step; False stops the case (a failed wait in a judged layer)."""
    if step.op == "sleep":
        await asyncio.sleep(float(step.args["seconds"]))
    elif step.op == "wait":
        return await _wait(step, events, server, deadline=deadline)
    else:
        for n in range(step.repeat):
            if step.repeat > 1:
                events.run.running_step = f"{step.path} ({step.op}, {n + 1} of {step.repeat})"
            await session.handle(step.op, copy.deepcopy(dict(step.args)))
    return True


async def _release(session: Session | None, run: CaseRun, *, quiet: bool) -> None:
    """Close the implementation's session with a bound of its own, outside the case's (a
    slow release is not a slow case); a failure to shut down is an ERROR unless the case
    already ended otherwise (``quiet``)."""
    if session is None:
        return
    try:
        await asyncio.wait_for(session.aclose(), _TEARDOWN)
    except Exception:
        if not quiet and run.status == "completed":
            run.status = "error"
            run.error = "the implementation failed to shut down:\n" + _tail(traceback.format_exc())


def _tail(text: str) -> str:
    lines = text.rstrip().splitlines()
    return "\n".join(lines[-_TRACE_TAIL:])


async def run_case_async(
    case: Case,
    *,
    adapter: Adapter,
    timeout: float | None = None,
    ssl_context: Any = None,
    ca_file: str | None = None,
) -> CaseRun:
    """Run ``case`` against ``adapter``; never raises for anything the implementation does.

    The case is taken as the implementation's revision meets it: only the exchanges,
    steps and checks that hold for that revision.
    """
    case = case.for_revision(adapter_revision(adapter))
    layers, scope = adapter_layers(adapter), adapter_scope(adapter)
    run = CaseRun(case=case, implementation=adapter.name, scope=scope, layers=layers)
    missing = case.requires - adapter.capabilities
    if missing or getattr(adapter, "reason", None):
        run.status, run.missing = "unsupported", frozenset(missing)
        run.error = getattr(adapter, "reason", "") or ""
        return run
    if not judged_layers(case, layers=layers, scope=scope):
        run.status = "unsupported"
        claimed = ", ".join(sorted(layers))
        run.error = f"nothing left to judge: {case.id} asserts nothing in the layers {adapter.name} claims ({claimed}) that it can report"
        return run
    started = time.monotonic()
    # Serving (TLS, listeners, proxy, placeholders, teardown): harness.serving, shared with
    # `wireplay serve` and the wireplay_server fixture.
    served = CaseServer(case, ssl_context=ssl_context, ca_file=ca_file, settle=_SETTLE)
    server = served.server
    events = _Events(run, served.now)
    bound = timeout if timeout is not None else case.timeout
    driven = started
    try:
        async with served:
            assert served.endpoint is not None
            run.phases["serve"] = time.monotonic() - started
            session: Session | None = None
            try:
                async with asyncio.timeout(bound):
                    session = await adapter.start(endpoint=served.endpoint, config=served.config, emit=events.emit, case_id=case.id)
                    await _drive(case, session, events, server, deadline=asyncio.get_running_loop().time() + bound)
            except BaseException:
                driven = time.monotonic()
                await _release(session, run, quiet=True)
                raise
            driven = time.monotonic()
            await _release(session, run, quiet=False)
    except Unsupported as exc:
        run.status = "unsupported"
        run.error = f"{adapter.name} cannot do what this case asks: {exc}"
    except TimeoutError:
        run.status = "timeout"
        step = f" while running {run.running_step}" if run.running_step else ""
        run.error = f"the case did not finish within its bound of {bound:g}s{step}"
    except Exception:
        run.status = "error"
        step = f"while running {run.running_step}:\n" if run.running_step else ""
        run.error = step + _tail(traceback.format_exc())
    run.server_findings = served.findings()
    run.records = list(served.records)
    run.wire_log = served.wire_log()
    ended = time.monotonic()
    run.duration = ended - started
    if "serve" in run.phases:
        run.phases["drive"] = driven - started - run.phases["serve"]
        run.phases["settle"] = ended - driven  # the session's release, the server's teardown and settle
    return run


def run_case(case: Case, *, adapter: Adapter, timeout: float | None = None, loop: asyncio.Runner | None = None) -> CaseRun:
    """Synchronous wrapper around :func:`run_case_async`: on ``loop`` when given (one event
    loop for many cases, so a driver process can serve them in turn), else on a loop of its own."""
    if loop is not None:
        return loop.run(run_case_async(case, adapter=adapter, timeout=timeout))
    return asyncio.run(run_case_async(case, adapter=adapter, timeout=timeout))


def _vocabulary_notes(run: CaseRun, *, limit: int = 10) -> list[str]:
    """Events outside the neutral vocabulary (checked only when the events plane failed)."""
    from harness.vocabulary import vocabulary_problems

    notes: list[str] = []
    checked: dict[object, int] = {}
    for _, event in run.events:
        kind = event.get("type")
        checked[kind] = checked.get(kind, 0) + 1
        if checked[kind] > 3:  # a few of each type tell the story; a flood must not cost minutes
            continue
        for problem in vocabulary_problems(event):
            if problem not in notes:
                notes.append(problem)
        if len(notes) >= limit:
            break
    return notes[:limit]


def judge(run: CaseRun) -> CaseResult:
    """Both planes, judged per layer, and the outcome.

    The detail is what the console and JUnit print, so it leaves here redacted: the
    findings in it quote raw header and body values.
    """
    started = time.monotonic()
    result = _judge(run)
    phases = {**run.phases, "judge": time.monotonic() - started} if run.phases else {}
    return dataclasses.replace(result, detail=redact_text(result.detail), phases=phases)


def _steps_shown(run: CaseRun) -> str:
    """The client steps with when each started and ended (the events' clock), the one the case
    stopped in marked, and the server's time marks: read beside the events received."""
    lines = []
    stopped = run.status in ("timeout", "error") or bool(run.step_failures)
    for i, (label, started, ended) in enumerate(run.steps):
        last = i == len(run.steps) - 1
        end = f"{ended * 1000:>8.1f}" if ended is not None else "       …"
        flag = ""
        if last and ended is None:
            flag = "  ◀ running when the case stopped"
        elif last and stopped:
            flag = "  ◀ the case stopped here"
        lines.append(f"  {started * 1000:>8.1f} → {end} ms  {label}{flag}")
    if len(run.steps) == len(run.case.steps) and not stopped and all(s[2] is not None for s in run.steps):
        lines.append(f"  all {len(run.steps)} step(s) ran")
    marks = [f"{r.data.get('name')} at {r.t * 1000:.1f} ms" for r in run.records if r.kind == "mark"]
    shown = "steps (started → ended):\n" + ("\n".join(lines) if lines else "  none started")
    if marks:
        shown += "\nserver marks: " + ", ".join(marks[:_EVENTS_SHOWN]) + (f" (and {len(marks) - _EVENTS_SHOWN} more)" if len(marks) > _EVENTS_SHOWN else "")
    return shown


def _events_shown(timed: tuple[dict[str, Any], ...]) -> str:
    lines = [f"  {e['t_ms']:>8.1f} ms  {json.dumps({k: v for k, v in e.items() if k != 't_ms'}, ensure_ascii=False)[:240]}" for e in timed[-_EVENTS_SHOWN:]]
    more = f" (the last {_EVENTS_SHOWN} of {len(timed)})" if len(timed) > _EVENTS_SHOWN else ""
    return f"events received{more}:\n" + ("\n".join(lines) if lines else "  none")


def _judge(run: CaseRun) -> CaseResult:
    case = run.case
    if run.status == "unsupported":
        detail = run.error or "missing capabilities: " + ", ".join(sorted(run.missing))
        return CaseResult(case.id, run.implementation, Outcome.UNSUPPORTED, dict.fromkeys(ALL_LAYERS), (), 0.0, detail, (), title=case.title)
    judged = set(judged_layers(case, layers=run.layers, scope=run.scope))
    wire = judge_wire(case, records=run.records, server_findings=run.server_findings, events=run.events, layers=run.layers, scope=run.scope, implementation=run.implementation)
    events = judge_events(case, events=run.events, records=run.records, layers=run.layers, scope=run.scope, implementation=run.implementation)
    judged |= events.judged | {f.layer for f in run.step_failures if f.layer is not None}
    problems = [Finding(Plane.EVENTS, None, p) for p in run.event_problems] + report_problems(run.events, bound=case.timeout)
    findings = (*wire.findings, *run.step_failures, *events.findings, *problems)
    not_judged = (*run.notes, *wire.not_judged, *events.not_judged)
    layers: dict[Layer, Outcome | None] = {}
    for layer in ALL_LAYERS:
        if layer not in judged:
            layers[layer] = None
        elif run.status == "error":
            layers[layer] = Outcome.ERROR
        elif run.status == "timeout":
            layers[layer] = Outcome.TIMEOUT
        elif any(f.layer in (layer, None) for f in findings):
            layers[layer] = Outcome.FAIL
        elif any(ns_layer is layer for ns_layer, _ in events.non_strict):
            layers[layer] = Outcome.NON_STRICT
        else:
            layers[layer] = Outcome.PASS
    timed = tuple(run.timed_events())
    outcomes = [o for o in layers.values() if o is not None]
    if not outcomes:
        detail = f"nothing left to judge: every assertion of {case.id} is about what {run.implementation} does not report\n" + "\n".join(not_judged)
        return CaseResult(case.id, run.implementation, Outcome.UNSUPPORTED, layers, (), run.duration, detail, tuple(run.wire_log), title=case.title, not_judged=not_judged, events=timed)
    outcome = worst(outcomes)
    parts: list[str] = []
    if run.status in ("error", "timeout"):
        parts.append(run.error)
    if outcome in (Outcome.FAIL, Outcome.TIMEOUT, Outcome.ERROR):
        parts += [str(f) for f in findings]
        if any(f.plane is Plane.EVENTS for f in findings):
            parts += [f"events: {p}" for p in _vocabulary_notes(run)]
        parts.append(_steps_shown(run))
        parts.append(_events_shown(timed))
    elif outcome is Outcome.NON_STRICT:
        parts += [f"allowed alternative [{layer}]: {why}" for layer, why in events.non_strict]
    detail = "\n".join(p for p in parts if p)
    return CaseResult(
        case.id, run.implementation, outcome, layers, findings, run.duration, detail, tuple(run.wire_log),
        title=case.title, non_strict=events.non_strict, not_judged=not_judged, events=timed,
    )
