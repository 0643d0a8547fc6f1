"""The wire plane: the transcript against the case's expectations.

It works for any black-box client: it only reads what the fake server recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fake_server.matchers import match, render
from fake_server.transcript import Finding as ServerFinding
from fake_server.transcript import Record
from harness.case.model import Case, TimingCheck, WireCheck
from harness.layer import Layer
from harness.verdict.events import EventScope, event_types
from harness.verdict.finding import Finding, Plane


__all__ = ["WireVerdict", "judge_wire", "wire_layers"]


@dataclass(frozen=True, slots=True)
class WireVerdict:
    """Every wire failure in a claimed layer, in the order found; and what was not judged."""

    findings: tuple[Finding, ...]
    not_judged: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.findings


def _request_view(record: Record) -> dict[str, Any]:
    return {
        "kind": "websocket" if record.data.get("websocket") else "http",
        "method": record.data["method"],
        "target": record.data.get("target", ""),
        "path": record.data["path"],
        "query": record.data.get("query", {}),
        "headers": dict(record.data.get("headers", [])),
        "body": record.data.get("body"),
        "listener": record.data.get("listener", "main"),
    }


def _views(records: Sequence[Record]) -> list[dict[str, Any]]:
    """Requests, and every websocket message a client sent (``kind: message``).

    A message carries its connection's upgrade request (path, query, headers, target)
    and, as ``body``, its JSON value (or ``{"$text": ...}`` / ``{"$binary": ...}``), so a
    wire check can select and assert client frames as it does requests. A leading
    prewarm create the server answered itself is ``kind: prewarm``, not a message.
    """
    views: list[dict[str, Any]] = []
    upgrades: dict[int, dict[str, Any]] = {}
    for r in records:
        if r.kind == "request":
            view = _request_view(r)
            views.append(view)
            if view["kind"] == "websocket":
                upgrades[r.conn] = view
        elif r.kind == "ws_recv" and r.conn in upgrades:
            if r.data.get("opcode") == "text":
                body = r.data["json"] if r.data.get("json") is not None else {"$text": r.data.get("text", "")}
            else:
                body = {"$binary": r.data.get("data", "")}
            kind = "prewarm" if r.data.get("prewarm") else "message"
            views.append({**upgrades[r.conn], "kind": kind, "method": "", "body": body})
    return views


_FRAMES = frozenset({"message", "prewarm"})  # client frames, not requests: ``kind: any`` leaves them out


def _select(requests: Sequence[dict[str, Any]], selector: Mapping[str, Any]) -> list[dict[str, Any]]:
    chosen = []
    for req in requests:
        kind = selector.get("kind", "any")
        if req["kind"] != kind and (kind != "any" or req["kind"] in _FRAMES):
            continue
        probe = {k: v for k, v in selector.items() if k != "kind"}
        if match(probe, req) is None:
            chosen.append(req)
    return chosen


def _check_request(req: dict[str, Any], expected: Mapping[str, Any], *, where: str) -> list[str]:
    found = []
    for part in ("target", "headers", "query", "body"):
        if part in expected:
            miss = match(expected[part], req[part], path=part)
            if miss:
                found.append(f"{where}.{miss}")
    return found


def _wire_check(check: WireCheck, requests: Sequence[dict[str, Any]]) -> list[str]:
    chosen = _select(requests, check.selector)
    why = f" ({check.why})" if check.why else ""
    found = []
    if check.count is not None:
        n = len(chosen)
        if n < check.count.min or (check.count.max is not None and n > check.count.max):
            found.append(f"{check.path}: expected {check.count.describe()} {'message' if check.selector.get('kind') == 'message' else 'request'}(s) matching {render(dict(check.selector))}, got {n}{why}")
    if check.each is not None:
        for i, req in enumerate(chosen):
            found += _check_request(req, check.each, where=f"{check.path}.each[request {i}]")
    for part in check.same:
        for i, req in enumerate(chosen[1:], start=1):
            if req[part] != chosen[0][part]:
                found.append(f"{check.path}.same.{part}: request {i} differs from request 0{why}: {render(req[part])} vs {render(chosen[0][part])}")
                break
    for i, expected in enumerate(check.items):
        if i >= len(chosen):
            found.append(f"{check.path}.items[{i}]: no request #{i} matching {render(dict(check.selector))} (got {len(chosen)}){why}")
            break
        found += _check_request(chosen[i], expected, where=f"{check.path}.items[{i}]")
    return found


def _first_mark(records: Sequence[Record], name: str, *, after: float = 0.0) -> float | None:
    return next((r.t for r in records if r.kind == "mark" and r.data.get("name") == name and r.t >= after), None)


def _first_event(events: Sequence[tuple[float, Mapping[str, Any]]], want: Any, *, after: float = 0.0) -> float | None:
    return next((t for t, e in events if t >= after and match(want, e) is None), None)


def _timing_check(check: TimingCheck, records: Sequence[Record], events: Sequence[tuple[float, Mapping[str, Any]]]) -> list[str]:
    if check.from_mark is not None:
        start = _first_mark(records, check.from_mark)
        start_name = f"mark '{check.from_mark}'"
    else:
        start = _first_event(events, check.from_event)
        start_name = render(check.from_event)
    if start is None:
        return [f"{check.path}: the start never came: {'the server never reached ' if check.from_mark else 'no event matching '}{start_name}"]
    if check.to_mark is not None:
        end = _first_mark(records, check.to_mark, after=start)
        end_name = f"mark '{check.to_mark}'"
    else:
        end = _first_event(events, check.to_event, after=start)
        end_name = render(check.to_event)
    if end is None:
        return [f"{check.path}: no {end_name} after {start_name} (bound {check.within:g}s)"]
    took = end - start
    if took > check.within:
        return [f"{check.path}: {end_name} came {took:.3f}s after {start_name}, bound {check.within:g}s"]
    if took < check.at_least:
        return [f"{check.path}: {end_name} came {took:.3f}s after {start_name}, sooner than the {check.at_least:g}s it must take"]
    return []


def _timing_types(check: TimingCheck) -> frozenset[str]:
    return event_types(check.from_event) | event_types(check.to_event)


def wire_layers(case: Case, *, scope: EventScope) -> frozenset[Layer]:
    """The layers in which the wire plane of ``case`` asserts anything (before running it).

    Every exchange asserts that its requests arrive as scripted; ``expect`` blocks and
    expect steps assert what they carry; wire and timing checks theirs. A timing check
    on an event type the implementation never reports asserts nothing for it.
    """
    layers = {Layer(ex.layer) for ex in case.script.exchanges}
    layers |= {Layer(ex.expect_layer) for ex in case.script.exchanges if ex.expect}
    layers |= {Layer(step.layer) for ex in case.script.exchanges for step in ex.script if step.op.startswith("expect")}
    layers |= {check.layer for check in case.wire}
    layers |= {t.layer for t in case.timing if all(scope.keeps(k) for k in _timing_types(t))}
    return frozenset(layers)


def judge_wire(
    case: Case,
    *,
    records: Sequence[Record],
    server_findings: Sequence[ServerFinding],
    events: Sequence[tuple[float, Mapping[str, Any]]],
    layers: frozenset[Layer],
    scope: EventScope,
    implementation: str,
) -> WireVerdict:
    """Server-side findings, then the case's wire and timing checks, in the claimed layers."""
    requests = _views(records)
    found: list[Finding] = []
    skipped: list[str] = []
    for f in server_findings:
        layer = Layer(f.layer)
        if layer in layers:
            found.append(Finding(Plane.WIRE, layer, f.message))
        else:
            skipped.append(f"[{layer}] not judged for {implementation}: {f.message}")
    for check in case.wire:
        if check.layer in layers:
            found += [Finding(Plane.WIRE, check.layer, m) for m in _wire_check(check, requests)]
    for timing in case.timing:
        if timing.layer not in layers:
            continue
        unreported = sorted(k for k in _timing_types(timing) if not scope.keeps(k))
        if unreported:
            skipped.append(f"{timing.path} [{timing.layer}]: not judged, {implementation} does not report {', '.join(unreported)}")
            continue
        found += [Finding(Plane.WIRE, timing.layer, m) for m in _timing_check(timing, records, events)]
    return WireVerdict(findings=tuple(found), not_judged=tuple(skipped))
