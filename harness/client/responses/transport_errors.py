"""Moved to :mod:`harness.client.transport_errors` (shared by both clients)."""
from __future__ import annotations

from harness.client.transport_errors import *  # noqa: F403
from harness.client.transport_errors import __all__  # noqa: F401
