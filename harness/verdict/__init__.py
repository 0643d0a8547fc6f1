"""Verdicts: the wire plane (what the server saw) and the events plane (what was reported)."""
