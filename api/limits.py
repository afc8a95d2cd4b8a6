"""Request body limits: size (413) and time (408), answered as JSON ``{"detail", "code"}``.

Plain ASGI:

- a declared ``Content-Length`` over ``api_max_body_bytes`` is refused before the
  body is read; a body without one (chunked) is counted as it arrives and
  refused as soon as it passes the limit;
- the whole body must arrive within ``api_body_timeout`` seconds of the app's
  first read of it (a body shorter than its ``Content-Length``, or one that
  trickles in, would otherwise hold the connection indefinitely); past it the
  answer is 408 with ``Connection: close``, so the server drops the connection.
"""

from __future__ import annotations

import asyncio

from fastapi import status
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import ApiError, body


class BodyTooLargeError(ApiError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"request body larger than {limit} bytes",
            code="body_too_large",
        )


class BodyTimeoutError(ApiError):
    def __init__(self, seconds: float) -> None:
        super().__init__(
            status.HTTP_408_REQUEST_TIMEOUT,
            f"request body timeout: the body did not arrive in full within {seconds:g} s",
            code="body_timeout",
            headers={"Connection": "close"},
        )


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.isdigit():
                await JSONResponse(
                    body(400, "invalid Content-Length header", "invalid_content_length"),
                    status.HTTP_400_BAD_REQUEST,
                )(scope, receive, send)
                return
            if int(declared) > self.max_bytes:
                error = BodyTooLargeError(self.max_bytes)
                await JSONResponse(
                    body(error.status_code, error.detail, error.code), error.status_code
                )(scope, receive, send)
                return
        loop = asyncio.get_running_loop()
        received = 0
        complete = False
        deadline: float | None = None

        async def limited() -> Message:
            nonlocal received, complete, deadline
            if complete:  # later reads wait for a disconnect: not the body's business
                return await receive()
            if deadline is None:
                deadline = loop.time() + self.timeout
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                raise BodyTimeoutError(self.timeout) from None  # FastAPI answers it as JSON
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLargeError(self.max_bytes)
                complete = not message.get("more_body", False)
            return message

        await self.app(scope, limited, send)
