"""The dependency bounds in pyproject.toml are the ones tested.

``scripts/check-lowest-bounds.sh`` installs every direct dependency at its lower bound
(uv ``--resolution lowest-direct``) in a fresh venv and runs the bundled suite and the core
tests with them; it records the set it installed in ``scripts/lowest-bounds.txt``. This
test, which needs no network, fails when a bound in pyproject.toml moves without that
script being run again (or when a dependency has no lower bound at all).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version


ROOT = Path(__file__).resolve().parent.parent


def _lower_bounds() -> dict[str, Version]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    bounds = {}
    for dep in deps:
        req = Requirement(dep)
        lows = [Version(s.version) for s in req.specifier if s.operator in (">=", "==", "~=")]
        assert lows, f"{dep}: every dependency needs a lower bound, and that bound is what gets tested"
        bounds[canonicalize_name(req.name)] = max(lows)
    return bounds


def _tested() -> dict[str, Version]:
    text = (ROOT / "scripts" / "lowest-bounds.txt").read_text()
    return {canonicalize_name(m[1]): Version(m[2]) for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+)$", text, re.M)}


def test_every_lower_bound_is_the_version_tested():
    tested = _tested()
    for name, low in _lower_bounds().items():
        assert name in tested, f"{name} is not in scripts/lowest-bounds.txt: run scripts/check-lowest-bounds.sh"
        assert tested[name] == low, f"{name}: pyproject says >={low}, scripts/check-lowest-bounds.sh tested {tested[name]}: run it again"


def test_the_script_runs_the_suite_and_the_core_tests():
    script = (ROOT / "scripts" / "check-lowest-bounds.sh").read_text()
    assert "--resolution lowest-direct" in script
    assert '"$VENV/bin/wireplay" run\n' in script and '"$VENV/bin/wireplay" run -n 2\n' in script
    for path in re.findall(r"\btests/\S+", script):
        assert (ROOT / path).exists(), path
