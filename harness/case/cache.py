"""The loaded cases, kept between runs: a case file is parsed and validated once.

Parsing and validating the bundled suite takes about a second, paid by every run and every
xdist worker. A file's analysis (its `Case`, or its errors) is kept under a key made of its
path, its suite root, its bytes and the loader's own code and schemas, so a changed file,
schema or loader is never served stale. The store is one pickle per code fingerprint in
``$WIREPLAY_CACHE_DIR`` (default ``$XDG_CACHE_HOME/wireplay``, else ``~/.cache/wireplay``);
``WIREPLAY_NO_CACHE=1`` turns it off. A store that cannot be read or written is ignored:
the cache only ever saves time.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.paths import SCHEMAS_DIR


__all__ = ["MAX_FILES", "AnalysisCache"]

_CODE = ("harness/case", "fake_server/script.py", "fake_server/matchers.py", "harness/layer.py", "harness/revision.py", "harness/errors.py")
_ROOT = Path(__file__).resolve().parents[2]

MAX_FILES = 4000  # analyses kept: ten times the bundled suite
Analysis = tuple[Any, list[Any]]  # (Case | None, [CaseError, ...]) as analyse_case_text returns


@functools.cache
def _fingerprint() -> str:
    """The loader's code and every schema: what an analysis depends on besides the file."""
    digest = hashlib.sha256()
    files = sorted(p for p in SCHEMAS_DIR.rglob("*.json"))
    for part in _CODE:
        path = _ROOT / part
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    for file in files:
        with contextlib.suppress(OSError):
            digest.update(str(file.relative_to(_ROOT)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:24]


def _store_dir() -> Path:
    if os.environ.get("WIREPLAY_CACHE_DIR"):
        return Path(os.environ["WIREPLAY_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "wireplay"


class AnalysisCache:
    """A file's analysis by (path, root, bytes); :meth:`save` writes what was added."""

    def __init__(self) -> None:
        self._enabled = os.environ.get("WIREPLAY_NO_CACHE", "") not in ("1", "true")
        self._path = _store_dir() / f"cases-{_fingerprint()}.pickle"
        self._items: dict[str, Analysis] = {}
        self._added = False
        if self._enabled:
            with contextlib.suppress(Exception):  # a missing, truncated or foreign store is a miss
                items = pickle.loads(self._path.read_bytes())
                if isinstance(items, dict):
                    self._items = items

    def get(self, *, file: Path, root: Path | None, text: str, analyse: Callable[[], Analysis]) -> Analysis:
        key = hashlib.sha256(f"{file.resolve()}\0{root.resolve() if root else ''}\0".encode() + text.encode("utf-8", "surrogatepass")).hexdigest()
        hit = self._items.pop(key, None)
        if hit is not None:
            self._items[key] = hit  # most recently used last: what a full store drops is the oldest
            return hit
        analysis = analyse()
        if self._enabled:
            self._items[key] = analysis
            self._added = True
        return analysis

    def save(self) -> None:
        """Write the store atomically (concurrent workers each replace it whole)."""
        if not (self._enabled and self._added):
            return
        with contextlib.suppress(Exception):
            self._path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self._path.parent, prefix=".cases-", suffix=".tmp")
            kept = dict(list(self._items.items())[-MAX_FILES:])  # case files of throwaway suites age out
            with os.fdopen(fd, "wb") as out:
                pickle.dump(kept, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self._path)
            self._added = False
