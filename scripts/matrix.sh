#!/usr/bin/env bash
# The conformance matrix: the bundled suite against the reference client and the three real
# clients (Codex CLI 0.169.0, openai-python 3.57.0, openai-node 7.60.0), in one command.
#
#   scripts/matrix.sh [OUT_DIR]          # default OUT_DIR: reports/ (git-ignored)
#
# 1. installs the real clients if they are missing (scripts/install-codex-cli.sh,
#    scripts/install-openai-python.sh, scripts/install-openai-node.sh; all idempotent; a
#    client that cannot be installed still gets its column, every case UNSUPPORTED with the
#    install command as the reason);
# 2. runs `wireplay run` once per implementation: OUT/reference.json, OUT/codex-cli.json,
#    OUT/openai-python.json, OUT/openai-node.json (each with its expectations file, so known
#    gaps are xfail);
# 3. merges them into one HTML page, OUT/matrix.html (`wireplay report`);
# 4. prints a markdown table of outcome counts by area x implementation on stdout
#    (the run logs go to OUT/<impl>.log).
#
# Exit status: 0 when every run exited 0 (nothing FAIL, TIMEOUT or ERROR beyond the
# expectations), else 1; the reports, page and table are written either way.
# Environment: WIREPLAY (default .venv/bin/wireplay, else wireplay on PATH), CODEX_WORKERS
# (default 3), OPENAI_PYTHON_WORKERS (default 2), OPENAI_NODE_WORKERS (default 2),
# REFERENCE_WORKERS (default 1).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/reports}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

if [ -n "${WIREPLAY:-}" ]; then
    WP="$WIREPLAY"
elif [ -x "$ROOT/.venv/bin/wireplay" ]; then
    WP="$ROOT/.venv/bin/wireplay"
else
    WP="$(command -v wireplay || true)"
fi
[ -n "$WP" ] || { echo "matrix: wireplay not found (pip install -e . in .venv, or set WIREPLAY)" >&2; exit 2; }
PY="$(dirname "$WP")/python"
[ -x "$PY" ] || PY="python3"

cd "$ROOT" || exit 2
bash scripts/install-codex-cli.sh >&2 || echo "matrix: codex-cli not installed; its column will be UNSUPPORTED" >&2
bash scripts/install-openai-python.sh >&2 || echo "matrix: openai-python not installed; its column will be UNSUPPORTED" >&2
bash scripts/install-openai-node.sh >&2 || echo "matrix: openai-node not installed; its column will be UNSUPPORTED" >&2

status=0
run() {  # run IMPL WORKERS
    local impl="$1" workers="$2" rc
    local args=(run --impl "$impl" --report-json "$OUT/$impl.json")
    [ "$workers" -gt 1 ] && args+=(-n "$workers")
    echo "matrix: $impl (-n $workers) ..." >&2
    "$WP" "${args[@]}" >"$OUT/$impl.log" 2>&1
    rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "matrix: $impl exited $rc (see $OUT/$impl.log)" >&2
        status=1
    fi
    [ -f "$OUT/$impl.json" ] || { echo "matrix: $impl wrote no report" >&2; status=1; }
}
run reference "${REFERENCE_WORKERS:-1}"
run codex-cli "${CODEX_WORKERS:-3}"
run openai-python "${OPENAI_PYTHON_WORKERS:-2}"
run openai-node "${OPENAI_NODE_WORKERS:-2}"

reports=()
for impl in reference codex-cli openai-python openai-node; do
    [ -f "$OUT/$impl.json" ] && reports+=("$OUT/$impl.json")
done
[ "${#reports[@]}" -gt 0 ] || exit 1
"$WP" report "${reports[@]}" -o "$OUT/matrix.html" >&2 || status=1
echo "matrix: wrote ${reports[*]} and $OUT/matrix.html" >&2

"$PY" - "$ROOT" "${reports[@]}" <<'PYEOF' || status=1
"""Outcome counts by area x implementation, overall and per layer, as markdown tables."""
import json
import re
import sys
from collections import Counter
from pathlib import Path

OUTCOMES = ("PASS", "NON-STRICT", "FAIL", "TIMEOUT", "ERROR", "UNSUPPORTED")
root = Path(sys.argv[1])


def label(impl: str) -> str:
    """The implementation and the version its expectations files pin (none for the reference)."""
    folder = root / "harness" / "impls" / impl.replace("-", "_") / "expectations"
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        found = re.search(r"^version:\s*(\S+)", path.read_text(encoding="utf-8"), re.M)
        if found:
            return f"{impl} {found.group(1)}"
    return impl


def table(runs, title):
    areas = sorted({a for _, c in runs for a in c if a != "all"}) + ["all"]
    print(f"\n{title}\n")
    print("| area | implementation | " + " | ".join(OUTCOMES) + " | total |")
    print("|---|---|" + "---:|" * (len(OUTCOMES) + 1))
    for area in areas:
        for name, counts in runs:
            row = counts.get(area, Counter())
            cells = [str(row[o]) for o in OUTCOMES] + [str(sum(row.values()))]
            shown = f"**{area}**" if area == "all" else area
            print(f"| {shown} | {name} | " + " | ".join(cells) + " |")


overall, layers = [], {"protocol": [], "codex": []}
known = []
for file in sys.argv[2:]:
    report = json.loads(Path(file).read_text(encoding="utf-8"))
    name = label(report["implementation"])
    counts: dict[str, Counter] = {}
    per_layer = {layer: {} for layer in layers}
    classes = Counter()
    for case in report["cases"]:
        area = case["id"].split(".", 1)[0]
        for key in (area, "all"):
            counts.setdefault(key, Counter())[case["outcome"]] += 1
            for layer in layers:
                outcome = (case.get("layers") or {}).get(layer)
                if outcome:
                    per_layer[layer].setdefault(key, Counter())[outcome] += 1
        if case.get("known") and case["outcome"] not in ("PASS", "UNSUPPORTED"):
            classes[case["known"].get("class", "?")] += 1
    overall.append((name, counts))
    for layer in layers:
        layers[layer].append((name, per_layer[layer]))
    known.append((name, classes))
table(overall, "Overall outcome (the most severe of the judged layers):")
for layer, runs in layers.items():
    table(runs, f"Layer `{layer}` (cases judged in that layer):")
print("\nKnown non-PASS outcomes by class (expectations files):\n")
for name, classes in known:
    print(f"- {name}: " + (", ".join(f"{n} {c}" for c, n in sorted(classes.items())) or "none"))
PYEOF
exit "$status"
