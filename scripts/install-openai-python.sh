#!/usr/bin/env bash
# Install the openai-python SDK (the implementation under test) in a venv of its own.
#
# Why a separate venv: openai[realtime] pins websockets<16, wireplay runs websockets 17.
# wireplay runs the SDK as a subprocess driver (harness/impls/openai_python/driver.py)
# with this venv's python. Idempotent: a venv that already has the pinned version is kept.
set -euo pipefail

VERSION="3.57.0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${WIREPLAY_OPENAI_PYTHON_VENV:-${WIREPLAY_IMPLS_DIR:-$ROOT/.wireplay/impls}/openai-python/venv}"
PY="${PYTHON:-python3}"

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - "$VERSION" <<'PYEOF' 2>/dev/null
import sys
from importlib.metadata import version
import openai, websockets  # noqa: F401 - the realtime extra must be importable too
sys.exit(0 if version("openai") == sys.argv[1] else 1)
PYEOF
then
    echo "openai-python $VERSION already installed in $VENV"
    exit 0
fi

mkdir -p "$(dirname "$VENV")"
"$PY" -m venv --clear "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "openai[realtime]==$VERSION"
"$VENV/bin/python" -c "import openai, websockets; print('openai-python', openai.__version__, 'websockets', websockets.__version__, 'in $VENV')"
