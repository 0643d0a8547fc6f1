"""Case file → validated, typed Case.

YAML is parsed once into a node tree that keeps line marks, and the value is built
from that tree, so every schema error points at ``file:line: field.path``. Dicts
exist only inside this module; what leaves it is a frozen ``Case``.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource

from fake_server.matchers import check_matcher_syntax
from fake_server.script import script_from_mapping, times_from
from harness.case.model import (
    Case,
    ClientStep,
    EventAssertion,
    EventCheckKind,
    TimingCheck,
    WireCheck,
)
from harness.errors import CaseError
from harness.layer import Layer
from harness.paths import SCHEMAS_DIR


__all__ = ["SCHEMA_BASE", "config_areas", "load_case", "parse_case_text", "schema_registry"]

SCHEMA_BASE = "https://wireplay.dev/schemas/"
_BASE = SCHEMA_BASE
_RUNNER_STEPS = frozenset({"wait", "sleep"})
_STEP_MODIFIERS = frozenset({"revision", "repeat"})  # keys of a client step that are not its operation


@cache
def schema_registry() -> Registry:
    """Every JSON Schema under schemas/, addressable by its path relative to schemas/."""
    registry: Registry = Registry()
    for path in sorted(SCHEMAS_DIR.rglob("*.json")):
        if "wire" in path.relative_to(SCHEMAS_DIR).parts:
            continue  # wire schemas have their own loader (harness.wire_schemas)
        contents = json.loads(path.read_text())
        if not isinstance(contents, dict) or "$schema" not in contents:
            continue
        uri = _BASE + path.relative_to(SCHEMAS_DIR).as_posix()
        contents["$id"] = uri  # canonical id = path under schemas/, whatever the file says
        registry = registry.with_resource(uri, Resource.from_contents(contents))
    return registry


@cache
def _validator(name: str) -> Draft202012Validator:
    schema = schema_registry().contents(_BASE + name)
    return Draft202012Validator(schema, registry=schema_registry())


@cache
def _step_validator(schema_name: str, op: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{_BASE}{schema_name}#/$defs/{op}"}, registry=schema_registry())


def _line_map(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int], dups: list[tuple[tuple[Any, ...], int]]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                dups.append(((*path, key), key_node.start_mark.line + 1))
            seen.add(key)
            out[(*path, key)] = key_node.start_mark.line + 1
            _line_map(value_node, (*path, key), out, dups)
            out[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_map(item, (*path, i), out, dups)


def field_path(path: Iterable[Any]) -> str:
    """``('server', 'exchanges', 0, 'http')`` → ``server.exchanges[0].http``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_for(lines: Mapping[tuple[Any, ...], int], path: tuple[Any, ...]) -> int | None:
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path)


