#!/usr/bin/env bash
# The lowest dependency bounds of pyproject.toml, tested: resolve every direct dependency at
# its lower bound (uv pip compile --resolution lowest-direct), install that set in a fresh
# venv under /tmp, then run the bundled suite against the reference client (serial and -n 2)
# and the tests of the harness's own core with it.
#
#   scripts/check-lowest-bounds.sh            # ~2 min with a warm cache; needs PyPI
#
# It writes the resolved set to scripts/lowest-bounds.txt: commit it when a bound moves
# (tests/test_lowest_bounds.py checks that it still matches pyproject.toml's lower bounds).
# WIREPLAY_LOWEST_VENV=DIR reuses a venv; WIREPLAY_LOWEST_KEEP=1 keeps the one it made.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
OWN_VENV=0
if [ -z "${WIREPLAY_LOWEST_VENV:-}" ]; then
    WIREPLAY_LOWEST_VENV="$(mktemp -d /tmp/wireplay-lowest.XXXXXX)/venv"
    OWN_VENV=1
fi
VENV="$WIREPLAY_LOWEST_VENV"
cleanup() {
    if [ "$OWN_VENV" = 1 ] && [ "${WIREPLAY_LOWEST_KEEP:-}" != 1 ]; then rm -rf "$(dirname "$VENV")"; fi
}
trap cleanup EXIT

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
if command -v uv >/dev/null 2>&1; then UV=uv; else
    "$VENV/bin/python" -m pip install -q uv  # uv from PyPI, into the scratch venv only
    UV="$VENV/bin/uv"
fi
PYVER="$("$VENV/bin/python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"

echo "check-lowest-bounds: resolving the lowest direct versions for Python $PYVER"
"$UV" pip compile -q --resolution lowest-direct --python-version "$PYVER" --no-header --no-annotate \
    "$ROOT/pyproject.toml" -o "$ROOT/scripts/lowest-bounds.txt"
"$UV" pip install -q --python "$VENV/bin/python" -r "$ROOT/scripts/lowest-bounds.txt"
"$UV" pip install -q --python "$VENV/bin/python" --no-deps -e "$ROOT"
echo "check-lowest-bounds: installed"
grep -E '^(pytest|websockets|jsonschema|respx|syrupy|pytest-xdist|pyyaml|httpx|h11|trustme|cryptography)==' -i "$ROOT/scripts/lowest-bounds.txt" | sed 's/^/  /'

cd "$(dirname "$VENV")"  # outside the checkout: the installed wireplay, its bundled suite
"$VENV/bin/wireplay" run
"$VENV/bin/wireplay" run -n 2
cd "$ROOT"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider -n 2 \
    tests/fake_server tests/harness/test_runner.py tests/harness/test_serving.py \
    tests/harness/test_serve.py tests/harness/test_failure_detail.py tests/harness/test_config_validation.py \
    tests/harness/test_malformed_cases.py tests/test_secret_canary.py tests/test_docs_agree.py
echo "check-lowest-bounds: the lowest bounds pass"
