"""Every frame the bundled cases make the fake server send validates against its wire schema.

Realtime v2 and Responses frames are checked against schemas generated from the
pinned openai-python types, realtime v1 and codex-only events against the
hand-written ones. A frame a case sends on purpose in a broken shape carries
``malformed: true`` and is skipped; raw text/binary frames are never JSON frames.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.case.catalog import load_catalog
from harness.case.model import Case
from harness.wire_schemas import validate_frame


def _realtime_version(case: Case) -> str:
    """The version the case runs: explicit config, else its profile's default (v1; v2 in later)."""
    section = case.config.get("realtime", {})
    if "version" in section:
        return section["version"]
    profile = case.profile.get("realtime", section.get("profile"))
    preset = profile if isinstance(profile, str) else (profile or {}).get("preset")
    default = (profile or {}).get("default_version") if isinstance(profile, dict) else None
    return default or ("v2" if preset == "later" else "v1")


def _protocol(case: Case, *, path: str, websocket: bool) -> str | None:
    if "/realtime" in path:
        return f"realtime.{_realtime_version(case)}"
    if path.endswith("/responses"):
        return "responses.ws" if websocket else "responses.sse"
    return None


def _frames(case: Case) -> Iterator[tuple[str, str, dict]]:
    for ex in case.script.exchanges:
        path = ex.route.get("path")
        if not isinstance(path, str):
            continue
        protocol = _protocol(case, path=path, websocket=ex.kind == "websocket")
        if protocol is None:
            continue
        for step in ex.script:
            if step.op == "send" and not step.malformed:
                yield protocol, step.path, step.payload
        if ex.reply is not None and ex.reply.sse:
            for sse in ex.reply.sse:
                if sse.op == "event" and not sse.malformed:
                    yield protocol, sse.path, sse.payload


CASES = [e.case for e in load_catalog() if e.case is not None]
FRAMES = [(case.id, protocol, where, frame) for case in CASES for protocol, where, frame in _frames(case)]


def test_the_suite_has_frames_to_check():
    assert len(FRAMES) > 0


@pytest.mark.parametrize(("case_id", "protocol", "where", "frame"), FRAMES, ids=[f"{c}:{w}" for c, _, w, _ in FRAMES])
def test_frame_validates(case_id, protocol, where, frame):
    problems = validate_frame(protocol=protocol, direction="server", frame=frame)
    assert problems == [], f"{case_id} {where}: {problems}"
