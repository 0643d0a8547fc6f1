"""What a hostile server does to a case's script: mutations, as data, applied purely.

A *plan* is a list of :class:`Mutation`. Each one names an operation and integers that
pick where it applies **modulo** what the script has, so any plan applies to any script
(the strategies in :mod:`harness.fuzz.strategies` need not know the base case, and a
shrunk plan stays meaningful). :func:`apply` takes a case's ``server`` mapping (the case
format, one revision) and returns a new one; nothing else is read or written.

Where a mutation applies:

- a **slot** is something the server sends: a websocket ``send`` / ``send_text`` /
  ``send_binary`` step, an SSE ``event`` / ``data`` / ``raw`` step, or an HTTP (or refused
  upgrade) JSON / text body;
- a **cut** is a point where a connection can end: before a websocket upgrade completes,
  between any two steps of a websocket script or an SSE body, or before an HTTP status line.

Operations (docs/fuzz.md has the table): ``arbitrary`` (the slot becomes any JSON value),
``truncate`` (its JSON text cut short), ``wrong_type`` (one field, at any depth, gets a
value of another JSON type), ``unknown_type`` (an event of a type no client knows is sent
before the slot), ``huge_string`` (one string field becomes 10 kB - 1 MB), ``duplicate``
(the slot sent again, up to 4 more times), ``reorder`` (two slots of one exchange swap),
``drop`` (the connection ends at a cut: FIN or RST), ``stall`` (the server goes silent at a
cut, TCP open) and ``close`` (a websocket close frame at a cut, with a code).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal


__all__ = ["CLOSE_CODES", "OPS", "Cut", "Mutation", "Slot", "apply", "cuts", "describe", "slots"]

OPS = ("arbitrary", "truncate", "wrong_type", "unknown_type", "huge_string", "duplicate", "reorder", "drop", "stall", "close")
CLOSE_CODES = (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1011, 1012, 1013, 3000, 4000, 4999)
STALL_SECONDS = 3600  # "never": the case's bound ends it
_WS_SENDS = ("send", "send_text", "send_binary")
_SSE_SENDS = ("event", "data", "raw")
_MODIFIERS = frozenset({"repeat", "timeout", "malformed", "layer", "revision"})


@dataclass(frozen=True, slots=True)
class Mutation:
    """One thing the server does differently. ``at`` picks the slot or cut (modulo their
    number), ``arg`` a secondary choice (a field, another slot, a length, a code, FIN or
    RST), ``value`` the JSON value, type name and fields, or size the operation needs."""

    op: str
    at: int = 0
    arg: int = 0
    value: Any = None


@dataclass(frozen=True, slots=True)
class Slot:
    exchange: int
    where: Literal["ws", "sse", "body"]
    step: int  # index in the script / sse list; -1 for a body


@dataclass(frozen=True, slots=True)
class Cut:
    exchange: int
    where: Literal["upgrade", "ws", "sse", "http"]
    pos: int  # steps kept before the cut


def _op(step: Mapping[str, Any]) -> str:
    return next((k for k in step if k not in _MODIFIERS), "")


def _reply_key(ex: Mapping[str, Any]) -> str | None:
    for key in ("respond", "reject"):
        if isinstance(ex.get(key), Mapping):
            return key
    return None


def slots(server: Mapping[str, Any]) -> list[Slot]:
    """Everything the server sends, in script order."""
    out: list[Slot] = []
    for e, ex in enumerate(server.get("exchanges", [])):
        if "websocket" in ex and "reject" not in ex:
            out += [Slot(e, "ws", j) for j, step in enumerate(ex.get("script", [])) if _op(step) in _WS_SENDS]
            continue
        key = _reply_key(ex)
        reply = ex.get(key, {}) if key else {}
        if isinstance(reply.get("sse"), list):
            out += [Slot(e, "sse", j) for j, step in enumerate(reply["sse"]) if _op(step) in _SSE_SENDS]
        elif "json" in reply or "text" in reply:
            out.append(Slot(e, "body", -1))
    return out


def cuts(server: Mapping[str, Any]) -> list[Cut]:
    """Every point where a connection can end."""
    out: list[Cut] = []
    for e, ex in enumerate(server.get("exchanges", [])):
        # Cuts inside a body first, then the one before the response: a small ``at`` (where
        # hypothesis shrinks to) is a connection that ends early, not a handshake that never
        # completes (which costs the client's whole handshake timeout).
        if "websocket" in ex and "reject" not in ex:
            out += [Cut(e, "ws", pos) for pos in range(len(ex.get("script", [])) + 1)]
            out.append(Cut(e, "upgrade", 0))
        elif "http" in ex:
            reply = ex.get("respond", {})
            if isinstance(reply.get("sse"), list):
                out += [Cut(e, "sse", pos) for pos in range(len(reply["sse"]) + 1)]
            out.append(Cut(e, "http", 0))
    return out


# --- reading and writing one slot --------------------------------------------------------------


def _ascii_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"))


def _plain(value: Any) -> bool:
    """Whether a value can stay literal JSON in the case file: ASCII only (a lone surrogate or
    any other character goes in a ``\\u`` escape of a text step instead)."""
    return json.dumps(value, ensure_ascii=False).isascii()


def _read(server: Mapping[str, Any], slot: Slot) -> tuple[str, Any]:
    """``("json", value)``, ``("text", str)`` or ``("binary", b64)`` of a slot."""
    ex = server["exchanges"][slot.exchange]
    if slot.where == "body":
        reply = ex[_reply_key(ex) or "respond"]
        return ("json", reply["json"]) if "json" in reply else ("text", str(reply["text"]))
    steps = ex["script"] if slot.where == "ws" else ex["respond"]["sse"]
    step = steps[slot.step]
    op = _op(step)
    if op in ("send", "event"):
        return "json", step[op]
    if op == "send_binary":
        return "binary", step[op]
    text = str(step[op])
    try:
        return "json", json.loads(text)
    except ValueError:
        return "text", text


def _step_for(where: str, kind: str, value: Any) -> dict[str, Any]:
    if where == "ws":
        if kind == "json" and isinstance(value, dict) and _plain(value):
            return {"send": value}
        return {"send_text": _ascii_json(value) if kind == "json" else str(value)}
    if kind == "json" and isinstance(value, dict) and isinstance(value.get("type"), str) and _plain(value):
        return {"event": value}
    return {"data": _ascii_json(value) if kind == "json" else str(value)}


def _write(server: dict[str, Any], slot: Slot, kind: str, value: Any) -> None:
    ex = server["exchanges"][slot.exchange]
    if slot.where == "body":
        reply = ex[_reply_key(ex) or "respond"]
        reply.pop("json", None)
        reply.pop("text", None)
        if kind == "json" and _plain(value):
            reply["json"] = value
        else:
            reply["text"] = _ascii_json(value) if kind == "json" else str(value)
            headers = reply.get("headers", {})
            if kind == "json" and not any(str(k).lower() == "content-type" for k in headers):
                reply["headers"] = {**headers, "content-type": "application/json"}
        return
    steps = ex["script"] if slot.where == "ws" else ex["respond"]["sse"]
    old = steps[slot.step]
    new = _step_for(slot.where, kind, value)
    for key in ("repeat", "layer"):
        if key in old:
            new[key] = old[key]
    steps[slot.step] = new


def _insert(server: dict[str, Any], slot: Slot, steps_to_add: list[dict[str, Any]], *, after: bool) -> None:
    ex = server["exchanges"][slot.exchange]
    steps = ex["script"] if slot.where == "ws" else ex["respond"]["sse"]
    at = slot.step + 1 if after else slot.step
    steps[at:at] = steps_to_add


# --- JSON surgery -------------------------------------------------------------------------------


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key / index path inside a JSON container, depth first (the root excluded)."""
    out: list[tuple[Any, ...]] = []
    items: Sequence[tuple[Any, Any]] = list(value.items()) if isinstance(value, dict) else list(enumerate(value)) if isinstance(value, list) else []
    for key, child in items:
        out.append((*prefix, key))
        out += _paths(child, (*prefix, key))
    return out


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def _set(value: Any, path: tuple[Any, ...], new: Any) -> None:
    parent = _get(value, path[:-1])
    parent[path[-1]] = new


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object" if isinstance(value, dict) else "other"


