"""The openai-python driver, by concern (``driver.py`` is its entry point).

Runs inside the SDK's own venv (the SDK pins ``websockets<16``, wireplay runs 17): these
modules import the stdlib, ``openai`` (lazily, inside functions, so the harness's tests can
import them without the SDK) and ``harness.sdk`` (stdlib only, shared with the reference
client), nothing else of wireplay.

- ``protocol``: the JSON-lines driver protocol (hello, start / command / end, case after case)
  and the per-case session that routes each step to its area.
- ``endpoint``: where the fake server is and the ``AsyncOpenAI`` client pointed at it (TLS).
- ``errors``: an SDK exception as an error event (message, status, request id, code, close
  code, the exception's class as ``failure``); ``Unsupported``.
- ``policy``: the application's decisions on top of the SDK (``client.config.policy``,
  announced in hello).
- ``app``: the application defaults a Codex-like app puts in its requests.
- ``realtime`` / ``responses`` / ``surface``: the ``realtime.*``, ``responses.*`` and ``sdk.*`` steps.
"""
