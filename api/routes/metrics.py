"""``GET /metrics``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from ..deps import CatalogAccess, StateDep
from ..metrics import PROMETHEUS_CONTENT_TYPE
from ..schemas_ops import MetricsOut
from ._common import errors

router = APIRouter(tags=["operations"], dependencies=[CatalogAccess])


@router.get(
    "/metrics",
    summary="Request counters, latency histograms and service gauges",
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
    """Requests per route and status and a latency histogram per route since start-up
    (Prometheus collectors: buckets add up across replicas), and the service's gauges.

    The json view is read from the same collectors.
    """
    if format == "json":
        return JSONResponse(state.metrics.as_dict())
    return Response(state.metrics.prometheus(), media_type=PROMETHEUS_CONTENT_TYPE)
