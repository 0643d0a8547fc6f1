"""Syrupy extension: one readable JSONL file per case, stored beside the case.

``cases/<area>/__snapshots__/<case-id>.jsonl`` holds the normalised events the
implementation reported, one per line, so a reviewer reads a snapshot like a log
and ``--snapshot-update`` rewrites exactly one small file per case.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

if TYPE_CHECKING:
    from syrupy.location import PyTestLocation

    from harness.case.model import Case

__all__ = ["CaseSnapshotExtension", "case_of_item"]


def case_of_item(item: Any) -> Case:
    """The case a suite item runs (its ``wireplay_entry`` parameter)."""
    entry = item.callspec.params["wireplay_entry"]
    assert entry.case is not None
    return entry.case


class CaseSnapshotExtension(SingleFileSnapshotExtension):
    """JSONL text snapshots named by case id."""

    _write_mode = WriteMode.TEXT
    file_extension = "jsonl"

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        return str(case_of_item(test_location.item).snapshot_path.parent)

    @classmethod
    def get_snapshot_name(cls, *, test_location: PyTestLocation, index: Any = 0) -> str:
        return case_of_item(test_location.item).id