def _other_type(value: Any, old: Any) -> Any:
    """``value`` if its JSON type differs from ``old``'s, else a value of another type."""
    if _json_type(value) != _json_type(old):
        return value
    return {"object": [value], "array": {"v": value}, "string": 0, "number": "0", "boolean": None, "null": False, "other": None}[_json_type(old)]


# --- the operations -------------------------------------------------------------------------------


def _arbitrary(server: dict[str, Any], m: Mutation, found: list[Slot]) -> None:
    _write(server, found[m.at % len(found)], "json", copy.deepcopy(m.value))


def _truncate(server: dict[str, Any], m: Mutation, found: list[Slot]) -> None:
    slot = found[m.at % len(found)]
    kind, value = _read(server, slot)
    if kind == "binary":
        return
    text = _ascii_json(value) if kind == "json" else str(value)
    _write(server, slot, "text", text[: m.arg % len(text)] if text else "")


def _wrong_type(server: dict[str, Any], m: Mutation, found: list[Slot]) -> None:
    slot = found[m.at % len(found)]
    kind, value = _read(server, slot)
    paths = _paths(value) if kind == "json" else []
    if not paths:
        return
    value = copy.deepcopy(value)
    path = paths[m.arg % len(paths)]
    _set(value, path, _other_type(copy.deepcopy(m.value), _get(value, path)))
    _write(server, slot, "json", value)


