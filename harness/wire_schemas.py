"""Validate wire frames against the JSON Schemas in ``schemas/wire``.

Fake-server scripts and captured client frames are checked against what the real API
(via the OpenAI SDK's models, see ``scripts/gen_wire_schemas.py``) or codex's own parser
(hand-written schemas) expects, so a case cannot pass on frames no real peer would send.
Validators are compiled lazily per message type and cached: the big Responses schemas
(about 270 KiB each) only cost something when a frame of that type is seen.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, Literal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError


__all__ = [
    "DIRECTIONS",
    "PROTOCOLS",
    "known_types",
    "schema_file",
    "schemas_root",
    "validate_frame",
]

PROTOCOLS = ("realtime.v1", "realtime.v2", "responses.sse", "responses.ws")
DIRECTIONS = ("client", "server")
Source = Literal["auto", "generated", "codex"]

# (protocol, direction) -> folders under schemas/wire, in lookup order, tagged by source.
# v1 frames are codex-specific and hand-written; codex additions apply to SSE and WS alike
# because codex parses both with one function.
_FOLDERS: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("realtime.v1", "client"): (("codex", "realtime/v1/client"),),
    ("realtime.v1", "server"): (("codex", "realtime/v1/server"),),
    ("realtime.v2", "client"): (("generated", "realtime/v2/client"),
                                ("codex", "realtime/v2/codex/client")),
    ("realtime.v2", "server"): (("generated", "realtime/v2/server"),
                                ("codex", "realtime/v2/codex/server")),
    ("responses.sse", "client"): (),
    ("responses.sse", "server"): (("generated", "responses/sse"),
                                  ("codex", "responses/codex/server")),
    ("responses.ws", "client"): (("generated", "responses/ws/client"),
                                 ("codex", "responses/codex/client")),
    ("responses.ws", "server"): (("generated", "responses/ws/server"),
                                 ("codex", "responses/codex/server")),
}

_MAX_MESSAGE = 320


def schemas_root() -> Path:
    """The ``schemas`` directory: the repo checkout first, then the copy bundled in the wheel."""
    return _root_for(Path(__file__).resolve().parent)


def _root_for(package_dir: Path) -> Path:
    repo = package_dir.parent / "schemas"
    if (repo / "wire").is_dir():
        return repo
    return package_dir / "_bundled" / "schemas"


@cache
def _index(folder: str) -> Mapping[str, str]:
    """type -> filename for one folder; an absent folder has no types."""
    path = schemas_root() / "wire" / folder / "index.json"
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))["types"]


@cache
def _validator(path: str) -> Draft202012Validator:
    """Compile one schema file once (no check_schema here; the test suite does that)."""
    schema = json.loads(Path(path).read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def _folders(protocol: str, direction: str) -> tuple[tuple[str, str], ...]:
    try:
        return _FOLDERS[(protocol, direction)]
    except KeyError:
        raise ValueError(
            f"unknown protocol/direction {protocol!r}/{direction!r}; "
            f"protocol is one of {PROTOCOLS}, direction one of {DIRECTIONS}"
        ) from None


def schema_file(
    *, protocol: str, direction: str, message_type: str, source: Source = "auto"
) -> Path | None:
    """Path of the schema for ``message_type`` (generated first, then codex additions), or None."""
    for folder_source, folder in _folders(protocol, direction):
        if source not in ("auto", folder_source):
            continue
        filename = _index(folder).get(message_type)
        if filename is not None:
            return schemas_root() / "wire" / folder / filename
    return None


def known_types(*, protocol: str, direction: str) -> frozenset[str]:
    """Every message type with a schema for this protocol and direction."""
    return frozenset(t for _, folder in _folders(protocol, direction) for t in _index(folder))


def validate_frame(
    *, protocol: str, direction: str, frame: object, source: Source = "auto"
) -> list[str]:
    """Check one frame; return readable ``"<json path>: <message>"`` errors ([] when valid).

    ``frame`` is the decoded JSON value (a ``str``/``bytes`` frame is decoded first). The
    schema is chosen by ``frame["type"]``: the SDK-generated one if there is one, else
    the codex addition. ``source="codex"`` or ``"generated"`` forces one set, e.g. to
    check a Responses websocket ``error`` against codex's wrapped shape.
    """
    _folders(protocol, direction)  # reject a bad protocol/direction before looking at the frame
    if source not in ("auto", "generated", "codex"):
        raise ValueError(f"source must be 'auto', 'generated' or 'codex', not {source!r}")
    if isinstance(frame, str | bytes | bytearray):
        try:
            frame = json.loads(frame)
        except ValueError as exc:
            return [f"$: not valid JSON ({exc})"]
    if not isinstance(frame, dict):
        return [f"$: frame must be a JSON object, not {_json_kind(frame)}"]
    frame_type = frame.get("type")
    if not isinstance(frame_type, str):
        return ["$: frame has no string 'type'"]
    path = schema_file(
        protocol=protocol, direction=direction, message_type=frame_type, source=source
    )
    if path is None:
        where = "" if source == "auto" else f" ({source} schemas)"
        return [f"unknown type {frame_type!r} for {protocol} {direction}{where}"]
    errors = _validator(str(path)).iter_errors(frame)
    lines = {_format(err) for top in errors for err in _focus(top)}
    return sorted(lines)


# --------------------------------------------------------------------------- error shaping


def _focus(error: ValidationError) -> Iterable[ValidationError]:
    """Descend into anyOf/oneOf to the branch the frame was meant for.

    The SDK's unions become plain ``anyOf`` in JSON Schema (its discriminator is invisible
    to pydantic), so a bad nested item would otherwise read "not valid under any of the
    given schemas". Branches whose ``type`` const (or JSON kind) the value does not match
    are dropped; if exactly one is left, its own errors are reported instead.
    """
    if error.validator not in ("anyOf", "oneOf") or not error.context:
        return [error]
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    candidates = [errs for errs in branches.values() if not any(map(_is_mismatch, errs))]
    if len(candidates) == 1:
        return [leaf for sub in candidates[0] for leaf in _focus(sub)]
    if len(candidates) > 1:
        # e.g. a missing discriminator: every remaining branch reports the same problem.
        keyed = [{_format(leaf): leaf for sub in errs for leaf in _focus(sub)} for errs in candidates]
        common = set(keyed[0]).intersection(*keyed[1:])
        if common:
            return [keyed[0][key] for key in sorted(common)]
    return [error]


def _is_mismatch(error: ValidationError) -> bool:
    """True when the error shows the value is another kind of thing, not a broken one.

    ``type`` is the SDK's discriminator everywhere; ``role`` splits its message items.
    """
    path = list(error.relative_path)
    if not path and error.validator == "type":
        return True
    return path in (["type"], ["role"]) and error.validator in ("const", "enum", "anyOf")


def _format(error: ValidationError) -> str:
    message = error.message
    if error.validator in ("anyOf", "oneOf"):
        message = _union_message(error.instance, error.validator_value)
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 1] + "…"
    return f"{error.json_path}: {message}"


def _union_message(instance: object, branches: Any) -> str:
    """Say what a union wanted without repr-ing the (possibly huge) instance."""
    branches = branches if isinstance(branches, list) else []
    if branches and all(isinstance(b, dict) and set(b) == {"required"} for b in branches):
        wanted = " or ".join("+".join(map(repr, b["required"])) for b in branches)
        return f"needs {wanted}"
    names = [_branch_name(branch) for branch in branches]
    shown = ", ".join(names[:6]) + (f", … ({len(names)} in all)" if len(names) > 6 else "")
    return f"{_json_kind(instance)} matches none of [{shown}]"


def _branch_name(branch: object) -> str:
    if isinstance(branch, dict):
        if "$ref" in branch:
            return str(branch["$ref"]).rsplit("/", 1)[-1]
        if "const" in branch:
            return repr(branch["const"])
        if "type" in branch:
            return str(branch["type"])
    return "schema"


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, dict):
        kind = value.get("type")
        return f"object (type {kind!r})" if isinstance(kind, str) else "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__
