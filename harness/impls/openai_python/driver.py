"""openai-python (``openai[realtime]``) as a wireplay driver: JSON lines on stdin/stdout.

Runs inside the SDK's own venv with ``python -I`` (the SDK pins ``websockets<16``, wireplay
runs 17): it puts the checkout on ``sys.path`` and imports only its own modules
(``sdkdriver/``, stdlib + ``openai``) and ``harness.sdk`` (stdlib only, shared with the
reference client), never the rest of wireplay. Protocol: schemas/driver.schema.json.

Split of responsibilities. The SDK does everything on the wire: URLs, handshake and HTTP
headers, auth, retries, SSE framing, websocket frames, parsing, close. The few decisions an
application makes on top of it follow the steps' definitions (schemas/steps/), the reference
client's defaults (``sdkdriver/app.py``) and an explicit policy whose defaults are the SDK's
own behaviour (``sdkdriver/policy.py``, ``client.config.policy``, announced in hello).
"""

from __future__ import annotations

import sys
from pathlib import Path


_ROOT = Path(__file__).resolve().parents[3]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from harness.impls.openai_python.sdkdriver.protocol import main  # noqa: E402


if __name__ == "__main__":
    raise SystemExit(main())