def _unknown_type(server: dict[str, Any], m: Mutation, found: list[Slot]) -> None:
    slot = found[m.at % len(found)]
    if slot.where == "body":
        return
    name, fields = m.value if isinstance(m.value, list | tuple) else ("unknown.event", {})
    event = {**copy.deepcopy(dict(fields)), "type": str(name)}
    _insert(server, slot, [_step_for(slot.where, "json", event)], after=False)


def _huge_string(server: dict[str, Any], m: Mutation, found: list[Slot]) -> None:
    slot = found[m.at % len(found)]
    kind, value = _read(server, slot)
    huge = "x" * max(1, int(m.value or 10_000))
    if kind == "binary":
        return
    if kind != "json" or not isinstance(value, dict | list):
        _write(server, slot, "text", huge)
        return
    value = copy.deepcopy(value)
    strings = [p for p in _paths(value) if isinstance(_get(value, p), str) and p != ("type",)]  # a huge type is unknown_type
    if strings:
        _set(value, strings[m.arg % len(strings)], huge)
    elif isinstance(value, dict):
        value["delta"] = huge
    else:
        value.append(huge)
    _write(server, slot, "json", value)


def _duplicate(server: dict[str, Any], m: Mutation, found: list[Slot]) -> None:
    slot = found[m.at % len(found)]
    if slot.where == "body":
        return
    ex = server["exchanges"][slot.exchange]
    steps = ex["script"] if slot.where == "ws" else ex["respond"]["sse"]
    _insert(server, slot, [copy.deepcopy(steps[slot.step]) for _ in range(m.arg % 4 + 1)], after=True)


def _reorder(server: dict[str, Any], m: Mutation, found: list[Slot]) -> None:
    slot = found[m.at % len(found)]
    if slot.where == "body":
        return
    peers = [s for s in found if s.exchange == slot.exchange and s.where == slot.where]
    other = peers[m.arg % len(peers)]
    ex = server["exchanges"][slot.exchange]
    steps = ex["script"] if slot.where == "ws" else ex["respond"]["sse"]
    steps[slot.step], steps[other.step] = steps[other.step], steps[slot.step]


def _cut(server: dict[str, Any], m: Mutation) -> None:
    found = [c for c in cuts(server) if m.op != "close" or c.where == "ws"]
    if not found:
        return
    cut = found[m.at % len(found)]
    ex = server["exchanges"][cut.exchange]
    how = "reset" if m.arg % 2 else "drop"
    if cut.where == "upgrade":
        # Before the 101: the connection ends, or the server never finishes the handshake.
        for key in ("script", "accept", "on_close", "compression", "pace", "extra_messages"):
            ex.pop(key, None)
        if m.op == "stall":
            ex["accept"] = {"delay": STALL_SECONDS}
            ex["script"] = []
        else:
            ex["reject"] = {"abort": how}
        return
    if cut.where == "http":
        reply = ex.setdefault("respond", {})
        if m.op == "stall":
            reply["delay"] = STALL_SECONDS
        else:
            reply["abort"] = how
        return
    if cut.where == "sse":
        reply = ex["respond"]
        reply["sse"] = reply["sse"][: cut.pos]
        reply["end"] = "hang" if m.op == "stall" else how
        return
    ex["script"] = ex.get("script", [])[: cut.pos]
    if m.op == "stall":
        ex["script"].append({"stall": None})
    elif m.op == "close":
        ex["script"].append({"close": {"code": CLOSE_CODES[m.arg % len(CLOSE_CODES)], "reason": ""}})
    else:
        ex["script"].append({how: None})


_SLOT_OPS = {
    "arbitrary": _arbitrary,
    "truncate": _truncate,
    "wrong_type": _wrong_type,
    "unknown_type": _unknown_type,
    "huge_string": _huge_string,
    "duplicate": _duplicate,
    "reorder": _reorder,
}


def apply(server: Mapping[str, Any], plan: Sequence[Mutation]) -> dict[str, Any]:
    """A copy of ``server`` with each mutation applied in order (each one sees the result of
    the previous ones); a mutation with nothing to apply to changes nothing."""
    out = copy.deepcopy(dict(server))
    for m in plan:
        if m.op in _SLOT_OPS:
            found = slots(out)
            if found:
                _SLOT_OPS[m.op](out, m, found)
        elif m.op in ("drop", "stall", "close"):
            _cut(out, m)
        else:
            raise ValueError(f"unknown mutation {m.op!r}; expected one of {', '.join(OPS)}")
    return out


def describe(m: Mutation) -> str:
    """One line for a case's notes (the values shortened)."""
    shown = json.dumps(m.value, ensure_ascii=True)
    if len(shown) > 120:
        shown = shown[:117] + "..."
    return f"{m.op}(at={m.at}, arg={m.arg}, value={shown})"
