"""HTTP I/O: `POST /responses` with transport retries, then the body streamed by chunk.

Thin asyncio layer over httpx; everything it decides (retry or not, error text, SSE
framing) lives in the pure modules (responses-wire §4.1, §2.5).
"""

from __future__ import annotations

import asyncio
import random
import ssl as ssl_module
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import httpx

from harness.client.public_roots import public_roots
from harness.client.responses import events
from harness.client.responses.auth import AuthManager, recovery_error
from harness.client.responses.errors import ApiError
from harness.client.responses.headers import Headers
from harness.client.responses.retry import backoff_s, transport_retryable
from harness.client.transport_errors import TIMED_OUT, neutral_text


__all__ = ["HttpStream", "HttpTransport", "StreamReadError"]

Emit = Callable[[dict[str, Any]], None]


class StreamReadError(Exception):
    """The body could not be read: idle timeout (§2.5 text) or a transport error (neutral
    text, `transport_errors`)."""


class HttpStream:
    """An open 2xx streaming response."""

    def __init__(self, response: httpx.Response, idle_timeout_s: float) -> None:
        self._response = response
        self._idle = idle_timeout_s
        self.status = response.status_code
        self.headers = Headers(tuple(response.headers.multi_items()))

    async def chunks(self) -> AsyncIterator[bytes]:
        """Body chunks; each wait is bounded by the idle timeout (§2.5)."""
        iterator = self._response.aiter_bytes()
        while True:
            try:
                async with asyncio.timeout(self._idle):
                    chunk = await anext(iterator)
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise StreamReadError("idle timeout waiting for SSE") from None
            except httpx.HTTPError as exc:
                raise StreamReadError(neutral_text(exc, phase="body")) from None
            yield chunk

    async def aclose(self) -> None:
        await self._response.aclose()


class HttpTransport:
    """Owns the httpx client; one instance per `ResponsesClient`."""

    def __init__(
        self,
        *,
        emit: Emit,
        auth: AuthManager,
        rng: random.Random,
        max_retries: int,
        retry_base_ms: int,
        idle_timeout_s: float,
        ssl: ssl_module.SSLContext | None,
    ) -> None:
        self._emit = emit
        self._auth = auth
        self._rng = rng
        self._max_retries = max_retries
        self._base_ms = retry_base_ms
        self._idle = idle_timeout_s
        self._client = httpx.AsyncClient(
            verify=ssl if ssl is not None else public_roots(),
            trust_env=False,
            timeout=httpx.Timeout(connect=15.0, read=idle_timeout_s, write=30.0, pool=15.0),
        )

    async def open(
        self,
        url: str,
        build_headers: Callable[[], Sequence[tuple[str, str]]],
        body: bytes,
    ) -> HttpStream | ApiError:
        """Send with transport retries (§4.1); a 401 runs the next auth recovery step and
        sends the request again with the new token, retries counted afresh (§5.1)."""
        attempts = self._auth.attempts("api_request")
        attempt = 0
        while True:
            attempt += 1
            result = await self._attempt(url, build_headers(), body, attempt)
            ok = isinstance(result, HttpStream)
            attempts.observe(ok=ok, status=result.status,
                             headers=None if ok else result.headers)  # fmt: skip
            if isinstance(result, HttpStream):
                return result
            if result.kind == "http" and result.status == 401:
                decision = await attempts.unauthorized(result.headers)
                if decision.retry:
                    attempt = 0
                    continue
                return recovery_error(decision.failure) if decision.failure else result
            if not transport_retryable(result) or attempt > self._max_retries:
                return result
            await asyncio.sleep(backoff_s(self._base_ms, attempt, self._rng))

    async def _attempt(
        self, url: str, headers: Sequence[tuple[str, str]], body: bytes, attempt: int
    ) -> HttpStream | ApiError:
        started = time.monotonic()
        request = self._client.build_request("POST", url, headers=list(headers), content=body)
        status: int | None = None
        try:
            response = await self._client.send(request, stream=True)
            status = response.status_code
            if 200 <= status < 300:
                self._telemetry(attempt, status, started, None)
                return HttpStream(response, self._idle)
            try:
                async with asyncio.timeout(self._idle):
                    raw = await response.aread()
                text = raw.decode("utf-8", errors="replace")
            except (TimeoutError, httpx.HTTPError):
                text = ""
            finally:
                await response.aclose()
            error = ApiError(kind="http", status=status, url=url, body=text,
                             headers=Headers(tuple(response.headers.multi_items())))  # fmt: skip
            self._telemetry(attempt, status, started, f"http {status}")
            return error
        except httpx.TimeoutException:
            error = ApiError(kind="timeout", message=TIMED_OUT)
        except httpx.HTTPError as exc:
            error = ApiError(kind="network", message=neutral_text(exc, phase="connect"))
        self._telemetry(attempt, status, started, error.message)
        return error

    def _telemetry(
        self, attempt: int, status: int | None, started: float, error: str | None
    ) -> None:
        self._emit(
            events.telemetry_request(
                transport="http",
                attempt=attempt,
                status=status,
                duration_ms=round((time.monotonic() - started) * 1000, 3),
                error=error,
            )
        )

    async def aclose(self) -> None:
        await self._client.aclose()
