"""What the reference client and the SDK drivers share about the SDK-level surface.

Stdlib only, and importing nothing else of wireplay: the openai-python driver imports it
inside the SDK's own venv (which has the SDK and its dependencies, not wireplay's), as the
reference client does in wireplay's. docs/contracts.md, "The SDK-level surface".

- ``events``: the neutral events of the surface (the pass-through of an unrecognised
  server event, error events with their close code and kind of failure) and the mapping of
  Responses stream events to the ``responses.*`` vocabulary.
- ``known``: the server event types the API declares (the reference's notion of
  "recognised"; an SDK uses its own types).
- ``steps``: the ``sdk.*`` steps' arguments (schemas/steps/sdk.schema.json).
"""
