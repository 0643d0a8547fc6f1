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
import re
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fake_server.matchers import match, render
from fake_server.redact import redact_json, redact_text
from fake_server.server import FakeServer
from harness.adapters.base import Adapter, Endpoint, Session
from harness.case.model import Case
from harness.verdict.events import EventScope, EventsVerdict, judge_events
from harness.verdict.normalise import normalise_events, snapshot_text
from harness.verdict.outcome import Outcome
from harness.verdict.wire import WireVerdict, judge_wire


__all__ = ["CaseResult", "CaseRun", "judge", "run_case", "run_case_async"]

_SETTLE = 1.0
_WAIT_MARGIN = 0.25
_TEARDOWN = 3.0
_TRACE_TAIL = 40


@dataclass(slots=True)
class CaseRun:
    """What happened, before judging: events, transcript, findings, crash or timeout."""

    case: Case
    implementation: str
    status: str = "completed"  # completed | timeout | error | unsupported
    error: str = ""
    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    step_failures: list[str] = field(default_factory=list)
    event_problems: list[str] = field(default_factory=list)
    server_findings: list[str] = field(default_factory=list)
    records: list[Any] = field(default_factory=list)
    wire_log: list[dict[str, Any]] = field(default_factory=list)
    missing: frozenset[str] = frozenset()
    scope: EventScope = field(default_factory=EventScope)
    duration: float = 0.0

    def snapshot_text(self) -> str:
        return snapshot_text(normalise_events(e for _, e in self.events))


