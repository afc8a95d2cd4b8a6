"""Response models of the API's operations routes: health, models, reload, metrics."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ModelInfo(BaseModel):
    name: str = Field(examples=["lightgcn"])
    version: int = Field(examples=[3])
    dim: int = Field(examples=[64])
    trained_at: str = Field(examples=["2025-01-01T12:00:00+00:00"])
    items: int = Field(description="Items with an embedding (trained or cold-started).")
    users: int = Field(description="Users with a trained embedding.")
    default: bool


class GraphHealth(BaseModel):
    reachable: bool
    uri: str | None = Field(
        description="The graph's Bolt URI; null unless the request has the API key."
    )
    error: str | None = Field(
        default=None,
        description="Why the graph is unreachable (null when it answers): the driver's "
        "message with the API key, else only that it is unreachable.",
    )
    vector_index: bool = Field(description="Similar items through the server's vector index.")


class HealthOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ok",
                    "graph": {
                        "reachable": True,
                        "uri": "bolt://127.0.0.1:7687",
                        "error": None,
                        "vector_index": False,
                    },
                    "models": [
                        {
                            "name": "lightgcn",
                            "version": 3,
                            "dim": 64,
                            "trained_at": "2025-01-01T12:00:00+00:00",
                            "items": 9742,
                            "users": 610,
                            "default": True,
                        }
                    ],
                    "items": 9742,
                    "users": 610,
                    "loaded_at": "2025-01-01T12:05:00+00:00",
                    "writes": True,
                }
            ]
        }
    )

    status: Literal["ok", "degraded"] = Field(
        description="degraded: the graph is unreachable; recommendations still come from "
        "memory, writes answer 503."
    )
    graph: GraphHealth
    models: list[ModelInfo]
    items: int
    users: int = Field(description="Users with interactions.")
    loaded_at: str
    writes: bool = Field(description="False when the service runs read-only.")


class ReloadOut(BaseModel):
    models: list[ModelInfo]
    changed: bool = Field(description="Whether any loaded model version changed.")
    seconds: float


class LatencyBucketOut(BaseModel):
    le: str = Field(description="Upper bound in seconds (`+Inf` for the last bucket).")
    count: int = Field(description="Requests at most this slow (cumulative).")


class LatencyOut(BaseModel):
    count: int
    sum: float = Field(description="Seconds, summed over the requests.")
    buckets: list[LatencyBucketOut]


class RouteMetricsOut(BaseModel):
    method: str = Field(description="GET, POST ... or `other` for any other method token.")
    route: str = Field(
        description="The route template, or `other` for a path no route matches.",
        examples=["/users/{user_id}/recommendations"],
    )
    count: int
    statuses: dict[str, int] = Field(examples=[{"200": 41, "404": 2}])
    latency_seconds: LatencyOut


class MetricsOut(BaseModel):
    uptime_seconds: float
    routes: list[RouteMetricsOut]
    gauges: dict[str, float] = Field(
        examples=[{"catalog_items": 9742.0, "writer_queue": 0.0, "model_version_lightgcn": 3.0}]
    )
