"""Where the bundled suite and schemas live, in a checkout or an installed wheel."""

from __future__ import annotations

from pathlib import Path


__all__ = ["CASES_DIR", "SCHEMAS_DIR", "SUITE_MODULE"]

_HERE = Path(__file__).resolve().parent


def _locate(name: str) -> Path:
    checkout = _HERE.parent / name
    if checkout.is_dir() and (_HERE.parent / "pyproject.toml").is_file():
        return checkout
    return _HERE / "_bundled" / name


CASES_DIR = _locate("cases")
SCHEMAS_DIR = _locate("schemas")
SUITE_MODULE = _HERE / "suite" / "test_wireplay.py"
