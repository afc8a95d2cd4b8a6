"""``POST /interactions``."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, status

from ..deps import IndexDep, StateDep, WriteAccess
from ..schemas_writes import InteractionIn, InteractionList, InteractionsAccepted
from ._common import errors

router = APIRouter(prefix="/interactions", tags=["interactions"])

#: Unknown item ids quoted in a 404 message at most.
QUOTED_UNKNOWN = 10


@router.post(
    "",
    response_model=InteractionsAccepted,
    status_code=status.HTTP_201_CREATED,
    responses=errors(400, 401, 403, 404, 408, 413, 422, 503),
    summary="Record interactions (one or a list)",
    dependencies=[WriteAccess],
)
async def post_interactions(
    state: StateDep,
    index: IndexDep,
    body: Annotated[
        InteractionIn | InteractionList,
        Body(
            openapi_examples={
                "one": {
                    "summary": "One interaction",
                    "value": {"user_id": "42", "item_id": "318", "kind": "click"},
                },
                "several": {
                    "summary": "A list",
                    "value": [
                        {"user_id": "new-user", "item_id": "1", "kind": "click"},
                        {"user_id": "new-user", "item_id": "2", "kind": "rating", "rating": 4.0},
                    ],
                },
            }
        ),
    ],
) -> InteractionsAccepted:
    """Write interactions to the graph; the users' next recommendations reflect them.

    A new user id creates the user. All items must exist (404 otherwise, and
    nothing is written). The request returns once the interactions are
    committed; the users are then folded in (no retraining) on their next
    recommendation request.
    """
    rows = body if isinstance(body, list) else [body]
    catalog = index.snapshot.catalog
    unknown = sorted({r.item_id for r in rows if r.item_id not in catalog.item_pos})
    if unknown:
        shown = ", ".join(repr(i) for i in unknown[:QUOTED_UNKNOWN])
        more = f" and {len(unknown) - QUOTED_UNKNOWN} more" if len(unknown) > QUOTED_UNKNOWN else ""
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown item(s): {shown}{more}")
    now = int(time.time())
    await state.writer.write(
        [
            {
                "user_id": r.user_id,
                "item_id": r.item_id,
                "kind": r.kind,
                "weight": r.weight,
                "rating": r.rating,
                "ts": r.ts if r.ts is not None else now,
            }
            for r in rows
        ]
    )
    return InteractionsAccepted(accepted=len(rows), users=len({r.user_id for r in rows}))
