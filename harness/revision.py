"""Protocol revisions: which variant of a case's facts an implementation is judged on.

The Codex client changed while the suite was written: a real client may be a later
revision than the seeds describe. A case whose facts differ by revision carries each
variant tagged ``revision: <name>``; an implementation declares the revision it speaks
and the runner keeps only that revision's variants (docs/profiles.md). ``seed`` is the
revision the seeds describe, and every implementation's unless it declares another.
"""

from __future__ import annotations


__all__ = ["SEED"]

SEED = "seed"
