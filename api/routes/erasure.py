"""``DELETE /users/{user_id}`` and ``DELETE /items/{item_id}``: erasure."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response, status

from ..deps import StateDep, WriteAccess
from ._common import errors, id_path, parse_id

router = APIRouter(tags=["erasure"], dependencies=[WriteAccess])


@router.delete(
    "/users/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=errors(401, 403, 404, 422, 503),
    summary="Erase a user",
    operation_id="delete_user",
)
async def delete_user(state: StateDep, user_id: Annotated[str, id_path("42")]) -> Response:
    """Erase a user: the user node, their interactions, attribute links, materialised
    recommendations and embedding properties, in one graph transaction; then their
    vectors, seen items and fold-in state in this process's memory.

    `CO_ENGAGED` counts are recomputed without them at the next derivation. Only a re-ingest brings the user back. 404 for an unknown
    user (so a repeated call answers 404 and changes nothing). Other API processes on
    the same graph forget the user once they read the change feed (within
    `api_sync_interval` seconds).
    """
    await state.delete_user(parse_id(user_id, "user_id"))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/items/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=errors(401, 403, 404, 422, 503),
    summary="Erase an item",
    operation_id="delete_item",
)
async def delete_item(state: StateDep, item_id: Annotated[str, id_path("318")]) -> Response:
    """Erase an item: the node with its interactions, concept, co-engagement and
    recommendation links and its embeddings, in one graph transaction; from the next
    request on, no recommendation or similar-items answer of this process returns it.

    A deletion, not a tombstone: re-ingesting the catalog brings it back. 404 for an
    unknown item. Other API processes on the graph drop it once they read the change feed.
    """
    await state.delete_item(parse_id(item_id, "item_id"))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
