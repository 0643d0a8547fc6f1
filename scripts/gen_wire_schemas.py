#!/usr/bin/env python3
"""Generate the SDK-derived wire schemas under ``schemas/wire``.

The OpenAI Python SDK ships pydantic models but no JSON Schema files. This script
dumps one JSON Schema (draft 2020-12) per message ``type`` from the SDK's event
unions so that wireplay can validate frames without importing the SDK (whose
realtime extra pins an older ``websockets`` than the project uses).

It installs the pins from ``scripts/requirements-schemas.txt`` into a throwaway
venv under a temp dir and re-runs itself there with ``--dump``; the project venv
is never touched. Usage::

    python scripts/gen_wire_schemas.py            # regenerate in place
    python scripts/gen_wire_schemas.py --check    # regenerate to a temp dir, diff, exit 1 on drift
    python scripts/gen_wire_schemas.py --python /path/to/python  # reuse an env with the pins

Only the generated folders are rewritten; the hand-written ones (``realtime/v1``,
``realtime/v2/codex``, ``responses/codex``) are left alone.
"""

from __future__ import annotations

import argparse
import difflib
import filecmp
import json
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path
from typing import Any


REPO = Path(__file__).resolve().parent.parent
REQUIREMENTS = Path(__file__).resolve().parent / "requirements-schemas.txt"
DEFAULT_OUT = REPO / "schemas" / "wire"
SDK_PIN = "openai==3.57.0"
HEADER = f"generated from {SDK_PIN} by scripts/gen_wire_schemas.py; do not edit"
DRAFT = "https://json-schema.org/draft/2020-12/schema"

# folder (relative to schemas/wire) -> (module, union alias). Order is the index order.
UNIONS: dict[str, tuple[str, str]] = {
    "realtime/v2/client": ("openai.types.realtime", "RealtimeClientEvent"),
    "realtime/v2/server": ("openai.types.realtime", "RealtimeServerEvent"),
    "responses/sse": ("openai.types.responses", "ResponseStreamEvent"),
    "responses/ws/client": ("openai.types.responses.responses_client_event", "ResponsesClientEvent"),
    "responses/ws/server": ("openai.types.responses.responses_server_event", "ResponsesServerEvent"),
}


def _dump_json(obj: Any) -> str:
    """Serialise canonically (sorted keys, 2-space indent, trailing newline) so re-runs diff clean."""
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- dump (runs in the SDK venv)


def _union_members(alias: Any) -> list[type]:
    """Return the model classes of an SDK ``Annotated[Union[...], PropertyInfo(...)]`` alias."""
    from typing import get_args

    inner = get_args(alias)[0] if get_args(alias) else alias
    members = list(get_args(inner))
    if not members:
        raise SystemExit(f"not a union: {alias!r}")
    return members


def _type_literal(model: type) -> str:
    """Read the single ``type`` Literal that the SDK discriminates on."""
    from typing import get_args

    field = model.model_fields.get("type")  # type: ignore[attr-defined]
    values = get_args(field.annotation) if field is not None else ()
    if len(values) != 1 or not isinstance(values[0], str):
        raise SystemExit(f"{model.__module__}.{model.__qualname__}: no single Literal 'type'")
    return values[0]


def dump(*, out: Path) -> None:
    """Write every generated folder under ``out`` (called inside the SDK venv)."""
    import importlib

    import openai
    from pydantic import TypeAdapter

    if f"openai=={openai.__version__}" != SDK_PIN:
        raise SystemExit(f"expected {SDK_PIN}, found openai=={openai.__version__}")
    for folder, (module_name, alias_name) in UNIONS.items():
        alias = getattr(importlib.import_module(module_name), alias_name)
        target = out / folder
        target.mkdir(parents=True, exist_ok=True)
        index: dict[str, str] = {}
        models: dict[str, str] = {}
        for model in _union_members(alias):
            wire_type = _type_literal(model)
            if wire_type in index:
                raise SystemExit(f"{folder}: duplicate type {wire_type!r}")
            schema = TypeAdapter(model).json_schema(mode="validation")
            qualname = f"{model.__module__}.{model.__qualname__}"
            schema = {
                "$schema": DRAFT,
                "$comment": HEADER,
                "x-sdk-model": qualname,
                **schema,
            }
            filename = f"{wire_type}.json"
            (target / filename).write_text(_dump_json(schema), encoding="utf-8")
            index[wire_type] = filename
            models[wire_type] = qualname
        (target / "index.json").write_text(
            _dump_json(
                {
                    "$comment": HEADER,
                    "union": f"{module_name}.{alias_name}",
                    "types": index,
                    "models": models,
                }
            ),
            encoding="utf-8",
        )


