"""``GET /users/{user_id}/recommendations``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from graphrec.recommend import MAX_K, Source, UnknownUserError, recommend
from graphrec.schema import MAX_ID_LENGTH

from ..deps import IndexDep, ReadAccess, StateDep
from ..schemas import RecommendationsOut
from ._common import errors, model_ref, parse_id, scored_items

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
    user_id: Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH, examples=["42"])],
    k: Annotated[int, Query(ge=1, le=MAX_K, description="How many items.")] = 10,
    model: Annotated[
        str | None,
        Query(max_length=64, description="Model name (default: the service's default model)."),
    ] = None,
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
) -> RecommendationsOut:
    """Items for a user, best first, with the model's score, title and rank.

    A user who interacted through `POST /interactions` after the model version
    was written is folded in from their items without retraining. A user the
    graph knows but with nothing to rank from gets the most popular items,
    flagged `fallback: true`. Unknown users get 404.
    """
    user_id = parse_id(user_id, "user_id")
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
    return RecommendationsOut(
        user_id=user_id,
        model=model_ref(ranking),
        source=ranking.source,
        fallback=ranking.source is Source.POPULARITY,
        items=scored_items(ranking),
    )
