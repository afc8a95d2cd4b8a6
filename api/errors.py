"""Errors as JSON ``{"detail": ...}`` with the status a client can act on.

- 422: invalid parameters or body, as a list of ``{type, loc, msg, input?, ctx?}``; the
  offending input is echoed only when it is small, with non-finite numbers spelled as
  strings (``"NaN"``) and lone surrogates escaped, so the error itself always encodes;
- 404: a user, item, concept or model the index does not know;
- 409: an item id that is taken; a reload that finds no model to serve;
- 503: the graph cannot be reached (reads served from memory keep working);
- 500: anything else, with a generic message (the traceback goes to the log).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from graphrec.graph.errors import GraphError
from graphrec.serving import NoModelError, UnknownError

from .writes import GRAPH_FAILURES, ItemExistsError, unavailable

log = logging.getLogger("graphrec.api")

#: Longest echoed input in a 422 (as JSON text); a longer one is left out of the error.
MAX_ECHOED_INPUT = 500


def _detail(code: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=code)


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
        {"detail": [_readable(error) for error in exc.errors()]},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


async def _unknown(request: Request, exc: Exception) -> JSONResponse:
    return _detail(status.HTTP_404_NOT_FOUND, str(exc))


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    return _detail(status.HTTP_409_CONFLICT, str(exc))


async def _graph_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("%s %s: graph unavailable: %s", request.method, request.url.path, exc)
    return _detail(status.HTTP_503_SERVICE_UNAVAILABLE, str(unavailable(exc)))


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
    return JSONResponse({"detail": "Method Not Allowed"}, status_code=405, headers=headers)


async def _internal(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return _detail(status.HTTP_500_INTERNAL_SERVER_ERROR, "internal server error")


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(status.HTTP_405_METHOD_NOT_ALLOWED, _method_not_allowed)
    app.add_exception_handler(UnknownError, _unknown)
    app.add_exception_handler(ItemExistsError, _conflict)
    app.add_exception_handler(NoModelError, _conflict)
    for failure in (GraphError, *GRAPH_FAILURES):
        app.add_exception_handler(failure, _graph_unavailable)
    app.add_exception_handler(Exception, _internal)