# --------------------------------------------------------------------------- driver (any Python >= 3.11)


def _make_sdk_python(*, workdir: Path) -> Path:
    """Create a venv in ``workdir`` with the pinned SDK and return its interpreter."""
    env_dir = workdir / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = env_dir / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-r", str(REQUIREMENTS)],
        check=True,
    )
    return python


def _generate(*, python: Path | None, dest: Path, workdir: Path) -> None:
    """Run the dump step with an SDK interpreter into ``dest``."""
    sdk_python = python or _make_sdk_python(workdir=workdir)
    subprocess.run(
        [str(sdk_python), str(Path(__file__).resolve()), "--dump", str(dest)],
        check=True,
    )


def _generated_files(root: Path) -> dict[str, Path]:
    """Map relative path -> file for every file inside the generated folders of ``root``."""
    found: dict[str, Path] = {}
    for folder in UNIONS:
        base = root / folder
        if base.is_dir():
            for path in sorted(base.iterdir()):
                if path.is_file():
                    found[path.relative_to(root).as_posix()] = path
    return found


def _diff(*, fresh: Path, checked_in: Path) -> list[str]:
    """Describe how ``checked_in`` differs from ``fresh`` (empty when identical)."""
    new, old = _generated_files(fresh), _generated_files(checked_in)
    problems: list[str] = []
    for rel in sorted(new.keys() - old.keys()):
        problems.append(f"missing (would be added): {rel}")
    for rel in sorted(old.keys() - new.keys()):
        problems.append(f"stale (would be removed): {rel}")
    for rel in sorted(new.keys() & old.keys()):
        if not filecmp.cmp(new[rel], old[rel], shallow=False):
            diff = difflib.unified_diff(
                old[rel].read_text(encoding="utf-8").splitlines(),
                new[rel].read_text(encoding="utf-8").splitlines(),
                f"checked-in/{rel}", f"regenerated/{rel}", lineterm="", n=1,
            )
            lines = list(diff)
            problems.append(f"changed: {rel}\n" + "\n".join(lines[:40]))
    return problems


def _install(*, fresh: Path, out: Path) -> None:
    """Replace the generated folders in ``out`` with the ones from ``fresh``."""
    for folder in UNIONS:
        target = out / folder
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(fresh / folder, target)


def _size_report(root: Path) -> str:
    lines = []
    for folder in UNIONS:
        files = [p for p in (root / folder).iterdir() if p.is_file()]
        size = sum(p.stat().st_size for p in files)
        lines.append(f"  {folder}: {len(files)} files, {size / 1024:.0f} KiB")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="schemas/wire directory to write or check (default: %(default)s)")
    parser.add_argument("--check", action="store_true",
                        help="regenerate into a temp dir and diff against --out; exit 1 on drift")
    parser.add_argument("--python", type=Path, default=None,
                        help=f"interpreter that already has {SDK_PIN} (skips the throwaway venv)")
    parser.add_argument("--dump", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.dump is not None:
        dump(out=args.dump)
        return 0

    with tempfile.TemporaryDirectory(prefix="wireplay-schemas-") as tmp:
        workdir = Path(tmp)
        fresh = workdir / "wire"
        _generate(python=args.python, dest=fresh, workdir=workdir)
        if args.check:
            problems = _diff(fresh=fresh, checked_in=args.out)
            if problems:
                print("\n".join(problems))
                print(f"\n{len(problems)} generated file(s) differ; run scripts/gen_wire_schemas.py")
                return 1
            print(f"generated schemas match {SDK_PIN}")
            return 0
        _install(fresh=fresh, out=args.out)
    print(f"wrote schemas from {SDK_PIN} to {args.out}\n{_size_report(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
