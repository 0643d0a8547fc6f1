"""Where the bundled suite, schemas and install scripts live (a checkout or an installed
wheel), and where the real clients under test are installed."""

from __future__ import annotations

import os
from pathlib import Path


__all__ = ["CASES_DIR", "SCHEMAS_DIR", "SCRIPTS_DIR", "SUITE_MODULE", "impls_dir"]

_HERE = Path(__file__).resolve().parent


def _locate(name: str) -> Path:
    checkout = _HERE.parent / name
    if checkout.is_dir() and (_HERE.parent / "pyproject.toml").is_file():
        return checkout
    return _HERE / "_bundled" / name


CASES_DIR = _locate("cases")
SCHEMAS_DIR = _locate("schemas")
SCRIPTS_DIR = _locate("scripts")
SUITE_MODULE = _HERE / "suite" / "test_wireplay.py"


def impls_dir() -> Path:
    """Where `wireplay install` puts the real clients: ``$WIREPLAY_IMPLS_DIR``; in a checkout
    its ``.wireplay/impls``; from a wheel the per-user cache (``$XDG_CACHE_HOME/wireplay/impls``)."""
    override = os.environ.get("WIREPLAY_IMPLS_DIR")
    if override:
        return Path(override)
    if (_HERE.parent / "pyproject.toml").is_file() and (_HERE.parent / "cases").is_dir():
        return _HERE.parent / ".wireplay" / "impls"
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "wireplay" / "impls"
