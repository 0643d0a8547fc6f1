"""``wireplay report``: several JSON reports merged into one HTML page.

What a person opens first: the totals and the per-layer summary of every implementation,
then the matrix of cases by implementation, failures first, with filters by outcome,
area and implementation and a search by id; every cell links to its details (title,
duration, outcome per layer, findings, the snapshot diff once with its changes marked
within the line, events received, the wire log). One self-contained file: its few
lines of script only hide rows, nothing is fetched.
"""

from __future__ import annotations

import difflib
import html
import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fake_server.redact import redact_json
from harness.report.merge import merge_reports


__all__ = ["render_report", "write_html_report"]

_OUTCOMES = ("PASS", "NON-STRICT", "FAIL", "TIMEOUT", "ERROR", "UNSUPPORTED")
_LAYERS = ("protocol", "codex")
_BAD = frozenset({"FAIL", "TIMEOUT", "ERROR"})
_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
#matrix thead th{background:#f3f3f3;position:sticky;top:0;z-index:2;box-shadow:0 1px 0 #ccc}
td.o a{display:block;color:inherit;text-decoration:none;font-weight:600}
.PASS{background:#d9f2d9}.NON-STRICT{background:#eef7c8}.FAIL{background:#f7d0d0}.TIMEOUT{background:#f7e0c0}
.ERROR{background:#e9c8f0}.UNSUPPORTED{background:#e8e8e8;color:#666}.known{outline:2px dashed #888;outline-offset:-3px}
table.summary td.n{text-align:right}small{color:#666}
#filters{margin:1em 0;display:flex;gap:1em;flex-wrap:wrap;align-items:center}
section.d{border-top:1px solid #ccc;margin-top:1.5em;padding-top:.5em}
pre{background:#f8f8f8;border:1px solid #ddd;padding:.5em;overflow:auto;max-height:30em;white-space:pre-wrap}
.del{background:#fbe3e3}.add{background:#e3fbe3}.del b{background:#f2a5a5;font-weight:normal}.add b{background:#a5e6a5;font-weight:normal}
"""
_SCRIPT = """
function applyFilters(){
  const q=document.getElementById('q').value.toLowerCase();
  const area=document.getElementById('area').value;
  const outcome=document.getElementById('outcome').value;
  const impl=document.getElementById('impl').value;
  for(const row of document.querySelectorAll('#matrix tbody tr')){
    const cells=[...row.querySelectorAll('td.o')].filter(td=>!impl||td.dataset.impl===impl);
    const hit=(!q||row.dataset.id.includes(q))&&(!area||row.dataset.area===area)
      &&(!outcome||cells.some(td=>td.dataset.outcome===outcome));
    row.hidden=!hit;
  }
  for(const el of document.querySelectorAll('[data-impl]')){
    if(el.tagName==='TH'||el.tagName==='TD'){el.hidden=!!impl&&el.dataset.impl!==impl;}
  }
}
for(const id of ['q','area','outcome','impl']){document.getElementById(id).addEventListener('input',applyFilters);}
"""


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _anchor(impl: str, case_id: str) -> str:
    return "d-" + "".join(ch if ch.isalnum() else "-" for ch in f"{impl}-{case_id}")


def _marked(text: str, other: str, cls: str) -> str:
    """``text`` with the parts that differ from ``other`` in bold (a within-line diff)."""
    out = []
    for op, a1, a2, _, _ in difflib.SequenceMatcher(None, text, other, autojunk=False).get_opcodes():
        piece = _esc(text[a1:a2])
        out.append(piece if op == "equal" else f"<b>{piece}</b>" if piece else "")
    return f'<span class="{cls}">{"".join(out)}</span>'


def _diff_html(diff: str) -> str:
    """A unified diff, shown once: a removed line beside the added line that replaced it has
    its changed characters marked."""
    lines = diff.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        removed = line.startswith("-") and not line.startswith("---")
        added_next = i + 1 < len(lines) and lines[i + 1].startswith("+") and not lines[i + 1].startswith("+++")
        if removed and added_next:
            old, new = line[1:], lines[i + 1][1:]
            out.append("-" + _marked(old, new, "del"))
            out.append("+" + _marked(new, old, "add"))
            i += 2
            continue
        if removed:
            out.append(f'<span class="del">{_esc(line)}</span>')
        elif line.startswith("+") and not line.startswith("+++"):
            out.append(f'<span class="add">{_esc(line)}</span>')
        else:
            out.append(_esc(line))
        i += 1
    return "\n".join(out)


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
        f"<p>{_esc(record.get('title') or '')} <small>({_esc(_layers_text(record))}; {float(record.get('duration') or 0):.2f} s)</small></p>",
    ]
    if known:
        parts.append(f"<p>known {_esc(known['outcome'])} ({_esc(known.get('class', ''))}): {_esc(known['why'])}</p>")
    if record.get("detail"):
        parts.append(f"<h4>detail</h4><pre>{_esc(record['detail'])}</pre>")
    parts.append(_findings_html("wire findings", wire.get("findings") or []))
    parts.append(_findings_html("event findings", events.get("findings") or []))
    if record.get("not_judged"):
        parts.append("<h4>not judged</h4><ul>" + "".join(f"<li>{_esc(n)}</li>" for n in record["not_judged"]) + "</ul>")
    snap = record.get("snapshot") or {}
    if snap.get("diff"):
        parts.append(f"<h4>snapshot of {_esc(snap.get('implementation'))} changed</h4><pre>{_diff_html(snap['diff'])}</pre>")
    received = events.get("received") or []
    text = "\n".join(f"{e.get('t_ms', ''):>9} ms  " + json.dumps({k: v for k, v in e.items() if k != "t_ms"}, ensure_ascii=False) for e in received)
    parts.append(f"<details><summary>events received ({len(received)})</summary><pre>{_esc(text)}</pre></details>")
    log = record.get("wire_log") or []
    if log:
        text = "\n".join(json.dumps(r, ensure_ascii=False) for r in log)
        parts.append(f"<details><summary>wire log ({len(log)} records)</summary><pre>{_esc(text)}</pre></details>")
    parts.append('<p><a href="#top">back to the top</a></p></section>')
    return "\n".join(p for p in parts if p)


def _summary(impls: Sequence[str], versions: Mapping[str, str], cells: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> str:
    """Totals and the per-layer outcome counts of every implementation: what is read first."""
    head = "<tr><th>implementation</th><th>judged as</th>" + "".join(f"<th>{o}</th>" for o in _OUTCOMES) + "<th>cases</th></tr>"
    rows = []
    for impl in impls:
        records = [by_impl[impl] for by_impl in cells.values() if impl in by_impl]
        lines = [("overall", Counter(r["outcome"] for r in records))]
        lines += [(f"layer {layer}", Counter(o for r in records if (o := (r.get("layers") or {}).get(layer)))) for layer in _LAYERS]
        for i, (label, counts) in enumerate(lines):
            name = f"<td rowspan={len(lines)}><b>{_esc(impl)}</b> <small>{_esc(versions.get(impl, ''))}</small></td>" if i == 0 else ""
            tds = "".join(f'<td class="n {o if counts[o] else ""}">{counts[o]}</td>' for o in _OUTCOMES)
            rows.append(f"<tr>{name}<td>{label}</td>{tds}<td class=n>{sum(counts.values())}</td></tr>")
    return f'<table class="summary">{head}' + "".join(rows) + "</table>"


def _severity(by_impl: Mapping[str, Mapping[str, Any]]) -> int:
    """Rows with a failing cell first, then rows with a known outcome, then the rest."""
    outcomes = [r["outcome"] for r in by_impl.values()]
    if any(o in _BAD and not r.get("known") for o, r in zip(outcomes, by_impl.values(), strict=True)):
        return 0
    return 1 if any(o in _BAD or o == "NON-STRICT" for o in outcomes) else 2


def render_report(reports: Sequence[Mapping[str, Any]]) -> str:
    """The HTML page for these JSON reports (each from one ``wireplay run``)."""
    impls = [str(r.get("implementation", f"run {i + 1}")) for i, r in enumerate(reports)]
    versions = {impl: str(r.get("implementation_version") or "") for impl, r in zip(impls, reports, strict=True)}
    cells: dict[str, dict[str, Mapping[str, Any]]] = defaultdict(dict)
    titles: dict[str, str] = {}
    for impl, report in zip(impls, reports, strict=True):
        for record in report.get("cases", []):
            cells[record["id"]][impl] = record
            titles.setdefault(record["id"], str(record.get("title") or ""))
    areas = sorted({case_id.split(".", 1)[0] for case_id in cells})
    order = sorted(cells, key=lambda cid: (_severity(cells[cid]), cid))
    rows = []
    for case_id in order:
        tds = [f"<td>{_esc(case_id)}<br><small>{_esc(titles[case_id])}</small></td>"]
        for impl in impls:
            record = cells[case_id].get(impl)
            if record is None:
                tds.append(f'<td class="o" data-impl="{_esc(impl)}" data-outcome="">—</td>')
                continue
            outcome = record["outcome"]
            known = " known" if record.get("known") else ""
            tip = _esc(_layers_text(record) + " — " + ((record.get("known") or {}).get("why") or record.get("detail", "")[:300]))
            tds.append(
                f'<td class="o {_esc(outcome)}{known}" data-impl="{_esc(impl)}" data-outcome="{_esc(outcome)}" title="{tip}">'
                f'<a href="#{_anchor(impl, case_id)}">{_esc(outcome)}</a><small>{float(record.get("duration") or 0):.2f} s</small></td>'
            )
        rows.append(f'<tr data-id="{_esc(case_id.lower())}" data-area="{_esc(case_id.split(".", 1)[0])}">' + "".join(tds) + "</tr>")
    head = "<tr><th>case</th>" + "".join(f'<th data-impl="{_esc(impl)}">{_esc(impl)} <small>{_esc(versions[impl])}</small></th>' for impl in impls) + "</tr>"
    options = lambda values: "".join(f"<option>{_esc(v)}</option>" for v in values)  # noqa: E731
    filters = (
        '<div id="filters"><label>search id <input id="q" type="search"></label>'
        f'<label>area <select id="area"><option value="">all</option>{options(areas)}</select></label>'
        f'<label>outcome <select id="outcome"><option value="">all</option>{options(_OUTCOMES)}</select></label>'
        f'<label>implementation <select id="impl"><option value="">all</option>{options(impls)}</select></label></div>'
    )
    details = [_details(impl, cells[cid][impl]) for cid in order for impl in impls if impl in cells[cid]]
    legend = " ".join(f'<span class="{o}">&nbsp;{o}&nbsp;</span>' for o in _OUTCOMES)
    return (
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8><title>wireplay conformance report</title>"
        f"<style>{_CSS}</style></head><body>\n<h1 id=top>wireplay conformance report</h1>\n"
        f"<p>{len(cells)} cases &times; {len(impls)} implementation(s). {legend}; dashed: a known outcome (expectations "
        "file). A case's overall outcome is the most severe of the layers judged for that implementation.</p>\n"
        + _summary(impls, versions, cells)
        + "\n<h2>Cases, failures first</h2>\n" + filters
        + f'\n<table id="matrix"><thead>{head}</thead><tbody>\n' + "\n".join(rows) + "</tbody></table>\n"
        + "\n".join(details) + f"\n<script>{_SCRIPT}</script>\n</body></html>\n"
    )


def write_html_report(out: Path, *, inputs: Sequence[Path]) -> None:
    """Read JSON reports, write the page (redacted once more, on principle); the reports of
    one implementation (shards of one run) are merged into one column."""
    reports = merge_reports([redact_json(json.loads(Path(p).read_text())) for p in inputs], sources=inputs)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(reports))
