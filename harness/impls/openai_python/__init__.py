"""openai-python (the official SDK, ``openai[realtime]==3.57.0``) as a wireplay implementation.

The SDK pins ``websockets<16`` while wireplay runs 17, so it lives in a venv of its own
(``scripts/install-openai-python.sh``) and runs as a subprocess driver
(``driver.py``, stdlib + openai only) over the JSON-lines driver protocol.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import cast

from harness.adapters.base import Adapter
from harness.implementations import ImplementationUnavailable
from harness.paths import impls_dir


__all__ = ["EXPECTATIONS_FILES", "VERSION", "adapter", "sdk_python", "venv_dir"]

VERSION = "3.57.0"
_HERE = Path(__file__).resolve().parent
DRIVER = _HERE / "driver.py"
EXPECTATIONS_FILES = tuple(sorted((_HERE / "expectations").glob("*.yaml")))
_UNAVAILABLE = f"openai-python {VERSION} is not installed: run `wireplay install openai-python`"
# The venv's own settings; everything OPENAI_* is left out so the SDK never sees real credentials.
_DROPPED_ENV = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")


def venv_dir() -> Path:
    """Where the install script puts the SDK venv (``WIREPLAY_OPENAI_PYTHON_VENV`` overrides)."""
    override = os.environ.get("WIREPLAY_OPENAI_PYTHON_VENV")
    if override:
        return Path(override)
    return impls_dir() / "openai-python" / "venv"


def sdk_python() -> Path | None:
    """The venv's python when it has exactly the pinned SDK, else None."""
    python = venv_dir() / "bin" / "python"
    if not python.exists():
        return None
    try:
        found = subprocess.run(
            [str(python), "-c", "import openai, websockets; print(openai.__version__)"],
            capture_output=True, text=True, timeout=30, check=False, env=_env(),
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return python if found.returncode == 0 and found.stdout.strip() == VERSION else None


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV and not k.startswith("OPENAI_")}


def adapter() -> Adapter:
    """A ``DriverAdapter`` running ``driver.py`` with the SDK venv's python."""
    from harness.adapters.driver import DriverAdapter

    python = sdk_python()
    if python is None:
        raise ImplementationUnavailable(_UNAVAILABLE)
    driver = DriverAdapter(command=[str(python), "-I", str(DRIVER)], env=_env())
    driver.expectations_files = EXPECTATIONS_FILES  # type: ignore[attr-defined]
    return cast(Adapter, driver)
