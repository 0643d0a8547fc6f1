"""Adapters for real implementations no one here wrote (one package each).

Each package exposes ``adapter() -> Adapter`` and raises ``ImplementationUnavailable``
with the install command when the implementation is not installed.
"""
