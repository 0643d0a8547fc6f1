"""The wire plane: the transcript against the case's expectations.

It works for any black-box client: it only reads what the fake server recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fake_server.matchers import match, render
from fake_server.transcript import Record
from harness.case.model import Case, TimingCheck, WireCheck


__all__ = ["WireVerdict", "judge_wire"]


@dataclass(frozen=True, slots=True)
class WireVerdict:
    """Every wire failure, in the order found; empty means the wire plane passed."""

    findings: tuple[str, ...]

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
    }


def _select(requests: Sequence[dict[str, Any]], selector: Mapping[str, Any]) -> list[dict[str, Any]]:
    chosen = []
    for req in requests:
        kind = selector.get("kind", "any")
        if kind != "any" and req["kind"] != kind:
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
            found.append(f"{check.path}: expected {check.count.describe()} request(s) matching {render(dict(check.selector))}, got {n}{why}")
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


def _timing_check(check: TimingCheck, records: Sequence[Record], events: Sequence[tuple[float, Mapping[str, Any]]]) -> list[str]:
    marks = [r.t for r in records if r.kind == "mark" and r.data.get("name") == check.from_mark]
    if not marks:
        return [f"{check.path}: the server never reached mark '{check.from_mark}'"]
    start = marks[0]
    for t, event in events:
        if t >= start and match(check.to_event, event) is None:
            took = t - start
            if took > check.within:
                return [f"{check.path}: {render(check.to_event)} reported {took:.3f}s after '{check.from_mark}', bound {check.within:g}s"]
            if took < check.at_least:
                return [f"{check.path}: {render(check.to_event)} reported {took:.3f}s after '{check.from_mark}', sooner than the {check.at_least:g}s it must take"]
            return []
    return [f"{check.path}: no event matching {render(check.to_event)} after mark '{check.from_mark}' (bound {check.within:g}s)"]


def judge_wire(
    case: Case,
    *,
    records: Sequence[Record],
    server_findings: Sequence[str],
    events: Sequence[tuple[float, Mapping[str, Any]]],
) -> WireVerdict:
    """Server-side findings, then the case's wire and timing checks."""
    requests = [_request_view(r) for r in records if r.kind == "request"]
    found = list(server_findings)
    for check in case.wire:
        found += _wire_check(check, requests)
    for timing in case.timing:
        found += _timing_check(timing, records, events)
    return WireVerdict(findings=tuple(found))
