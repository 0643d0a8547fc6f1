#!/usr/bin/env bash
# What the project's tests use beyond the Python test extras: the two real clients
# under test (pinned) and a headless browser for the report test. Each step is
# idempotent; a step that cannot run here says so and its tests skip with that reason.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

bash "$ROOT/scripts/install-codex-cli.sh" || echo "install-test-deps: codex-cli not installed; its tests will skip" >&2
bash "$ROOT/scripts/install-openai-python.sh" || echo "install-test-deps: openai-python not installed; its tests will skip" >&2

if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
        || echo "install-test-deps: chromium not installed; the browser test will skip" >&2
fi
exit 0
