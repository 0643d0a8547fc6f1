"""Discovery and selection of cases: folders and globs, duplicate ids, sorted order.

Loading never stops at a broken file: every file yields either a Case or its
CaseErrors, so a run reports each broken case instead of aborting collection.
"""

from __future__ import annotations

import glob
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.case.cache import AnalysisCache
from harness.case.loader import analyse_case_text
from harness.case.model import Case
from harness.errors import CaseError
from harness.paths import CASES_DIR


__all__ = ["REFERENCE", "Entry", "discover", "load_catalog"]

REFERENCE = "reference"  # the implementation whose snapshots every bundled case must have


@dataclass(frozen=True, slots=True)
class Entry:
    """One case file: its case, or why it cannot be used."""

    file: Path
    id: str
    case: Case | None
    errors: tuple[CaseError, ...] = ()


def _root_for(file: Path, *, spec_dir: Path | None) -> Path | None:
    """The suite a case file belongs to: the folder it was found under (any folder), else
    the nearest ``cases`` ancestor of a file named alone, else none (no area check)."""
    if spec_dir is not None:
        return spec_dir
    for parent in file.resolve().parents:
        if parent.name == "cases":
            return parent
    return None


def discover(specs: Iterable[str | Path] | None = None) -> list[tuple[Path, Path | None]]:
    """Case files named by folders, files or globs (default: the bundled suite), with their root."""
    specs = list(specs) if specs else [CASES_DIR]
    found: dict[Path, Path | None] = {}
    for spec in specs:
        text = str(spec)
        paths = [Path(p) for p in sorted(glob.glob(text, recursive=True))] if glob.has_magic(text) else [Path(text)]
        for path in paths:
            if path.is_dir():
                for file in sorted(path.rglob("*.yaml")):
                    if "__snapshots__" not in file.parts:
                        found.setdefault(file, _root_for(file, spec_dir=path))
            elif path.suffix in (".yaml", ".yml"):
                found.setdefault(path, _root_for(path, spec_dir=None))
    return sorted(found.items(), key=lambda item: str(item[0]))


def load_catalog(specs: Iterable[str | Path] | None = None, *, check_snapshots: bool = False) -> list[Entry]:
    """Load every case named by ``specs``; duplicates and broken files become error entries.

    ``check_snapshots`` requires each case's reference snapshot and, for the folders named
    (never for a file named alone: validating one file checks that file), reports snapshot
    files of no case.
    """
    specs = list(specs) if specs else None
    entries: list[Entry] = []
    seen: dict[str, Path] = {}
    cache = AnalysisCache()
    for file, root in discover(specs):
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            err = CaseError(file=file, line=None, field="", message=f"cannot read the case file: {exc}")
            entries.append(Entry(file=file, id=file.stem, case=None, errors=(err,)))
            continue
        case, problems = cache.get(file=file, root=root, text=text, analyse=lambda: analyse_case_text(text, file=file, cases_root=root))  # noqa: B023
        if case is None:
            entries.append(Entry(file=file, id=_fallback_id(text, file), case=None, errors=tuple(problems)))
            continue
        errors: list[CaseError] = []
        if case.id in seen:
            errors.append(CaseError(file=file, line=1, field="id", message=f"duplicate id '{case.id}', also used by {seen[case.id]}; ids must be unique"))
        seen.setdefault(case.id, file)
        reference = case.snapshot_path(REFERENCE)
        if check_snapshots and case.snapshot and not reference.is_file():
            errors.append(CaseError(
                file=file, line=None, field="expect.snapshot",
                message=f"missing snapshot {reference}; run `wireplay run --snapshot-update` (or pytest --snapshot-update) and review it",
            ))
        entries.append(Entry(file=file, id=case.id, case=None if errors else case, errors=tuple(errors)))
    cache.save()
    if check_snapshots:
        folders = [Path(s) for s in (specs or [CASES_DIR]) if Path(s).is_dir()]
        entries += _orphan_snapshots([e for e in entries if any(is_under(e.file, f) for f in folders)])
    return sorted(entries, key=lambda e: (e.id, str(e.file)))


def is_under(file: Path, folder: Path) -> bool:
    return file.resolve().is_relative_to(folder.resolve())


def _orphan_snapshots(entries: list[Entry]) -> list[Entry]:
    """Snapshot files (of any implementation) whose case is gone (renamed id, deleted file) are errors too."""
    folders = {e.file.parent / "__snapshots__" for e in entries}
    ids = {e.id for e in entries}
    orphans = []
    for folder in sorted(folders):
        for snap in sorted([*folder.glob("*.jsonl"), *folder.glob("*/*.jsonl")]):
            if snap.stem not in ids:
                err = CaseError(file=snap, line=None, field="", message=f"snapshot of no case (no case has id '{snap.stem}'); delete it or restore its case")
                orphans.append(Entry(file=snap, id=snap.stem, case=None, errors=(err,)))
    return orphans


def _fallback_id(text: str, file: Path) -> str:
    for line in text.splitlines():
        if line.startswith("id:"):
            value = line[3:].strip().strip("'\"")
            if value:
                return value
    return f"invalid.{file.stem}"