def _describe(error: ValidationError) -> tuple[tuple[Any, ...], str]:
    """A path and a message a case author can act on, for one schema error."""
    path = tuple(error.absolute_path)
    v = error.validator
    if v == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed] if isinstance(error.instance, dict) else []
        if extra:
            hint = f"; expected one of: {', '.join(allowed)}" if allowed else ""
            return (*path, extra[0]), f"unknown field '{extra[0]}'{hint}"
    if v == "required":
        return path, f"missing required field {error.message.split(' is a required')[0]}"
    if v == "enum":
        choices = ", ".join(json.dumps(c) for c in error.validator_value)
        return path, f"expected one of {choices}; got {json.dumps(error.instance)}"
    if v == "type":
        return path, f"expected {error.validator_value}, got {json.dumps(error.instance)}"
    if v == "oneOf" and isinstance(error.instance, dict):
        branches = [b.get("required", []) for b in error.validator_value]
        keys = [r[0] for r in branches if r]  # a branch is named by its first required key
        if len(keys) == len(branches):
            present = [k for k in keys if k in error.instance]
            if not present:
                return path, f"expected exactly one of: {', '.join(keys)}; got keys {sorted(error.instance)}"
            if len(present) > 1:
                return path, f"expected exactly one of: {', '.join(keys)}; got {', '.join(present)} together"
            chosen = keys.index(present[0])
            inner = [e for e in error.context if e.relative_schema_path and e.relative_schema_path[0] == chosen]
            if inner:
                return _describe(min(inner, key=lambda e: (len(e.absolute_path) * -1, len(e.message))))
    if v in ("oneOf", "anyOf") and error.context:
        # A branch that failed on something other than its type is the one the author meant.
        meant = [e for e in error.context if e.validator != "type"]
        if meant:
            return _describe(min(meant, key=lambda e: (-len(e.absolute_path), len(e.message))))
        types = [str(e.validator_value) for e in error.context]
        return path, f"expected {' or '.join(types)}, got {json.dumps(error.instance)}"
    if v == "not" and isinstance(error.instance, dict):
        combos = [b.get("required", []) for b in error.validator_value.get("anyOf", [])]
        hit = next((c for c in combos if c and all(k in error.instance for k in c)), None)
        if hit is not None and len(hit) > 1:
            return (*path, hit[-1]), f"fields {' and '.join(repr(k) for k in hit)} cannot be used together"
        if hit is not None:
            return (*path, hit[0]), f"field '{hit[0]}' is not allowed here"
    if v == "maxProperties" and error.validator_value == 1 and isinstance(error.instance, dict):
        return path, f"a step does exactly one thing; got {', '.join(error.instance)} in one step (split them)"
    if v == "minItems":
        return path, f"expected at least {error.validator_value} item(s), got {len(error.instance)}"
    if "propertyNames" in error.schema_path:
        return path, f"unknown step {json.dumps(error.instance)}; a step is realtime.<op>, responses.<op>, auth.<op>, tls.<op>, x.<op>, wait or sleep"
    if v == "pattern":
        return path, f"{json.dumps(error.instance)} does not match the pattern {error.validator_value!r}"
    return path, error.message


def parse_case_text(text: str, *, file: Path, cases_root: Path | None = None) -> Case:
    """Parse and validate one case; raise CaseError with file:line: field on any problem."""
    case, problems = analyse_case_text(text, file=file, cases_root=cases_root)
    if case is None:
        raise problems[0]
    return case


def case_problems(text: str, *, file: Path, cases_root: Path | None = None) -> list[CaseError]:
    """Every problem in one case file (empty list: the case is valid)."""
    return analyse_case_text(text, file=file, cases_root=cases_root)[1]


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: same result, faster


def _parse(text: str, *, loader: Any = _Loader) -> tuple[yaml.Node | None, Any]:
    """One parse: the node tree (line marks) and the value built from it."""
    loader = loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return node, data



