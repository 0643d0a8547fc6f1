"""Root conftest of the wireplay checkout.

It deliberately defines no ``pytest_plugins`` and no fixtures: the bundled suite module
lives under this folder, so with an editable install any project that runs
``pytest --wireplay-driver CMD`` loads this file too. wireplay's plugin comes from its
``pytest11`` entry point; pytester for the project's own tests from ``addopts``.
"""
