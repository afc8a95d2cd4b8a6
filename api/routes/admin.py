"""``POST /admin/reload``."""

from __future__ import annotations

import time

from fastapi import APIRouter

from ..deps import AdminAccess, StateDep
from ..schemas_ops import ReloadOut
from ._common import errors
from .health import model_infos

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[AdminAccess])


@router.post(
    "/reload",
    response_model=ReloadOut,
    responses=errors(401, 403, 409, 503),
    summary="Load newly written model versions without a restart",
)
async def reload(state: StateDep) -> ReloadOut:
    """Read the active model versions, the catalog and the seen items from the graph again.

    The new index replaces the old one in one step: requests in flight finish
    with the version they started with; later ones use the new version.
    Interactions posted during the reload are kept. The other API processes on the
    graph reload too, once they read the change feed (within `api_sync_interval` seconds).
    """
    start = time.perf_counter()
    before, after = await state.reload()
    await state.announce_reload()
    versions = {name: r.version for name, r in before.records.items()}
    return ReloadOut(
        models=model_infos(after),
        changed=versions != {name: r.version for name, r in after.records.items()},
        seconds=time.perf_counter() - start,
    )
