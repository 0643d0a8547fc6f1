"""The real Codex CLI (npm ``@openai/codex`` 0.169.0) as an implementation under test.

``wireplay run --impl codex-cli``. Install it with ``scripts/install-codex-cli.sh``;
without it every case is UNSUPPORTED with that command as the reason. See
docs/impl-codex-cli.md for how steps map and what differs from the suite's revision.
"""

from __future__ import annotations

from harness.impls.codex_cli.adapter import CODEX_CLI_CAPABILITIES, CodexCliAdapter
from harness.impls.codex_cli.binary import CODEX_VERSION, INSTALL_HINT, find_codex


__all__ = ["CODEX_CLI_CAPABILITIES", "CODEX_VERSION", "INSTALL_HINT", "CodexCliAdapter", "adapter"]


def adapter() -> CodexCliAdapter:
    """The adapter, or ``ImplementationUnavailable`` naming the install command."""
    return CodexCliAdapter(binary=find_codex())
