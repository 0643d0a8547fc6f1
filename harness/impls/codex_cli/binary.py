"""Finding the pinned Codex CLI binary, and refusing any other version.

Known outcomes (expectations.yaml) were recorded against one exact release; a
different ``codex`` would make them meaningless, so only the pinned version counts.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from harness.implementations import ImplementationUnavailable
from harness.paths import impls_dir


__all__ = ["CODEX_VERSION", "INSTALL_HINT", "CodexBinary", "find_codex", "known_features"]

CODEX_VERSION = "0.169.0"
INSTALL_HINT = f"codex-cli {CODEX_VERSION} is not installed: run `wireplay install codex-cli`"
ENV_BIN = "WIREPLAY_CODEX_BIN"
def _default_bin() -> Path:
    prefix = os.environ.get("WIREPLAY_CODEX_PREFIX")
    return (Path(prefix) if prefix else impls_dir() / "codex-cli") / "node_modules" / ".bin" / "codex"
_VERSION_TIMEOUT = 20.0


@dataclass(frozen=True, slots=True)
class CodexBinary:
    """The launcher path, the version it reported, and the feature flags it knows."""

    path: str
    version: str
    features: frozenset[str] = field(default_factory=frozenset)


def known_features(path: str) -> frozenset[str]:
    """``codex features list`` names: ``--enable X`` with an unknown X is a fatal usage error."""
    with tempfile.TemporaryDirectory(prefix="wireplay-codex-features-") as home:
        try:
            done = subprocess.run(
                [path, "features", "list"],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=_VERSION_TIMEOUT,
                check=False,
                start_new_session=True,
                env={**{k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CODEX_"))}, "CODEX_HOME": home, "HOME": home},
            )
        except (OSError, subprocess.TimeoutExpired):
            return frozenset()
    return frozenset(line.split()[0] for line in done.stdout.decode(errors="replace").splitlines() if line.strip())


def _reported_version(path: str) -> str | None:
    """``codex --version`` prints ``codex-cli 0.169.0``; None when it cannot be run."""
    try:
        done = subprocess.run(
            [path, "--version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=_VERSION_TIMEOUT,
            check=False,
            start_new_session=True,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    words = done.stdout.decode(errors="replace").split()
    return words[-1] if done.returncode == 0 and words else None


def find_codex(*, environ: os._Environ[str] | dict[str, str] | None = None) -> CodexBinary:
    """The pinned codex (``$WIREPLAY_CODEX_BIN`` or the install script's prefix), else unavailable."""
    env = os.environ if environ is None else environ
    path = env.get(ENV_BIN) or str(_default_bin())
    if not os.access(path, os.X_OK):
        raise ImplementationUnavailable(INSTALL_HINT)
    version = _reported_version(path)
    if version != CODEX_VERSION:
        found = f" ({path} reports {version!r})" if version else f" ({path} did not run)"
        raise ImplementationUnavailable(INSTALL_HINT + found)
    return CodexBinary(path=path, version=version, features=known_features(path))
