"""The wireplay pytest plugin: cases as parametrized items, verdicts, snapshots, report.

Loaded through the ``pytest11`` entry point. Hooks are re-exported from their
modules so pytest finds them here.
"""
from __future__ import annotations

from harness.pytest_plugin.fixtures import (
    wireplay_adapter,
    wireplay_entry_result,
    wireplay_known,
    wireplay_loop,
    wireplay_respx,
    wireplay_server,
    wireplay_verdict,
)
from harness.pytest_plugin.hooks import (
    pytest_addoption,
    pytest_configure,
    pytest_generate_tests,
    pytest_load_initial_conftests,
    pytest_sessionfinish,
    pytest_terminal_summary,
)


__all__ = [
    "pytest_addoption",
    "pytest_configure",
    "pytest_generate_tests",
    "pytest_load_initial_conftests",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
    "wireplay_adapter",
    "wireplay_entry_result",
    "wireplay_known",
    "wireplay_loop",
    "wireplay_respx",
    "wireplay_server",
    "wireplay_verdict",
]