def analyse_case_text(text: str, *, file: Path, cases_root: Path | None = None) -> tuple[Case | None, list[CaseError]]:
    """The case, or every problem found in it (file, line, field path, what was expected)."""
    try:
        node, data = _parse(text)
    except yaml.YAMLError:
        # libyaml is only a speed-up: where it and PyYAML's own parser disagree (it
        # refuses some escapes, e.g. surrogate pairs), PyYAML decides and words the error.
        try:
            node, data = _parse(text, loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark else None
            problem = getattr(exc, "problem", None) or str(exc)
            return None, [CaseError(file=file, line=line, field="", message=f"invalid YAML: {problem}")]
    if not isinstance(data, dict):
        line = node.start_mark.line + 1 if node is not None else 1
        return None, [CaseError(file=file, line=line, field="", message="expected a mapping at the top level (id, title, seed, client, server, ...)")]
    lines: dict[tuple[Any, ...], int] = {}
    dups: list[tuple[tuple[Any, ...], int]] = []
    _line_map(node, (), lines, dups)
    problems = [
        CaseError(file=file, line=line, field=field_path(path), message="duplicate key (a later value would silently win)")
        for path, line in dups
    ]
    for error in sorted(_validator("case.schema.json").iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        path, message = _describe(error)
        problems.append(CaseError(file=file, line=_line_for(lines, path), field=field_path(path), message=message))
    if not problems:
        problems += _semantic_problems(data, file=file, lines=lines, cases_root=cases_root)
    if problems:
        return None, problems
    return _build(data, file=file, lines=lines), []


def _matcher_fields(data: Mapping[str, Any]) -> Iterable[tuple[tuple[Any, ...], Any]]:
    for i, ex in enumerate(data["server"]["exchanges"]):
        base: tuple[Any, ...] = ("server", "exchanges", i)
        for kind in ("http", "websocket"):
            if kind in ex:
                yield (*base, kind), ex[kind]
        if "expect" in ex:
            yield (*base, "expect"), ex["expect"]
        for j, step in enumerate(ex.get("script", [])):
            for key in ("expect", "expect_eventually", "expect_close"):
                if key in step:
                    yield (*base, "script", j, key), step[key]
    expect = data.get("expect", {})
    for i, check in enumerate(expect.get("wire", [])):
        yield ("expect", "wire", i), check
    for i, check in enumerate(expect.get("timing", [])):
        for key in ("from_event", "to_event"):
            if key in check:
                yield ("expect", "timing", i, key), check[key]
    for i, check in enumerate(expect.get("events", [])):
        yield ("expect", "events", i), check
    for i, step in enumerate(data["client"]["steps"]):
        if "wait" in step:
            yield ("client", "steps", i, "wait", "event"), step["wait"]["event"]


def _step_args_problems(data: Mapping[str, Any], *, file: Path, lines: Mapping[tuple[Any, ...], int]) -> list[CaseError]:
    problems = []
    path: tuple[Any, ...]
    for i, step in enumerate(data["client"]["steps"]):
        ops = [(k, v) for k, v in step.items() if k not in _STEP_MODIFIERS]
        if len(ops) != 1:
            path = ("client", "steps", i)
            got = ", ".join(k for k, _ in ops) or f"only {', '.join(step)}"
            problems.append(CaseError(file=file, line=_line_for(lines, path), field=field_path(path), message=f"a step does exactly one thing; got {got} in one step (split them)"))
            continue
        ((op, args),) = ops
        if op in _RUNNER_STEPS:
            if "repeat" in step:
                path = ("client", "steps", i, "repeat")
                problems.append(CaseError(file=file, line=_line_for(lines, path), field=field_path(path), message=f"repeat is for implementation steps, not '{op}' (give the {op} its own longer bound instead)"))
            continue
        area = op.split(".", 1)[0]
        schema_name = f"steps/{area}.schema.json"
        path = ("client", "steps", i, op)
        try:
            steps_schema = schema_registry().contents(_BASE + schema_name)
        except Exception:
            continue
        known = steps_schema.get("$defs", {})
        if op not in known:
            names = ", ".join(sorted(known))
            problems.append(CaseError(file=file, line=_line_for(lines, path), field=field_path(path), message=f"unknown step '{op}'; expected one of: {names}"))
            continue
        for error in _step_validator(schema_name, op).iter_errors(args if args is not None else {}):
            sub, message = _describe(error)
            full = path + sub
            problems.append(CaseError(file=file, line=_line_for(lines, full), field=field_path(full), message=message))
    return problems


_FREE_AREA = "x"  # config.x, like x.<op> steps: free-form, for one implementation or a test
_CONFIG_NESTED = frozenset({"auth"})  # schemas/config/auth.schema.json: the `auth` key inside an area, not an area


@cache
def config_areas() -> tuple[str, ...]:
    """The areas of ``client.config``: one per schemas/config/<area>.schema.json."""
    names = (p.name.removesuffix(".schema.json") for p in (SCHEMAS_DIR / "config").glob("*.schema.json"))
    return tuple(sorted(n for n in names if n not in _CONFIG_NESTED))


@cache
def _config_validator(area: str, pointer: str = "") -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{_BASE}config/{area}.schema.json{pointer}"}, registry=schema_registry())


@cache
def _profile_areas() -> tuple[str, ...]:
    """The config areas whose schema has a ``profile`` (a top-level ``profile:`` may name them)."""
    return tuple(a for a in config_areas() if "profile" in schema_registry().contents(f"{_BASE}config/{a}.schema.json").get("properties", {}))


def _did_you_mean(got: Any, choices: Iterable[Any]) -> str:
    """The fix for a misspelt key or value: the close match, else every choice."""
    options = [c for c in choices if isinstance(c, str)]
    close = difflib.get_close_matches(str(got), options, n=1, cutoff=0.6)
    if close:
        return f"did you mean {json.dumps(close[0])}?"
    return f"expected one of: {', '.join(json.dumps(c) for c in choices)}"


def _at(value: Any, path: Iterable[Any]) -> Any:
    for part in path:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def _config_describe(error: ValidationError, *, root: Any, schema_file: str) -> tuple[tuple[Any, ...], str]:
    """``<what> — <the fix>`` for one schema error of a client config section."""
    path = tuple(error.absolute_path)
    v = error.validator
    if v == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        if extra:
            return (*path, extra[0]), f"unknown key '{extra[0]}' — {_did_you_mean(extra[0], allowed)} (keys: {schema_file})"
    if "propertyNames" in error.relative_schema_path and isinstance(error.instance, str):
        owner = _at(root, path)
        mode = owner.get("mode", "api_key") if isinstance(owner, dict) else None
        allowed = list(error.validator_value) if v == "enum" else []
        where = f" with mode {mode}" if mode else ""
        return (*path, error.instance), f"key '{error.instance}' does not apply{where} — {_did_you_mean(error.instance, allowed)} (keys per mode: {schema_file})"
    if v == "enum":
        return path, f"expected one of {', '.join(json.dumps(c) for c in error.validator_value)}; got {json.dumps(error.instance)} — {_did_you_mean(error.instance, error.validator_value)}"
    if v in ("oneOf", "anyOf") and error.context:
        # The branch the author meant is the one of the value's own kind (a preset name
        # or an object of overrides): drop the branches that fail on the kind alone.
        meant = [e for e in error.context if e.validator != "type" and not (e.validator == "enum" and isinstance(e.instance, dict | list))]
        if meant:
            best = min(meant, key=lambda e: (-len(e.absolute_path), e.validator != "additionalProperties", len(e.message)))
            return _config_describe(best, root=root, schema_file=schema_file)
    sub, message = _describe(error)
    if v == "type" and isinstance(error.instance, str):
        try:
            unquoted = json.loads(error.instance)
        except ValueError:
            unquoted = None
        if unquoted is not None and Draft202012Validator({"type": error.validator_value}).is_valid(unquoted):
            return sub, f"{message} — write it without quotes: {error.instance}"
    hint = error.schema.get("description") if isinstance(error.schema, dict) else None
    name = next((p for p in reversed(sub) if isinstance(p, str)), "")
    about = f"{name}: {hint.split('. ')[0].rstrip('.')}" if isinstance(hint, str) and hint and name else ""
    return sub, f"{message} — see {schema_file}" + (f" ({about})" if about else "")


def _config_problems(data: Mapping[str, Any], *, file: Path, lines: Mapping[tuple[Any, ...], int]) -> list[CaseError]:
    """``client.config`` (and the top-level ``profile``) against schemas/config/<area>.schema.json.

    The harness validates a case's config once, here: every adapter, the reference and
    the drivers alike, gets a config whose keys and values the schemas admit, so a typo
    is a load error with its line instead of an ERROR for one client and a PASS for another.
    """
    areas = config_areas()
    problems: list[CaseError] = []
    seen: set[str] = set()

    def add(path: tuple[Any, ...], message: str) -> None:
        field = field_path(path)
        if field not in seen:  # one problem per field (a key outside a mode is two schema errors)
            seen.add(field)
            problems.append(CaseError(file=file, line=_line_for(lines, path), field=field, message=message))

    sections: list[tuple[tuple[Any, ...], str, Any, str]] = []
    for area, section in (data["client"].get("config") or {}).items():
        sections.append((("client", "config", area), area, section, ""))
    for area, setting in (data.get("profile") or {}).items():
        sections.append((("profile", area), area, setting, "#/properties/profile"))
    for base, area, value, pointer in sections:
        if area == _FREE_AREA and not pointer:
            continue  # implementation-specific or test-only settings, as x.<op> steps are
        if area not in areas:
            fix = "the client's environment is client.env" if area == "env" else _did_you_mean(area, areas)
            add(base, f"unknown config area '{area}' — {fix} (one schema per area: schemas/config/<area>.schema.json; x is free-form)")
            continue
        schema_file = f"schemas/config/{area}.schema.json"
        if pointer and area not in _profile_areas():
            add(base, f"area '{area}' has no profiles — profiles exist for: {', '.join(_profile_areas())}")
            continue
        errors = sorted(_config_validator(area, pointer).iter_errors(value), key=lambda e: (list(map(str, e.absolute_path)), e.validator != "additionalProperties"))
        for error in errors:
            nested = next((k for k in error.absolute_path if k in _CONFIG_NESTED), None)  # the auth key: its own schema file
            sub, message = _config_describe(error, root=value, schema_file=f"schemas/config/{nested}.schema.json" if nested else schema_file)
            add((*base, *sub), message)
    return sorted(problems, key=lambda p: p.line or 0)


def _semantic_problems(data: Mapping[str, Any], *, file: Path, lines: Mapping[tuple[Any, ...], int], cases_root: Path | None) -> list[CaseError]:
    problems: list[CaseError] = []
    area = data["id"].split(".", 1)[0]
    if cases_root is not None:
        # In a suite (any folder), a case lives in the folder named after its area.
        folder = file.resolve().parent.name
        if folder != area:
            problems.append(CaseError(
                file=file, line=lines.get(("id",)), field="id",
                message=f"the first segment '{area}' must be the case's area folder '{folder}' (<suite>/{folder}/...)",
            ))
    for path, value in _matcher_fields(data):
        for problem in check_matcher_syntax(value):
            sub, _, message = problem.partition(": ")
            full = field_path(path) + ("." + sub if sub and sub != "<root>" else "")
            problems.append(CaseError(file=file, line=_line_for(lines, path), field=full, message=message))
    problems += _config_problems(data, file=file, lines=lines)
    problems += _step_args_problems(data, file=file, lines=lines)
    problems += _event_assertion_problems(data, file=file, lines=lines)
    problems += _listener_problems(data, file=file, lines=lines)
    return problems


_PLACEHOLDER = re.compile(r"\$\{([a-z][a-z0-9_-]*):([a-z_-]+)\}")


def _strings(value: Any, path: tuple[Any, ...]) -> Iterable[tuple[tuple[Any, ...], str]]:
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _strings(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, (*path, i))
    elif isinstance(value, str):
        yield path, value


def _listener_problems(data: Mapping[str, Any], *, file: Path, lines: Mapping[tuple[Any, ...], int]) -> list[CaseError]:
    """Exchanges, placeholders and await steps name listeners, exchanges and marks the case has."""
    declared = set(data["server"].get("listeners", ()))
    problems = []
    for i, ex in enumerate(data["server"]["exchanges"]):
        name = ex.get("listener")
        if name is not None and name != "main" and name not in declared:
            path: tuple[Any, ...] = ("server", "exchanges", i, "listener")
            problems.append(CaseError(file=file, line=_line_for(lines, path), field=field_path(path), message=f"unknown listener '{name}'; declare it in server.listeners (declared: {', '.join(sorted(declared)) or 'none'})"))
    names = {ex.get("name") for ex in data["server"]["exchanges"]}
    marks = {step.get("mark") for ex in data["server"]["exchanges"] for step in [*ex.get("script", ()), *(ex.get("respond") or {}).get("sse", ())]}
    for i, ex in enumerate(data["server"]["exchanges"]):
        steps = [("script", ex.get("script", ())), ("respond", (ex.get("respond") or {}).get("sse", ()))]
        for where, items in steps:
            for j, step in enumerate(items):
                target = step.get("await") if isinstance(step, Mapping) else None
                if not target:
                    continue
                sub: tuple[Any, ...] = ("server", "exchanges", i, *((where, j) if where == "script" else ("respond", "sse", j)), "await")
                if "exchange" in target and target["exchange"] not in names:
                    problems.append(CaseError(file=file, line=_line_for(lines, sub), field=field_path(sub), message=f"no exchange is named '{target['exchange']}'; name one with name:"))
                if "mark" in target and target["mark"] not in marks:
                    problems.append(CaseError(file=file, line=_line_for(lines, sub), field=field_path(sub), message=f"no step records mark '{target['mark']}'"))
    client = data["client"]
    for path, text in [*_strings(client.get("config", {}), ("client", "config")), *_strings(client.get("endpoint", {}), ("client", "endpoint")), *_strings(client.get("env", {}), ("client", "env"))]:
        for m in _PLACEHOLDER.finditer(text):
            kind, name = m.groups()
            known = kind in ("server", "tls") or kind in declared or (kind == "proxy" and "proxy" in data["server"])  # ${proxy:origin}: server.proxy
            if not known:
                problems.append(CaseError(file=file, line=_line_for(lines, path), field=field_path(path), message=f"unknown placeholder {m.group(0)}; expected ${{server:origin}}, ${{server:ws_origin}}, ${{tls:<bundle>}} or a listener of server.listeners"))
            elif kind != "tls" and name not in ("origin", "ws_origin"):
                problems.append(CaseError(file=file, line=_line_for(lines, path), field=field_path(path), message=f"unknown placeholder {m.group(0)}; a listener gives origin or ws_origin"))
    return problems


_WINDOWED = ("absent", "count")


def _event_assertion_problems(data: Mapping[str, Any], *, file: Path, lines: Mapping[tuple[Any, ...], int]) -> list[CaseError]:
    """Keys that the schema admits on every event assertion but mean something on some only."""
    problems = []

    def check(raw: Mapping[str, Any], path: tuple[Any, ...]) -> None:
        kind = next((k for k in ("sequence", "exact", "absent", "count") if k in raw), None)
        for key, needs in (("after", _WINDOWED), ("within", _WINDOWED), ("of", ("exact",)), ("n", ("count",))):
            if key in raw and kind not in needs:
                problems.append(CaseError(
                    file=file, line=_line_for(lines, (*path, key)), field=field_path((*path, key)),
                    message=f"'{key}' applies to {' and '.join(needs)} assertions only, not to {kind}",
                ))
        for j, alt in enumerate(raw.get("non_strict", ())):
            check(alt, (*path, "non_strict", j))

    for i, raw in enumerate(data.get("expect", {}).get("events", [])):
        check(raw, ("expect", "events", i))
    return problems


def _revisions(raw: Any) -> frozenset[str]:
    tag = raw.get("revision") if isinstance(raw, Mapping) else None
    if tag is None:
        return frozenset()
    return frozenset([tag] if isinstance(tag, str) else tag)


def _event_assertion(raw: Mapping[str, Any], *, path: str, layer: Layer) -> EventAssertion:
    kind = next(k for k in EventCheckKind if k.value in raw)
    matchers = tuple(raw[kind.value]) if kind in (EventCheckKind.SEQUENCE, EventCheckKind.EXACT) else (raw[kind.value],)
    return EventAssertion(
        kind=kind,
        matchers=matchers,
        path=path,
        layer=layer,
        why=raw.get("why", ""),
        of=tuple(raw.get("of", ())),
        after=raw.get("after"),
        within=float(raw["within"]) if "within" in raw else None,
        n=times_from(raw["n"]) if "n" in raw else None,
        non_strict=tuple(
            _event_assertion(alt, path=f"{path}.non_strict[{j}]", layer=layer) for j, alt in enumerate(raw.get("non_strict", ()))
        ),
        revisions=_revisions(raw),
    )


def _build(data: Mapping[str, Any], *, file: Path, lines: Mapping[tuple[Any, ...], int]) -> Case:
    layer = Layer(data.get("layer", Layer.PROTOCOL))

    def layer_of(raw: Any) -> Layer:
        return Layer(raw.get("layer", layer)) if isinstance(raw, Mapping) else layer

    steps = tuple(
        ClientStep(
            op=op,
            args={k: v for k, v in (args or {}).items() if not (op == "wait" and k == "layer")} if op != "sleep" else {"seconds": args},
            path=f"client.steps[{i}]",
            line=lines.get(("client", "steps", i)),
            layer=layer_of(args) if op == "wait" else layer,
            revisions=_revisions(step),
            repeat=int(step.get("repeat", 1)),
        )
        for i, step in enumerate(data["client"]["steps"])
        for op, args in step.items()
        if op not in _STEP_MODIFIERS
    )
    expect = data.get("expect", {})
    wire = tuple(
        WireCheck(
            selector=check["of"],
            count=times_from(check["count"]) if "count" in check else None,
            each=check.get("each"),
            items=tuple(check.get("items", ())),
            path=f"expect.wire[{i}]",
            why=check.get("why", ""),
            same=tuple(check.get("same", ())),
            layer=layer_of(check),
            revisions=_revisions(check),
        )
        for i, check in enumerate(expect.get("wire", []))
    )
    timing = tuple(
        TimingCheck(
            within=float(t["within"]),
            path=f"expect.timing[{i}]",
            from_mark=t.get("from_mark"),
            from_event=t.get("from_event"),
            to_event=t.get("to_event"),
            to_mark=t.get("to_mark"),
            why=t.get("why", ""),
            at_least=float(t.get("at_least", 0.0)),
            layer=layer_of(t),
            revisions=_revisions(t),
        )
        for i, t in enumerate(expect.get("timing", []))
    )
    events = tuple(
        _event_assertion(raw, path=f"expect.events[{i}]", layer=layer_of(raw)) for i, raw in enumerate(expect.get("events", []))
    )
    server = data["server"]
    declared = frozenset(data.get("requires", []))
    return Case(
        id=data["id"],
        title=data["title"],
        seed=(data["seed"],) if isinstance(data.get("seed"), str) else tuple(data.get("seed", ())),
        requires=declared | implied_capabilities(steps, profile=data.get("profile", {})),
        file=file,
        line=1,
        config={**data["client"].get("config", {}), **({"env": dict(data["client"]["env"])} if "env" in data["client"] else {})},
        profile=dict(data.get("profile", {})),
        steps=steps,
        script=script_from_mapping(server, layer=layer.value),
        tls=bool(server.get("tls", False)),
        layer=layer,
        wire=wire,
        timing=timing,
        events=events,
        snapshot=bool(expect.get("snapshot", True)),
        timeout=float(data.get("timeout", 10.0)),
        notes=data.get("notes", ""),
        server=server,
        endpoint=dict(data["client"].get("endpoint", {})),
    )


def implied_capabilities(steps: tuple[ClientStep, ...], *, profile: Any) -> frozenset[str]:
    """Capabilities a case needs by what its steps ask, whether or not ``requires`` says so.

    Scripted tool outputs and delegated-turn replies only mean something to a client
    that lets the harness answer for its tools or agent; pinned revisions need one that
    can switch. An implementation without them gets UNSUPPORTED, not a misleading FAIL.
    """
    implied: set[str] = set()
    for step in steps:
        if step.op == "responses.turn" and step.args.get("tool_outputs"):
            implied.add("responses.tool_outputs")
        if step.op in ("realtime.handoff_output", "realtime.turn_complete"):
            implied.add("realtime.handoff_output")
        if step.op in ("realtime.handoff_append", "realtime.update_prompt"):
            implied.add(step.op)  # an op only a client exposing codex-api's own methods offers
    if profile:
        implied.add("profiles")
    return frozenset(implied)


def load_case(file: Path, *, cases_root: Path | None = None) -> Case:
    """Load one case file; raise CaseError naming file, line and field on any problem."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseError(file=file, line=None, field="", message=f"cannot read the case file: {exc}") from None
    return parse_case_text(text, file=file, cases_root=cases_root)
