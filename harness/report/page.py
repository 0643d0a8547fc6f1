"""``wireplay report``: several JSON reports merged into one HTML page.

A matrix of cases by implementations grouped by area, a totals row, and for every
cell its details (outcome, reason, wire findings, expected vs received events, the
wire log) one click away — the page a person reads instead of logs. One
self-contained file: no scripts, no external assets.
"""

from __future__ import annotations

import html
import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fake_server.redact import redact_json


__all__ = ["render_report", "write_html_report"]

_OUTCOMES = ("PASS", "NON-STRICT", "FAIL", "TIMEOUT", "ERROR", "UNSUPPORTED")
_LAYERS = ("protocol", "codex")
_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f3f3f3;position:sticky;top:0}td.o a{display:block;color:inherit;text-decoration:none;font-weight:600}
.PASS{background:#d9f2d9}.NON-STRICT{background:#eef7c8}.FAIL{background:#f7d0d0}.TIMEOUT{background:#f7e0c0}
.ERROR{background:#e9c8f0}.UNSUPPORTED{background:#e8e8e8;color:#666}.known{outline:2px dashed #888}
tr.area th{background:#dde6f3;text-align:left}tr.total td{font-weight:600;background:#f3f3f3}
section.d{border-top:1px solid #ccc;margin-top:1.5em;padding-top:.5em}
pre{background:#f8f8f8;border:1px solid #ddd;padding:.5em;overflow:auto;max-height:30em;white-space:pre-wrap}
.diff-del{background:#fbe3e3}.diff-add{background:#e3fbe3}
"""


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _anchor(impl: str, case_id: str) -> str:
    return "d-" + "".join(ch if ch.isalnum() else "-" for ch in f"{impl}-{case_id}")


def _diff_html(diff: str) -> str:
    lines = []
    for line in diff.splitlines():
        cls = "diff-del" if line.startswith("-") and not line.startswith("---") else "diff-add" if line.startswith("+") and not line.startswith("+++") else ""
        lines.append(f'<span class="{cls}">{_esc(line)}</span>' if cls else _esc(line))
    return "\n".join(lines)


def _findings_html(title: str, findings: Sequence[Any]) -> str:
    if not findings:
        return ""
    items = "".join(
        f"<li><b>[{_esc(f.get('layer') or 'all layers')}]</b> {_esc(f.get('message'))}</li>" if isinstance(f, Mapping) else f"<li>{_esc(f)}</li>"
        for f in findings
    )
    return f"<h4>{_esc(title)}</h4><ul>{items}</ul>"


def _layers_text(record: Mapping[str, Any]) -> str:
    layers = record.get("layers") or {}
    return ", ".join(f"{name}: {outcome}" for name, outcome in layers.items() if outcome) or "no layer judged"


def _details(impl: str, record: Mapping[str, Any]) -> str:
    events = record.get("events", {})
    wire = record.get("wire", {})
    known = record.get("known")
    parts = [
        f'<section class="d" id="{_anchor(impl, record["id"])}">',
        f"<h3>{_esc(record['id'])} — {_esc(impl)}: <span class=\"{_esc(record['outcome'])}\">{_esc(record['outcome'])}</span></h3>",
        f"<p>{_esc(record.get('title') or '')} <i>({_esc(_layers_text(record))})</i></p>",
    ]
    if known:
        parts.append(f"<p>known {_esc(known['outcome'])} ({_esc(known.get('class', ''))}): {_esc(known['why'])}</p>")
    if record.get("detail"):
        parts.append(f"<h4>detail</h4><pre>{_esc(record['detail'])}</pre>")
    parts.append(_findings_html("wire findings", wire.get("findings") or []))
    parts.append(_findings_html("event findings", events.get("findings") or []))
    if record.get("not_judged"):
        parts.append("<h4>not judged</h4><ul>" + "".join(f"<li>{_esc(n)}</li>" for n in record["not_judged"]) + "</ul>")
    received = events.get("received") or []
    if isinstance(received, list):
        text = "\n".join(f"{e.get('t_ms', ''):>9} ms  " + json.dumps({k: v for k, v in e.items() if k != "t_ms"}, ensure_ascii=False) for e in received)
    else:
        text = str(received)
    parts.append(f"<details><summary>events received ({len(received)})</summary><pre>{_esc(text)}</pre></details>")
    snap = record.get("snapshot") or {}
    if snap.get("diff"):
        parts.append(f"<h4>snapshot of {_esc(snap.get('implementation'))} changed</h4><pre>{_diff_html(snap['diff'])}</pre>")
    log = record.get("wire_log") or []
    if log:
        text = "\n".join(json.dumps(r, ensure_ascii=False) for r in log)
        parts.append(f"<details><summary>wire log ({len(log)} records)</summary><pre>{_esc(text)}</pre></details>")
    parts.append('<p><a href="#top">back to the matrix</a></p></section>')
    return "\n".join(p for p in parts if p)


def render_report(reports: Sequence[Mapping[str, Any]]) -> str:
    """The HTML page for these JSON reports (each from one ``wireplay run``)."""
    impls = [str(r.get("implementation", f"run {i + 1}")) for i, r in enumerate(reports)]
    cells: dict[str, dict[str, Mapping[str, Any]]] = defaultdict(dict)
    for impl, report in zip(impls, reports, strict=True):
        for record in report.get("cases", []):
            cells[record["id"]][impl] = record
    by_area: dict[str, list[str]] = defaultdict(list)
    for case_id in sorted(cells):
        by_area[case_id.split(".", 1)[0]].append(case_id)
    totals = {impl: Counter() for impl in impls}
    layer_totals = {(impl, layer): Counter() for impl in impls for layer in _LAYERS}
    rows = []
    for area in sorted(by_area):
        rows.append(f'<tr class="area"><th colspan="{len(impls) + 1}">{_esc(area)} ({len(by_area[area])} cases)</th></tr>')
        for case_id in by_area[area]:
            tds = [f"<td>{_esc(case_id)}</td>"]
            for impl in impls:
                record = cells[case_id].get(impl)
                if record is None:
                    tds.append('<td class="o">—</td>')
                    continue
                outcome = record["outcome"]
                totals[impl][outcome] += 1
                for layer in _LAYERS:
                    if (judged := (record.get("layers") or {}).get(layer)):
                        layer_totals[impl, layer][judged] += 1
                known = " known" if record.get("known") else ""
                title = _esc(_layers_text(record) + " — " + ((record.get("known") or {}).get("why") or record.get("detail", "")[:300]))
                tds.append(f'<td class="o {_esc(outcome)}{known}" title="{title}"><a href="#{_anchor(impl, case_id)}">{_esc(outcome)}</a></td>')
            rows.append("<tr>" + "".join(tds) + "</tr>")
    total_tds = ["<td>totals</td>"] + [
        "<td>" + ", ".join(f"{totals[impl][o]} {o}" for o in _OUTCOMES if totals[impl][o]) + "</td>" for impl in impls
    ]
    rows.append('<tr class="total">' + "".join(total_tds) + "</tr>")
    for layer in _LAYERS:
        tds = [f"<td>layer {layer}</td>"] + [
            "<td>" + (", ".join(f"{layer_totals[impl, layer][o]} {o}" for o in _OUTCOMES if layer_totals[impl, layer][o]) or "none judged") + "</td>"
            for impl in impls
        ]
        rows.append('<tr class="total">' + "".join(tds) + "</tr>")
    head = "<tr><th>case</th>" + "".join(f"<th>{_esc(impl)}</th>" for impl in impls) + "</tr>"
    details = [_details(impl, cells[cid][impl]) for cid in sorted(cells) for impl in impls if impl in cells[cid]]
    legend = " ".join(f'<span class="{o}">&nbsp;{o}&nbsp;</span>' for o in _OUTCOMES)
    return (
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8><title>wireplay conformance report</title>"
        f"<style>{_CSS}</style></head><body>\n<h1 id=top>wireplay conformance report</h1>\n"
        f"<p>{len(cells)} cases &times; {len(impls)} implementation(s). {legend}; dashed: a known outcome (expectations file). "
        "Each cell is the overall outcome; its tooltip and details give the outcome per layer (protocol, codex).</p>\n"
        f'<table id="matrix">{head}\n' + "\n".join(rows) + "</table>\n" + "\n".join(details) + "\n</body></html>\n"
    )


def write_html_report(out: Path, *, inputs: Sequence[Path]) -> None:
    """Read JSON reports, write the page (redacted once more, on principle)."""
    reports = [redact_json(json.loads(Path(p).read_text())) for p in inputs]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(reports))
