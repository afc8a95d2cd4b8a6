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
from fastapi.routing import APIRoute
from threadpoolctl import threadpool_limits

from graphrec.config import Settings, get_settings
from graphrec.graph.errors import GraphError
from graphrec.serving import NoModelError

from . import errors, openapi
from .limits import BodyLimitMiddleware
from .metrics import Metrics, MetricsMiddleware
from .ratelimit import RateLimitMiddleware
from .routes import (
    admin,
    batch,
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

* **Keys** (`X-API-Key`): admin keys (`GRAPHREC_API_KEY`, `GRAPHREC_API_KEYS`) may do
  everything; read keys (`GRAPHREC_API_READ_KEYS`) only read. Several keys of each scope
  may be valid at once, for rotation. A missing or unknown key is 401, a key without the
  scope 403.
* **Reads about users** (`/users`, `/users/{id}`, `/users/{id}/recommendations`, their
  explanations, `POST /recommendations/batch`) need a read or admin key, unless the
  service runs with `--dev` or `GRAPHREC_API_LOCK_READS=false`. **Catalog reads**
  (`/items/{id}`, `/items/{id}/similar`, `/models`, `/metrics`) are open unless
  `GRAPHREC_API_LOCK_CATALOG` is set. Reads keep working while the graph is down.
* **Explanations** name other users only as a count; their ids need an admin key and
  `include_user_ids=true`. `explain=true` explains at most `GRAPHREC_API_EXPLAIN_MAX_ITEMS`
  items per request (the rest are listed in `unexplained`).
* **Writes** (`POST /interactions`, `POST /items`) and **admin** (`POST /admin/reload`)
  need an admin key; they answer 503 while the graph is unreachable.
* `/health` is open; with an admin key it also shows the graph's URI and error text.
* **Rate limit** (`GRAPHREC_API_RATE_LIMIT`, off by default): per key, per process; 429
  with `Retry-After`.
* **The explorer page** (`/ui`) shows a user's history, recommendations and their
  explanation paths, through these same endpoints.
* Errors are JSON `{"detail": ..., "code": ...}` with a stable `code`: 401/403 keys and
  scopes, 404 unknown user/item/concept/model, 422 bad parameters or body, 400
  undecodable body or invalid Content-Length, 413 body or batch too large, 408 body not
  received in full in time, 429 rate limited, 503 graph unreachable.
"""


class InsecureConfigError(RuntimeError):
    """The service would accept writes without an API key."""


def check_security(options: ServiceOptions) -> None:
    """Refuse writes without an admin key, and locked reads without any key, unless ``dev``.

    Raises:
        InsecureConfigError: with what to set.
    """
    settings = options.settings
    if options.dev:
        return
    if not settings.admin_key_list() and not options.read_only:
        raise InsecureConfigError(
            "refusing to start: writes are enabled but no admin API key is set; set "
            "GRAPHREC_API_KEY (or GRAPHREC_API_KEYS), or run read-only (--read-only), or pass "
            "--dev for local development"
        )
    locked = [
        name
        for name, on in (
            ("GRAPHREC_API_LOCK_READS", settings.api_lock_reads),
            ("GRAPHREC_API_LOCK_CATALOG", settings.api_lock_catalog),
        )
        if on
    ]
    if locked and not settings.has_keys:
        raise InsecureConfigError(
            f"refusing to start: {' and '.join(locked)} need an API key to be set "
            "(GRAPHREC_API_KEY, GRAPHREC_API_KEYS or GRAPHREC_API_READ_KEYS); or set "
            f"{'=false and '.join(locked)}=false, or pass --dev for local development"
        )


def operation_id(route: APIRoute) -> str:
    """An operation's id: its endpoint function's name (``get_user``, ``batch_recommendations``)."""
    return route.name


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the graph clients and load the index; close them on shutdown."""
    options: ServiceOptions = app.state.options
    if options.dev:
        log.warning("--dev: reads about users are open to anyone who can reach the port")
        if not options.settings.admin_key_list():
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
        dev: Open reads about users, and accept writes without an API key when no
            admin key is set (default: False).
        read_only: Refuse writes (default: False).
        models: Models to serve (default: every model with an active version).
        default_model: The model used when a request names none (default:
            ``lightgcn`` when served, else the most recently written).
        graph_timeout: Seconds a graph write or check may take before 503 (default: 10).
        graph_retry_seconds: How long a write that failed transiently, or an index
            load, is retried while the graph answers (default: 5).

    Raises:
        InsecureConfigError: writes enabled without an admin key, or locked reads
            without any key, and not ``dev``.
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
        generate_unique_id_function=operation_id,
    )
    app.state.options = options
    app.state.metrics = metrics_store = Metrics()
    for router in (
        users.router,
        profiles.router,
        batch.router,
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
    app.add_middleware(RateLimitMiddleware, settings=options.settings)
    app.add_middleware(MetricsMiddleware, metrics=metrics_store)  # outermost: times everything
    return app


def app_from_environment() -> FastAPI:
    """An app from environment settings (for ``uvicorn --factory``)."""
    return create_app()
