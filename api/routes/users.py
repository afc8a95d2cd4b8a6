"""``GET /users/{user_id}/recommendations``."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query

from graphrec.explain import Explanation, PathSearch, explain
from graphrec.schema import MAX_ID_LENGTH
from graphrec.serving import (
    Source,
    UnknownUserError,
    recommend,
    user_vector,
    vector_lookup,
)

from ..deps import IndexDep, ReadAccess, StateDep
from ..schemas import ExplanationOut, ExplanationPathOut, ModelRef, RecommendationsOut
from ..state import Index, ServiceState
from ._common import (
    ModelName,
    TopK,
    errors,
    id_path,
    model_ref,
    parse_concept,
    parse_id,
    scored_items,
)

router = APIRouter(prefix="/users", tags=["recommendations"], dependencies=[ReadAccess])


@router.get(
    "/{user_id}/recommendations",
    response_model=RecommendationsOut,
    responses=errors(401, 403, 404, 422, 503),
    summary="Top-k items for a user",
)
async def user_recommendations(
    state: StateDep,
    index: IndexDep,
    user_id: Annotated[str, id_path("42")],
    k: TopK = 10,
    model: ModelName = None,
    exclude_seen: Annotated[
        bool, Query(description="Leave out items the user interacted with.")
    ] = True,
    concept: Annotated[
        str | None,
        Query(
            max_length=MAX_ID_LENGTH,
            description="Only items with this concept or one of its subconcepts.",
            examples=["genre:comedy"],
        ),
    ] = None,
    diversity: Annotated[
        float,
        Query(ge=0.0, le=1.0, description="MMR re-ranking: 0 ranks by score alone, 1 by novelty."),
    ] = 0.0,
    explain_items: Annotated[
        bool,
        Query(
            alias="explain",
            description="Add the best explanation path per item (one set of graph queries per item).",
        ),
    ] = False,
) -> RecommendationsOut:
    """Items for a user, best first, with the model's score, title and rank.

    A user who interacted through `POST /interactions` after the model version
    was written is folded in from their items without retraining. A user the
    graph knows but with nothing to rank from gets the most popular items,
    flagged `fallback: true`. Unknown users get 404.
    """
    user_id = parse_id(user_id, "user_id")
    if concept is not None:
        concept = parse_concept(concept)
    options = {
        "k": k,
        "model": model,
        "exclude_seen": exclude_seen,
        "concept": concept,
        "diversity": diversity,
    }
    try:
        ranking = recommend(index.snapshot, index.state, user_id, **options)
    except UnknownUserError:
        if not await state.user_exists(user_id):
            raise
        ranking = recommend(index.snapshot, index.state, user_id, known_user=True, **options)
    explanations, partial = None, False
    if explain_items:
        best = await asyncio.gather(
            *(
                _explain(
                    state, index, ranking.model, user_id, item.item_id, max_paths=1, max_hops=3
                )
                for item in ranking.items
            )
        )
        explanations = {
            item.item_id: (_path_out(found.paths[0]) if found.paths else None)
            for item, found in zip(ranking.items, best, strict=True)
        }
        partial = any(found.partial for found in best)
    return RecommendationsOut(
        user_id=user_id,
        model=model_ref(ranking),
        source=ranking.source,
        fallback=ranking.source is Source.POPULARITY,
        items=scored_items(ranking),
        explanations=explanations,
        explanations_partial=partial,
    )


@router.get(
    "/{user_id}/recommendations/{item_id}/explanation",
    response_model=ExplanationOut,
    responses=errors(401, 403, 404, 422, 503),
    summary="Why an item suits a user: paths through the graph",
)
async def explanation(
    state: StateDep,
    index: IndexDep,
    user_id: Annotated[str, id_path("42")],
    item_id: Annotated[str, id_path("318")],
    max_paths: Annotated[int, Query(ge=1, le=20, description="Paths to return.")] = 3,
    max_hops: Annotated[
        int, Query(ge=1, le=4, description="RELATED hops in knowledge-graph paths.")
    ] = 3,
    model: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Model whose embeddings rank the paths (default: the service's).",
        ),
    ] = None,
) -> ExplanationOut:
    """Real paths from the user to the item (collaborative, content, knowledge graph,
    co-engagement, user attribute), ranked by the model's embeddings, each with a sentence.

    An empty list means no path within the limits connects them.
    """
    user_id = parse_id(user_id, "user_id")
    item_id = parse_id(item_id, "item_id")
    vectors = index.snapshot.model(model)
    index.snapshot.catalog.position(item_id)  # 404 for an unknown item
    try:
        user_vector(vectors, index.state, user_id)
    except UnknownUserError:
        if not await state.user_exists(user_id):
            raise
    found = await _explain(
        state, index, vectors.name, user_id, item_id, max_paths=max_paths, max_hops=max_hops
    )
    reason = None
    if not found.paths:
        reason = (
            f"no path was found within {state.settings.api_explain_timeout:g} s "
            f"({', '.join(found.timed_out)} timed out)"
            if found.partial
            else f"no path of these kinds within {max_hops} hops connects user {user_id} "
            f"to item {item_id}"
        )
    return ExplanationOut(
        user_id=user_id,
        item_id=item_id,
        model=ModelRef(name=vectors.name, version=vectors.version),
        paths=[_path_out(p) for p in found.paths],
        reason=reason,
        partial=found.partial,
        timed_out=list(found.timed_out),
    )


async def _explain(
    state: ServiceState,
    index: Index,
    model: str,
    user_id: str,
    item_id: str,
    *,
    max_paths: int,
    max_hops: int,
) -> PathSearch:
    catalog, state_now = index.snapshot.catalog, index.state
    vectors = vector_lookup(index.snapshot.model(model), catalog, state_now)

    def degree(item_id: str) -> float:  # from memory: no extra query per explanation
        position = catalog.item_pos.get(item_id)
        return 1.0 if position is None else float(state_now.popularity[position])

    # Graph failures propagate to the app's handlers (503).
    return await asyncio.to_thread(
        explain,
        state.reader,
        user_id,
        item_id,
        vectors,
        max_paths=max_paths,
        max_hops=max_hops,
        timeout=state.settings.api_explain_timeout,
        degree=degree,
    )


def _path_out(path: Explanation) -> ExplanationPathOut:
    return ExplanationPathOut.model_validate(path.as_dict(), from_attributes=False)
