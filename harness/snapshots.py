"""Syrupy extension: one readable JSONL file per case, stored beside the case.

``cases/<area>/__snapshots__/<implementation>/<case-id>.jsonl`` holds the normalised
events one implementation reported, one per line, so a reviewer reads a snapshot like a
log and ``--snapshot-update`` rewrites exactly one small file per case. A snapshot locks
that implementation's own event log against regressions; the conformance verdict never
reads it (it comes from the case's assertions).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from syrupy.data import Snapshot, SnapshotCollection, SnapshotCollections
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode


if TYPE_CHECKING:
    from syrupy.location import PyTestLocation

    from harness.case.model import Case

__all__ = ["CaseSnapshotExtension", "case_of_item", "snapshot_file"]


def case_of_item(item: Any) -> Case | None:
    """The case a suite item runs (its ``wireplay_entry`` parameter), or None for other tests."""
    callspec = getattr(item, "callspec", None)
    entry = callspec.params.get("wireplay_entry") if callspec is not None else None
    return entry.case if entry is not None else None


def snapshot_file(item: Any) -> Path | None:
    """The snapshot file a suite item asserts: its case's, for this session's implementation."""
    from harness.pytest_plugin.state import STATE

    case = case_of_item(item)
    state = item.config.stash.get(STATE, None) if case is not None else None
    if case is None or state is None or state.snapshot_impl is None:
        return None
    return case.snapshot_path(state.snapshot_impl, root=state.snapshot_dir)


class CaseSnapshotExtension(SingleFileSnapshotExtension):
    """JSONL text snapshots stored as ``<case dir>/__snapshots__/<case-id>.jsonl``.

    Syrupy relates snapshots to the test module that asserts them; here one suite
    module asserts every case and each snapshot belongs to its case file instead.
    The snapshot *name* stays syrupy's own (``test_case[<id>]``) so its bookkeeping
    works, while the *file* is named by case id beside the case.
    """

    _write_mode = WriteMode.TEXT
    file_extension = "jsonl"

    # Syrupy asks these for every collected item's location, not only the suite's;
    # items that run no case keep syrupy's own answers.

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        path = snapshot_file(test_location.item)
        if path is None:
            return super().dirname(test_location=test_location)
        return str(path.parent)

    @classmethod
    def get_file_basename(cls, *, test_location: PyTestLocation, index: Any) -> str:
        path = snapshot_file(test_location.item)
        if path is None:
            return super().get_file_basename(test_location=test_location, index=index)
        return path.stem

    @classmethod
    def get_snapshot_name(cls, *, test_location: PyTestLocation, index: Any = 0) -> str:
        path = snapshot_file(test_location.item)
        if path is None:
            return super().get_snapshot_name(test_location=test_location, index=index)
        return f"{test_location.methodname}[{path.stem}]"

    @classmethod
    def matches_test_location(cls, *, test_location: PyTestLocation, snapshot_location: str) -> bool:
        path = snapshot_file(test_location.item)
        if path is None:
            return super().matches_test_location(test_location=test_location, snapshot_location=snapshot_location)
        return Path(snapshot_location).resolve() == path.resolve()

    def discover_snapshots(self, *, test_location: PyTestLocation, ignore_extensions: list[str] | None = None) -> SnapshotCollections:
        """Only the snapshots of this run's cases: syrupy deletes every discovered snapshot
        no test used when it thinks a module ran whole, and the one suite module "runs
        whole" even for one case file. Snapshots of no case are the plugin's business
        (removed only for folders a run named whole)."""
        discovered = super().discover_snapshots(test_location=test_location, ignore_extensions=ignore_extensions)
        if case_of_item(test_location.item) is None:
            return discovered
        ids = {case.id for item in test_location.item.session.items if (case := case_of_item(item)) is not None}
        kept = SnapshotCollections()
        for collection in discovered:
            if Path(collection.location).stem in ids:
                kept.add(collection)
        return kept

    def read_snapshot_collection(self, *, snapshot_location: str) -> SnapshotCollection:
        collection = SnapshotCollection(location=snapshot_location)
        collection.add(Snapshot(name=f"test_case[{Path(snapshot_location).stem}]"))
        return collection
