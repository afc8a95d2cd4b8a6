"""``GET /items/{item_id}``: one item of the catalog."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from ..deps import CatalogAccess, IndexDep
from ..schemas import ItemConceptOut, ItemOut
from ._common import errors, id_path, parse_id

router = APIRouter(prefix="/items", tags=["items"], dependencies=[CatalogAccess])


@router.get(
    "/{item_id}",
    response_model=ItemOut,
    responses=errors(401, 403, 404, 422),
    summary="An item: title, concepts, popularity",
    operation_id="get_item",
)
async def get_item(
    index: IndexDep,
    item_id: Annotated[str, id_path("318")],
) -> ItemOut:
    """The item's title, its concepts (direct `HAS_CONCEPT` links) and how many users
    interacted with it. Served from memory, so it answers while the graph is down."""
    item_id = parse_id(item_id, "item_id")
    catalog = index.snapshot.catalog
    position = catalog.position(item_id)  # 404 for an unknown item
    concepts = [catalog.concept_ids[c] for c in catalog.item_concepts[position]]
    return ItemOut(
        id=item_id,
        title=catalog.titles[position],
        concepts=[ItemConceptOut(id=c, kind=c.partition(":")[0]) for c in concepts],
        popularity=int(index.state.popularity[position]),
    )
