"""Adapters: the one seam between the runner and an implementation under test."""
from __future__ import annotations

from harness.adapters.base import Adapter, Emit, Endpoint, Session
from harness.adapters.mock import MockAdapter


__all__ = ["Adapter", "Emit", "Endpoint", "MockAdapter", "Session"]
