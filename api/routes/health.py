"""``GET /health``."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import StateDep
from ..schemas import GraphHealth, HealthOut, ModelInfo
from ..state import Index

router = APIRouter(tags=["operations"])


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
async def health(state: StateDep) -> HealthOut:
    """Whether the graph answers now, and which model versions are being served.

    Always 200 while the service runs: `status` is `degraded` when the graph is
    unreachable (recommendations still come from memory; writes answer 503).
    """
    index = state.index
    error = await state.graph_error()
    return HealthOut(
        status="ok" if error is None else "degraded",
        graph=GraphHealth(
            reachable=error is None,
            uri=state.target.uri,
            error=error,
            vector_index=state.vector_index,
        ),
        models=model_infos(index),
        items=index.snapshot.catalog.num_items,
        users=index.state.num_users,
        loaded_at=index.loaded_at,
        writes=not state.options.read_only,
    )