@dataclass(frozen=True, slots=True)
class CaseResult:
    """A judged case: outcome, both verdicts, and what a report needs."""

    case_id: str
    implementation: str
    outcome: Outcome
    wire: WireVerdict
    events: EventsVerdict
    duration: float
    detail: str
    wire_log: tuple[dict[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        """The report record; every string is redacted on the way out."""
        return redact_json({
            "id": self.case_id,
            "implementation": self.implementation,
            "outcome": self.outcome.value,
            "duration": round(self.duration, 4),
            "detail": self.detail,
            "wire": {"ok": self.wire.ok, "findings": list(self.wire.findings)},
            "events": {
                "ok": self.events.ok,
                "non_strict": self.events.non_strict,
                "problems": list(self.events.problems),
                "expected": self.events.expected,
                "received": self.events.actual,
                "diff": self.events.diff,
            },
            "wire_log": list(self.wire_log),
        })


def _merged_config(case: Case) -> dict[str, Any]:
    """The case's client config with its profile settings merged into each area."""
    config = copy.deepcopy(dict(case.config))
    for area, setting in case.profile.items():
        section = config.setdefault(area, {})
        if isinstance(setting, str):
            section["profile"] = setting
        else:
            base = section.get("profile")
            merged = {"preset": base} if isinstance(base, str) else dict(base or {})
            merged.update(setting)
            section["profile"] = merged
    return config


_PLACEHOLDER = re.compile(r"\$\{(tls|server):([a-z_-]+)\}")


def _resolve_placeholders(value: Any, *, origin: str, bundle: Callable[[str], Any] | None) -> Any:
    """Replace ``${server:origin}``, ``${server:ws_origin}`` and ``${tls:<bundle>}`` in config strings.

    They let a case configure base URLs and CA files that exist only once its server runs.
    """

    def one(m: re.Match[str]) -> str:
        kind, name = m.groups()
        if kind == "server":
            ws_origin = origin.replace("http", "ws", 1)
            values = {"origin": origin, "ws_origin": ws_origin}
            if name not in values:
                raise ValueError(f"unknown placeholder ${{server:{name}}}; expected origin or ws_origin")
            return values[name]
        if bundle is None:
            raise ValueError(f"${{tls:{name}}} needs server.tls: true in the case")
        return str(bundle(name))

    if isinstance(value, dict):
        return {k: _resolve_placeholders(v, origin=origin, bundle=bundle) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_placeholders(v, origin=origin, bundle=bundle) for v in value]
    if isinstance(value, str):
        return _PLACEHOLDER.sub(one, value)
    return value


class _Events:
    """Events reported by the implementation, stamped on the server's clock."""

    def __init__(self, run: CaseRun, now: Callable[[], float]) -> None:
        self.run = run
        self.now = now
        self.cursor = 0
        self.arrived = asyncio.Event()

    def emit(self, event: dict[str, Any]) -> None:
        if not isinstance(event, Mapping) or not isinstance(event.get("type"), str):
            self.run.event_problems.append(f"the implementation reported a non-event (needs a string 'type'): {event!r:.200}")
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


async def _drive(case: Case, session: Session, events: _Events, *, deadline: float) -> None:
    loop = asyncio.get_running_loop()
    for step in case.steps:
        if step.op == "sleep":
            await asyncio.sleep(float(step.args["seconds"]))
        elif step.op == "wait":
            # A wait never outlives the case: it ends a little before the case bound, so a
            # missing event is reported as that, not as a TIMEOUT of the whole case.
            timeout = min(float(step.args.get("timeout", 5.0)), max(0.05, deadline - loop.time() - _WAIT_MARGIN))
            if not await events.wait_for(step.args["event"], timeout=timeout):
                events.run.step_failures.append(
                    f"{step.path}.wait: no event matching {render(step.args['event'])} within {timeout:g}s"
                )
                return
        else:
            await session.handle(step.op, copy.deepcopy(dict(step.args)))


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
    """Run ``case`` against ``adapter``; never raises for anything the implementation does."""
    scope = EventScope(
        unreported=frozenset(getattr(adapter, "unreported_events", frozenset())),
        reported=frozenset(getattr(adapter, "reported_events", frozenset())),
    )
    run = CaseRun(case=case, implementation=adapter.name, scope=scope)
    missing = case.requires - adapter.capabilities
    if missing or getattr(adapter, "reason", None):
        run.status, run.missing = "unsupported", frozenset(missing)
        run.error = getattr(adapter, "reason", "") or ""
        return run
    started = time.monotonic()
    bundle: Callable[[str], Any] | None = None
    if case.tls and ssl_context is None:
        from fake_server.tls import tls_material

        material = tls_material()
        ssl_context, ca_file, bundle = material.server_context(), str(material.bundle("ca")), material.bundle
    server = FakeServer(case.script, ssl=ssl_context)
    events = _Events(run, server.transcript.now)
    session: Session | None = None
    bound = timeout if timeout is not None else case.timeout
    try:
        await server.start()
        scheme_origin = server.origin
        endpoint = Endpoint(origin=scheme_origin, base_url=f"{scheme_origin}/v1", ca_file=ca_file)
        config = _resolve_placeholders(_merged_config(case), origin=scheme_origin, bundle=bundle)
        async with asyncio.timeout(bound):
            session = await adapter.start(endpoint=endpoint, config=config, emit=events.emit, case_id=case.id)
            await _drive(case, session, events, deadline=asyncio.get_running_loop().time() + bound)
    except TimeoutError:
        run.status = "timeout"
        run.error = f"the case did not finish within its bound of {bound:g}s"
    except Exception:
        run.status = "error"
        run.error = _tail(traceback.format_exc())
    finally:
        if session is not None:
            # Teardown has its own bound, outside the case's: a slow release is not a slow case.
            try:
                await asyncio.wait_for(session.aclose(), _TEARDOWN)
            except Exception:
                if run.status == "completed":
                    run.status = "error"
                    run.error = "the implementation failed to shut down:\n" + _tail(traceback.format_exc())
        try:
            await server.settle(timeout=_SETTLE)
        finally:
            await server.aclose()
    run.server_findings = server.findings()
    run.records = list(server.transcript.records)
    run.wire_log = server.transcript.to_json()
    run.duration = time.monotonic() - started
    return run


def run_case(case: Case, *, adapter: Adapter, timeout: float | None = None) -> CaseRun:
    """Synchronous wrapper around :func:`run_case_async` (one event loop per case)."""
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


def judge(run: CaseRun, *, expected: str | None, snapshot_ok: bool | None = None) -> CaseResult:
    """Both verdicts and the outcome. ``snapshot_ok`` comes from syrupy when pytest runs it.

    The detail is what the console and JUnit print, so it leaves here redacted: the
    findings in it quote raw header and body values.
    """
    result = _judge(run, expected=expected, snapshot_ok=snapshot_ok)
    return dataclasses.replace(result, detail=redact_text(result.detail))


def _judge(run: CaseRun, *, expected: str | None, snapshot_ok: bool | None) -> CaseResult:
    case = run.case
    if run.status == "unsupported":
        wire = WireVerdict(findings=())
        ev = EventsVerdict(ok=True, actual="", expected=expected)
        detail = run.error or "missing capabilities: " + ", ".join(sorted(run.missing))
        return CaseResult(case.id, run.implementation, Outcome.UNSUPPORTED, wire, ev, 0.0, detail, ())
    wire = judge_wire(case, records=run.records, server_findings=run.server_findings, events=run.events)
    actual = run.snapshot_text()
    ev = judge_events(case, actual=actual, expected=expected, snapshot_ok=snapshot_ok, problems=[*run.step_failures, *run.event_problems], scope=run.scope)
    if run.status == "error":
        outcome, detail = Outcome.ERROR, run.error
    elif run.status == "timeout":
        outcome, detail = Outcome.TIMEOUT, run.error
    elif not wire.ok or not ev.ok:
        outcome = Outcome.FAIL
        parts = [f"wire: {f}" for f in wire.findings] + [f"events: {p}" for p in ev.problems]
        if not ev.ok and not ev.problems:
            parts.append("events: the reported events differ from the snapshot\n" + ev.diff)
        if not ev.ok:
            parts += [f"events: {p}" for p in _vocabulary_notes(run)]
        detail = "\n".join(parts)
    elif ev.non_strict:
        outcome, detail = Outcome.NON_STRICT, f"allowed alternative: {ev.non_strict}"
    else:
        outcome, detail = Outcome.PASS, ""
    return CaseResult(case.id, run.implementation, outcome, wire, ev, run.duration, detail, tuple(run.wire_log))
