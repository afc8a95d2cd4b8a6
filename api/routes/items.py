"""``GET /items/{item_id}/similar`` and ``POST /items``."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, status

from graphrec.serving import Ranking, ScoredItem, Source, similar_items, vector_index_name

from ..deps import CatalogAccess, IndexDep, StateDep, WriteAccess
from ..schemas import ModelRef, SimilarItemsOut
from ..schemas_writes import ColdStartOut, ItemCreate, ItemCreated
from ..state import Index, ServiceState
from ..writes import read_once
from ._common import ModelName, TopK, errors, id_path, model_ref, parse_id, scored_items

log = logging.getLogger("graphrec.api")

router = APIRouter(prefix="/items", tags=["items"])


@router.get(
    "/{item_id}/similar",
    response_model=SimilarItemsOut,
    responses=errors(401, 403, 404, 422),
    summary="Items similar to an item",
    operation_id="similar_items",
    dependencies=[CatalogAccess],
)
async def similar(
    state: StateDep,
    index: IndexDep,
    item_id: Annotated[str, id_path("1")],
    k: TopK = 10,
    model: ModelName = None,
    approximate: Annotated[
        bool | None,
        Query(
            description="Ask the graph server's native vector index (Neo4j; approximate, "
            "faster on large catalogs). Default: exact, unless the catalog has more items "
            "than GRAPHREC_API_SIMILAR_INDEX_ABOVE."
        ),
    ] = None,
) -> SimilarItemsOut:
    """The items closest to this one by cosine similarity of the model's item embeddings.

    Exact, from the in-memory index, by default. With ``approximate=true`` (or
    above ``GRAPHREC_API_SIMILAR_INDEX_ABOVE`` items) and a server with a native
    vector index, from that index; an index that is still populating, or a graph
    that cannot answer, gets the exact answer.
    """
    item_id = parse_id(item_id, "item_id")
    ranking = similar_items(index.snapshot, item_id, k=k, model=model)
    if approximate is None:
        above = state.settings.api_similar_index_above
        approximate = above is not None and index.snapshot.catalog.num_items > above
    if approximate and state.vector_index:
        ranking = await _from_vector_index(state, index, item_id, ranking, k)
    return SimilarItemsOut(item_id=item_id, model=model_ref(ranking), items=scored_items(ranking))


async def _from_vector_index(
    state: ServiceState, index: Index, item_id: str, in_memory: Ranking, k: int
) -> Ranking:
    """The same query through Neo4j's vector index (its score is (1 + cos) / 2: mapped back)."""
    vectors = index.snapshot.model(in_memory.model)
    record = index.records[vectors.name]
    query = vectors.item_vectors[index.snapshot.catalog.position(item_id)]
    try:
        rows = await read_once(
            state.graph,
            "recommend/similar_items_vector_index",
            state.options.graph_timeout,
            index=vector_index_name(record),
            vector=query.astype(float).tolist(),
            id=item_id,
            k=k,
        )
    except Exception as exc:  # any graph failure: the in-memory answer stands
        log.warning("vector index query failed, answering from memory: %s", exc)
        return in_memory
    items = [
        ScoredItem(row["id"], row["title"], 2.0 * float(row["score"]) - 1.0, rank)
        for rank, row in enumerate(rows, 1)
    ]
    return Ranking(in_memory.model, in_memory.version, Source.MODEL, items)


@router.post(
    "",
    response_model=ItemCreated,
    status_code=status.HTTP_201_CREATED,
    responses=errors(400, 401, 403, 408, 409, 413, 422, 503),
    summary="Add an item (cold start)",
    dependencies=[WriteAccess],
)
async def create_item(state: StateDep, body: ItemCreate) -> ItemCreated:
    """Create an item with its concepts and `HAS_CONCEPT` edges.

    Each loaded model gets a cold-start embedding for it: for relgnn, its
    readout over the item's concept links with the trained relation weights and
    the written-back concept vectors (inductive, no retraining); for the other
    models, the mean of its concepts' centroids over trained items. It is written to the graph under
    the model version's embedding property, and the item can be recommended and
    found as similar at once. Unknown concepts are created. 409 if the id exists.
    """
    concepts = {}
    for link in body.concepts:  # one edge per concept: the last mention wins
        concepts[link.id] = {
            "id": link.id,
            "kind": link.kind,
            "name": link.name,
            "relation": link.relation or f"has_{link.kind}",
            "weight": link.weight,
        }
    created = await state.add_item(body.id, body.title, list(concepts.values()))
    records = state.index.records
    return ItemCreated(
        id=created.item_id,
        title=created.title,
        concepts=created.concepts,
        embeddings=[
            ColdStartOut(
                model=ModelRef(name=name, version=records[name].version), embedded=embedded
            )
            for name, embedded in sorted(created.embedded.items())
        ],
    )
