"""``GET /health``."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import ApiKey, StateDep, has_admin_access
from ..schemas_ops import GraphHealth, HealthOut, ModelInfo
from ..state import Index

router = APIRouter(tags=["operations"])

#: What an anonymous caller learns about a graph failure.
HIDDEN_ERROR = "the graph is unreachable"


def model_infos(index: Index) -> list[ModelInfo]:
    snapshot = index.snapshot
    return [
        ModelInfo(
            name=name,
            version=vectors.version,
            dim=vectors.dim,
            trained_at=index.records[name].trained_at,
            items=int(vectors.item_valid.sum()),
            users=len(vectors.user_ids),
            default=name == snapshot.default_model,
        )
        for name, vectors in sorted(snapshot.models.items())
    ]


@router.get("/health", response_model=HealthOut, summary="Graph reachability and loaded models")
async def health(state: StateDep, key: ApiKey) -> HealthOut:
    """Whether the graph answers now, and which model versions are being served.

    Always 200 while the service runs: `status` is `degraded` when the graph is
    unreachable (recommendations still come from memory; writes answer 503).
    The graph's URI and the driver's error text are shown only to callers with
    the API key (`X-API-Key`); without it (or with a wrong one) `uri` is null and
    `error` only says that the graph is unreachable.
    """
    index = state.index
    error = await state.graph_error()
    detailed = has_admin_access(state, key)
    if error is not None and not detailed:
        error = HIDDEN_ERROR
    return HealthOut(
        status="ok" if error is None else "degraded",
        graph=GraphHealth(
            reachable=error is None,
            uri=state.target.uri if detailed else None,
            error=error,
            vector_index=state.vector_index,
        ),
        models=model_infos(index),
        items=index.snapshot.catalog.num_items,
        users=index.state.num_users,
        loaded_at=index.loaded_at,
        writes=not state.options.read_only,
    )
