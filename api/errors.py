"""Errors as JSON ``{"detail": ..., "code": ...}`` with the status a client can act on.

``code`` is stable and machine-readable (:data:`CODES` lists them); ``detail`` is for
people and may change wording.

- 422: invalid parameters or body, as a list of ``{type, loc, msg, input?, ctx?}``; the
  offending input is echoed only when it is small, with non-finite numbers spelled as
  strings (``"NaN"``) and lone surrogates escaped, so the error itself always encodes;
- 404: a user, item, concept or model the index does not know;
- 409: an item id that is taken; a reload that finds no model to serve;
- 401: a missing or unknown API key; 403: a key without the scope, or a disabled endpoint;
- 413: a body, or a batch, over its limit; 429: over the rate limit (with ``Retry-After``);
- 503: the graph cannot be reached (reads served from memory keep working; the driver's
  text is logged, not returned);
- 500: anything else, with a generic message (the traceback goes to the log).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from graphrec.graph.errors import GraphError
from graphrec.serving import NoModelError, UnknownError
from graphrec.serving.errors import (
    NoEmbeddingError,
    UnknownConceptError,
    UnknownItemError,
    UnknownModelError,
    UnknownUserError,
)

from .writes import GRAPH_FAILURES, ItemExistsError

log = logging.getLogger("graphrec.api")

#: Longest echoed input in a 422 (as JSON text); a longer one is left out of the error.
MAX_ECHOED_INPUT = 500


#: The code an error of a status gets when nothing more specific applies.
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "body_timeout",
    409: "conflict",
    413: "too_large",
    422: "invalid_request",
    429: "rate_limited",
    500: "internal_error",
    503: "graph_unavailable",
}

#: Every ``code`` an error body may carry.
CODES = frozenset(
    {
        *STATUS_CODES.values(),
        "missing_api_key",
        "invalid_api_key",
        "insufficient_scope",
        "endpoint_disabled",
        "read_only",
        "invalid_content_length",
        "body_too_large",
        "batch_too_large",
        "unknown_user",
        "unknown_item",
        "unknown_concept",
        "unknown_model",
        "no_embedding",
        "item_exists",
        "no_model",
        "explain_busy",
    }
)

_UNKNOWN_CODES = (
    (UnknownUserError, "unknown_user"),
    (UnknownItemError, "unknown_item"),
    (UnknownConceptError, "unknown_concept"),
    (UnknownModelError, "unknown_model"),
    (NoEmbeddingError, "no_embedding"),
)

#: What a client learns when the graph fails (the driver's text goes to the log only).
GRAPH_UNAVAILABLE = "the graph is unreachable or did not answer in time; try again later"


class ApiError(HTTPException):
    """An HTTP error with its stable ``code``."""

    def __init__(
        self,
        status_code: int,
        detail: str,
        *,
        code: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        if code not in CODES:
            raise ValueError(f"unregistered error code {code!r}")
        super().__init__(status_code, detail, headers=headers)
        self.code = code


def body(status_code: int, detail: Any, code: str | None = None) -> dict[str, Any]:
    """An error body: ``{"detail": detail, "code": code}`` (default: the status's code)."""
    return {"detail": detail, "code": code or STATUS_CODES.get(status_code, "error")}


def _detail(code: int, message: str, error_code: str | None = None) -> JSONResponse:
    return JSONResponse(body(code, message, error_code), status_code=code)


def _json_safe(value: Any) -> Any:
    """``value`` with non-finite floats as the strings JSON lacks, lone surrogates escaped,
    other objects as text."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, str):  # a lone surrogate cannot be encoded: spell it \udXXX
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if value is None or isinstance(value, int | float):
        return value
    if isinstance(value, Mapping):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [_json_safe(item) for item in value]
    return str(value)


def _readable(error: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": error["type"],
        "loc": [_json_safe(part) for part in error["loc"]],
        "msg": _json_safe(error["msg"]),
    }
    if "input" in error:
        echoed = _json_safe(error["input"])
        if len(json.dumps(echoed)) <= MAX_ECHOED_INPUT:
            out["input"] = echoed
    context = {
        key: _json_safe(value)
        for key, value in (error.get("ctx") or {}).items()
        if not isinstance(value, BaseException)  # the message already says it
    }
    if context:
        out["ctx"] = context
    return out


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        body(422, [_readable(error) for error in exc.errors()]),
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = getattr(exc, "code", None)
    headers = getattr(exc, "headers", None)
    response = JSONResponse(body(exc.status_code, exc.detail, code), status_code=exc.status_code)
    if headers:
        response.headers.update(headers)
    return response


async def _unknown(request: Request, exc: Exception) -> JSONResponse:
    code = next((c for kind, c in _UNKNOWN_CODES if isinstance(exc, kind)), "not_found")
    return _detail(status.HTTP_404_NOT_FOUND, str(exc), code)


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    code = "item_exists" if isinstance(exc, ItemExistsError) else "no_model"
    return _detail(status.HTTP_409_CONFLICT, str(exc), code)


async def _graph_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # The driver's ResultFailedError says only that "this or another result failed": the
    # server's own error, if any, is its cause, and is what a reader of the log needs.
    causes = []
    cause = exc.__cause__ or exc.__context__
    while cause is not None and len(causes) < 3:
        causes.append(f"{type(cause).__name__}: {cause}")
        cause = cause.__cause__ or cause.__context__
    log.warning(
        "%s %s: graph unavailable: %s: %s%s",
        request.method,
        request.url.path,
        type(exc).__name__,
        exc,
        "".join(f" (caused by {c})" for c in causes),
    )
    return _detail(status.HTTP_503_SERVICE_UNAVAILABLE, GRAPH_UNAVAILABLE)


async def _method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
    """405 whose ``Allow`` names every method the document gives the path: Starlette's names
    only the first route whose path matched, and ``GET`` and ``DELETE /users/{id}`` are two
    routes."""
    path = request.url.path
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            methods.update(method.upper() for method in operations)
    headers = {"Allow": ", ".join(sorted(methods))} if methods else None
    return JSONResponse(
        body(405, "Method Not Allowed", "method_not_allowed"), status_code=405, headers=headers
    )


async def _internal(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return _detail(status.HTTP_500_INTERNAL_SERVER_ERROR, "internal server error")


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(status.HTTP_405_METHOD_NOT_ALLOWED, _method_not_allowed)
    app.add_exception_handler(UnknownError, _unknown)
    app.add_exception_handler(ItemExistsError, _conflict)
    app.add_exception_handler(NoModelError, _conflict)
    for failure in (GraphError, *GRAPH_FAILURES):
        app.add_exception_handler(failure, _graph_unavailable)
    app.add_exception_handler(Exception, _internal)
