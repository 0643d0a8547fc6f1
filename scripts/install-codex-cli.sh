#!/usr/bin/env bash
# Install the real Codex CLI (npm @openai/codex, the implementation under test), pinned.
#
# Why a prefix of its own: wireplay must run exactly the version its expectations were
# recorded against, never whatever `codex` is on PATH. harness/impls/codex_cli finds the
# binary at $PREFIX/node_modules/.bin/codex (or $WIREPLAY_CODEX_BIN). Idempotent: a
# prefix that already answers `codex --version` with the pinned version is kept.
set -euo pipefail

VERSION="0.169.0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="${WIREPLAY_CODEX_PREFIX:-${WIREPLAY_IMPLS_DIR:-$ROOT/.wireplay/impls}/codex-cli}"
BIN="$PREFIX/node_modules/.bin/codex"

installed_version() {
    [ -x "$BIN" ] || return 1
    timeout 20 "$BIN" --version </dev/null 2>/dev/null | awk '{print $NF}'
}

if [ "$(installed_version || true)" = "$VERSION" ]; then
    echo "codex-cli $VERSION already installed: $BIN"
    exit 0
fi

command -v npm >/dev/null || { echo "npm is required (e.g. apt-get install -y nodejs npm)" >&2; exit 1; }
mkdir -p "$PREFIX"
# A private package.json keeps npm from walking up into the repo.
[ -f "$PREFIX/package.json" ] || printf '{"name":"wireplay-codex-cli","private":true}\n' >"$PREFIX/package.json"
npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error --save-exact "@openai/codex@$VERSION"

got="$(installed_version || true)"
if [ "$got" != "$VERSION" ]; then
    echo "installed codex reports '${got:-nothing}', expected $VERSION" >&2
    exit 1
fi
echo "codex-cli $VERSION installed: $BIN"
