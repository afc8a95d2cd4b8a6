"""``GET /metrics``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from ..deps import ReadAccess, StateDep
from ..schemas import MetricsOut
from ._common import errors

router = APIRouter(tags=["operations"], dependencies=[ReadAccess])

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@router.get(
    "/metrics",
    summary="Request counts and latency percentiles",
    response_model=MetricsOut,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        **errors(401, 403, 422),
    },
)
async def metrics(
    state: StateDep,
    format: Annotated[
        Literal["prometheus", "json"],
        Query(description="prometheus (text exposition format) or json."),
    ] = "prometheus",
) -> Response:
    """Requests per route and status, and p50/p95/p99 latency per route, since start-up."""
    index = state.index
    gauges: dict[str, float] = {
        "catalog_items": float(index.snapshot.catalog.num_items),
        "writer_queue": float(state.writer.queued),
    }
    for name, vectors in index.snapshot.models.items():
        gauges[f"model_version_{name}"] = float(vectors.version)
    if format == "json":
        return JSONResponse(state.metrics.as_dict(gauges))
    return PlainTextResponse(state.metrics.prometheus(gauges), media_type=PROMETHEUS_CONTENT_TYPE)
