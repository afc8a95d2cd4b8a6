"""``GET /models``: the served model versions with what their ``Model`` nodes record."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter

from ..deps import CatalogAccess, IndexDep
from ..schemas import ModelsOut, ServedModelOut
from ._common import errors

router = APIRouter(prefix="/models", tags=["models"], dependencies=[CatalogAccess])


@router.get(
    "",
    response_model=ModelsOut,
    responses=errors(401, 403),
    summary="Served models: version, metrics, parameters, training curve",
    operation_id="list_models",
)
async def list_models(index: IndexDep) -> ModelsOut:
    """Each served model version with the test metrics, training parameters and training
    curve (loss and validation metrics per epoch) stored on its `Model` node when it was
    written. Served from memory (read at start-up and by `POST /admin/reload`)."""
    snapshot = index.snapshot
    return ModelsOut(
        default=snapshot.default_model,
        models=[
            ServedModelOut(
                name=name,
                version=vectors.version,
                dim=vectors.dim,
                trained_at=index.records[name].trained_at,
                default=name == snapshot.default_model,
                metrics=_finite(index.records[name].metrics),
                params=_finite(index.records[name].params),
                history=[_finite(row) for row in index.records[name].history],
            )
            for name, vectors in sorted(snapshot.models.items())
        ],
    )


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as ``None`` (JSON has no such numbers)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(v) for key, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
