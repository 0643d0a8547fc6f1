"""``codex login --with-api-key``: an API key stored the way codex stores a user's.

Codex resolves keys in an order (provider key, provider bearer token, stored login):
a case that names the stored login is given one, so the resolution stays codex's.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from harness.impls.codex_cli.process import CodexProcess


__all__ = ["login_with_api_key"]

_LOGIN_TIMEOUT = 20.0


async def login_with_api_key(*, codex: str, api_key: str, env: Mapping[str, str], cwd: str, log: Path | None = None) -> None:
    """Write ``$CODEX_HOME/auth.json`` through codex itself; the key goes in on stdin."""
    proc = await CodexProcess.spawn([codex, "login", "--with-api-key"], env=env, cwd=cwd, stdin_pipe=True, log=log)
    try:
        proc.write_line(api_key.encode(), secret=True)
        await proc.drain()
        proc.close_stdin()
        code = await proc.wait(_LOGIN_TIMEOUT)
        if code != 0:
            raise RuntimeError(f"codex login --with-api-key failed (exit {code}); stderr:\n{proc.stderr_tail}")
    finally:
        await proc.stop()
