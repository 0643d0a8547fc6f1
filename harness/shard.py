"""Which shard of a split run a case belongs to: by its id alone.

A case's shard depends on nothing but its id and the shard count, so adding, removing or
renaming other cases never moves it: CI jobs `--shard 1/4` … `--shard 4/4` together run
every case exactly once, and a case's history stays in the same job.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass


__all__ = ["Shard", "parse_shard"]

_SPEC = re.compile(r"^(?P<i>\d+)/(?P<n>\d+)$")


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int

    def holds(self, case_id: str) -> bool:
        digest = hashlib.sha256(case_id.encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``"2/4"`` → Shard(2, 4).

    Raises:
        ValueError: not ``i/n`` with 1 ≤ i ≤ n, with the fix in the message.
    """
    m = _SPEC.match(text.strip())
    if m is None or not 1 <= int(m["i"]) <= int(m["n"]):
        raise ValueError(f"--shard {text!r}: expected i/n with 1 <= i <= n, e.g. --shard 1/4")
    return Shard(int(m["i"]), int(m["n"]))
