"""Errors as JSON ``{"detail": ...}`` with the status a client can act on.

- 404: a user, item, concept or model the index does not know;
- 409: an item id that is taken; a reload that finds no model to serve;
- 503: the graph cannot be reached (reads served from memory keep working);
- 500: anything else, with a generic message (the traceback goes to the log).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from graphrec.graph.errors import GraphError
from graphrec.serving import NoModelError, UnknownError

from .writes import GRAPH_FAILURES, ItemExistsError, unavailable

log = logging.getLogger("graphrec.api")


def _detail(code: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=code)


async def _unknown(request: Request, exc: Exception) -> JSONResponse:
    return _detail(status.HTTP_404_NOT_FOUND, str(exc))


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    return _detail(status.HTTP_409_CONFLICT, str(exc))


async def _graph_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("%s %s: graph unavailable: %s", request.method, request.url.path, exc)
    return _detail(status.HTTP_503_SERVICE_UNAVAILABLE, str(unavailable(exc)))


async def _internal(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return _detail(status.HTTP_500_INTERNAL_SERVER_ERROR, "internal server error")


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(UnknownError, _unknown)
    app.add_exception_handler(ItemExistsError, _conflict)
    app.add_exception_handler(NoModelError, _conflict)
    for failure in (GraphError, *GRAPH_FAILURES):
        app.add_exception_handler(failure, _graph_unavailable)
    app.add_exception_handler(Exception, _internal)
