"""The FastAPI application: :func:`create_app` builds it, :func:`lifespan` runs it.

Nothing happens at import time. ``lifespan`` connects to the graph, loads the
index (active model versions, catalog, seen items) and starts the interaction
writer; routers live in :mod:`graphrec.api.routes`.

Run it with ``graphrec serve`` or, for instance::

    uvicorn --factory graphrec.api.main:app_from_environment
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI
from threadpoolctl import threadpool_limits

from graphrec.config import Settings, get_settings
from graphrec.graph.errors import GraphError
from graphrec.serving import NoModelError

from . import errors, openapi
from .limits import BodyLimitMiddleware
from .metrics import Metrics, MetricsMiddleware
from .routes import (
    admin,
    catalog,
    erasure,
    health,
    interactions,
    items,
    metrics,
    profiles,
    ui,
    users,
)
from .routes import models as model_routes
from .state import ServiceOptions, ServiceState

log = logging.getLogger("graphrec.api")

DESCRIPTION = """
Recommendations from graph-trained embeddings, served from memory.

* **Reads** (`/users/{id}/recommendations`, `/items/{id}/similar`) are open unless
  `GRAPHREC_API_LOCK_READS` is set; they keep working while the graph is down.
* **Writes** (`POST /interactions`, `POST /items`) and **admin** (`POST /admin/reload`)
  need the `X-API-Key` header; they answer 503 while the graph is unreachable.
* `/health` is open; with the key it also shows the graph's URI and error text.
* **The explorer page** (`/ui`) shows a user's history, recommendations and their
  explanation paths, through these same endpoints.
* Errors are JSON `{"detail": ...}`: 404 unknown user/item/concept/model, 422 bad
  parameters or body, 400 undecodable body or invalid Content-Length, 413 body too
  large, 408 body not received in full in time, 503 graph unreachable.
"""


class InsecureConfigError(RuntimeError):
    """The service would accept writes without an API key."""


def check_security(options: ServiceOptions) -> None:
    """Refuse writes without an API key, unless ``dev``.

    Raises:
        InsecureConfigError: with what to set.
    """
    settings = options.settings
    if settings.api_key is not None or options.dev:
        return
    if not options.read_only:
        raise InsecureConfigError(
            "refusing to start: writes are enabled but no API key is set; set GRAPHREC_API_KEY, "
            "or run read-only (--read-only), or pass --dev for local development"
        )
    if settings.api_lock_reads:
        raise InsecureConfigError(
            "refusing to start: GRAPHREC_API_LOCK_READS needs GRAPHREC_API_KEY to be set"
        )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the graph clients and load the index; close them on shutdown."""
    options: ServiceOptions = app.state.options
    if options.dev and options.settings.api_key is None:
        log.warning("--dev: write and admin endpoints accept requests without an API key")
    try:
        service = await ServiceState.open(options, app.state.metrics)
    except (GraphError, NoModelError) as exc:
        log.error("cannot start: %s", exc)  # the one line a user needs, above the traceback
        raise
    app.state.service = service
    # A request is one matrix-vector product (about 0.1 ms for 10k items x 64): BLAS threads
    # only add synchronisation, and on busy cores their spinning turns it into milliseconds.
    with threadpool_limits(limits=1, user_api="blas"):
        try:
            yield
        finally:
            await service.close()


def create_app(
    settings: Settings | None = None,
    *,
    dev: bool = False,
    read_only: bool = False,
    models: Sequence[str] | None = None,
    default_model: str | None = None,
    graph_timeout: float = 10.0,
    graph_retry_seconds: float = 5.0,
) -> FastAPI:
    """Build the service.

    Args:
        settings: graphrec settings (default: read from the environment now).
        dev: Accept writes without an API key (default: False).
        read_only: Refuse writes (default: False).
        models: Models to serve (default: every model with an active version).
        default_model: The model used when a request names none (default:
            ``lightgcn`` when served, else the most recently written).
        graph_timeout: Seconds a graph write or check may take before 503 (default: 10).
        graph_retry_seconds: How long a write that failed transiently, or an index
            load, is retried while the graph answers (default: 5).

    Raises:
        InsecureConfigError: writes enabled without an API key and not ``dev``.
    """
    options = ServiceOptions(
        settings=settings or get_settings(),
        dev=dev,
        read_only=read_only,
        models=tuple(models) if models else None,
        default_model=default_model,
        graph_timeout=graph_timeout,
        graph_retry_seconds=graph_retry_seconds,
    )
    check_security(options)
    app = FastAPI(
        title="graphrec",
        summary="Graph-backed recommendations: top-k, similar items, real-time interactions.",
        description=DESCRIPTION,
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.options = options
    app.state.metrics = metrics_store = Metrics()
    for router in (
        users.router,
        profiles.router,
        items.router,
        catalog.router,
        model_routes.router,
        interactions.router,
        erasure.router,
        admin.router,
        health.router,
        metrics.router,
        ui.router,
    ):
        app.include_router(router)
    errors.install(app)
    openapi.install(app, options)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=options.settings.api_max_body_bytes,
        timeout=options.settings.api_body_timeout,
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics_store)  # outermost: times everything
    return app


def app_from_environment() -> FastAPI:
    """An app from environment settings (for ``uvicorn --factory``)."""
    return create_app()
