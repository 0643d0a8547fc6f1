#!/usr/bin/env bash
# What the project's tests use beyond the Python test extras: the three real clients under
# test (pinned) and a headless browser for the report test. Each step is idempotent.
#
# An install that fails fails this script (and so the README's test command and CI): a
# real client that silently went missing would turn its tests into skips. On a machine
# that cannot install them on purpose, WIREPLAY_ALLOW_MISSING_CLIENTS=1 lets their tests
# skip with the reason instead. Chromium is installed only where apt-get runs as root.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
failed=0

install() {  # install NAME SCRIPT
    if ! bash "$ROOT/scripts/$2"; then
        if [ "${WIREPLAY_ALLOW_MISSING_CLIENTS:-}" = 1 ]; then
            echo "install-test-deps: $1 not installed; its tests will skip (WIREPLAY_ALLOW_MISSING_CLIENTS=1)" >&2
        else
            echo "install-test-deps: $1 failed to install (set WIREPLAY_ALLOW_MISSING_CLIENTS=1 to skip its tests instead)" >&2
            failed=1
        fi
    fi
}

install codex-cli install-codex-cli.sh
install openai-python install-openai-python.sh
install openai-node install-openai-node.sh

if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; then
        echo "install-test-deps: chromium failed to install" >&2
        failed=1
    fi
fi
exit "$failed"
