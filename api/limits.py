"""Refuse request bodies larger than ``api_max_body_bytes`` with 413 and a JSON detail.

Plain ASGI: a declared ``Content-Length`` over the limit is refused before the
body is read; a body without one (chunked) is counted as it arrives and
refused as soon as it passes the limit.
"""

from __future__ import annotations

from fastapi import HTTPException, status
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLargeError(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(
            status.HTTP_413_CONTENT_TOO_LARGE, f"request body larger than {limit} bytes"
        )


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.isdigit():
                await JSONResponse(
                    {"detail": "invalid Content-Length header"}, status.HTTP_400_BAD_REQUEST
                )(scope, receive, send)
                return
            if int(declared) > self.max_bytes:
                error = BodyTooLargeError(self.max_bytes)
                await JSONResponse({"detail": error.detail}, error.status_code)(
                    scope, receive, send
                )
                return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLargeError(self.max_bytes)  # FastAPI answers it as JSON
            return message

        await self.app(scope, counted, send)
