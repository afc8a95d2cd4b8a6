"""``GET /users/{user_id}/recommendations`` and its explanations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from graphrec.explain import Explanation, PathSearch
from graphrec.schema import MAX_ID_LENGTH, InvalidIdError, normalize_id
from graphrec.serving import MAX_K, Ranking, Source, UnknownUserError, recommend, user_vector

from ..deps import ApiKey, IndexDep, ReadAccess, StateDep, has_admin_access
from ..errors import ApiError
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

#: Most ids one ``exclude=`` list may hold.
MAX_EXCLUDE = 1_000

#: ``?include_user_ids=``: other users' ids on collaborative paths (admin key only).
IncludeUserIds = Annotated[
    bool,
    Query(
        description="Collaborative paths: add some of the other users' ids (`user_ids`). "
        "Needs an admin key (403 otherwise); without it paths give a count only."
    ),
]
#: ``?offset=``: paging past k.
Offset = Annotated[
    int,
    Query(
        ge=0,
        le=MAX_K - 1,
        description=f"Skip this many ranks: ranks offset + 1 to offset + k (none past {MAX_K}).",
    ),
]
#: ``?exclude=``: item ids left out.
Exclude = Annotated[
    list[str],
    Query(
        max_length=MAX_EXCLUDE,
        description="Item ids to leave out (repeat the parameter for several); ids not in "
        "the catalog are ignored.",
        examples=[["318", "858"]],
    ),
]


def user_ids_allowed(state: ServiceState, key: str | None, include_user_ids: bool) -> bool:
    """Whether to show other users' ids: asked for, and with an admin key (else 403)."""
    if include_user_ids and not has_admin_access(state, key):
        raise ApiError(
            status.HTTP_403_FORBIDDEN,
            "include_user_ids=true needs an admin key",
            code="insufficient_scope",
        )
    return include_user_ids


def parse_exclude(values: list[str]) -> list[str]:
    """The ``exclude`` ids, normalised; a value that is no valid id names no item: ignored."""
    ids = []
    for value in values:
        try:
            ids.append(normalize_id(value, field="exclude"))
        except InvalidIdError:
            continue
    return ids


async def rank_user(state: ServiceState, index: Index, user_id: str, **options: object) -> Ranking:
    """:func:`recommend`, with the popularity fallback for a user only the graph knows."""
    try:
        return recommend(index.snapshot, index.state, user_id, **options)  # type: ignore[arg-type]
    except UnknownUserError:
        if not await state.user_exists(user_id):
            raise
        return recommend(index.snapshot, index.state, user_id, known_user=True, **options)  # type: ignore[arg-type]


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
            description="Add the best explanation path per item (one set of graph queries "
            "per item), for at most GRAPHREC_API_EXPLAIN_MAX_ITEMS items (default 20); the "
            "others are listed in `unexplained`.",
        ),
    ] = False,
    exclude: Exclude = [],  # noqa: B006 (FastAPI copies defaults)
    offset: Offset = 0,
    include_user_ids: IncludeUserIds = False,
    key: ApiKey = None,
) -> RecommendationsOut:
    """Items for a user, best first, with the model's score, title and rank.

    A user who interacted through `POST /interactions` after the model version
    was written is folded in from their items without retraining. A user the
    graph knows but with nothing to rank from gets the most popular items,
    flagged `fallback: true`. Unknown users get 404. `offset` pages past `k`
    (ranks `offset + 1` to `offset + k`); `exclude` leaves items out.
    """
    user_id = parse_id(user_id, "user_id")
    with_ids = user_ids_allowed(state, key, include_user_ids)
    if concept is not None:
        concept = parse_concept(concept)
    ranking = await rank_user(
        state,
        index,
        user_id,
        k=k,
        model=model,
        exclude_seen=exclude_seen,
        concept=concept,
        diversity=diversity,
        exclude=parse_exclude(exclude),
        offset=offset,
    )
    explanations, partial, unexplained = None, False, []
    if explain_items:
        cap = state.settings.api_explain_max_items
        wanted = [item.item_id for item in ranking.items]
        done = await state.explainer.many(
            state, index, ranking.model, user_id, wanted[:cap], max_paths=1, max_hops=3
        )
        explanations = {
            item: (_path_out(found.paths[0], with_ids) if found.paths else None)
            for item, found in done.found.items()
            if found is not None
        }
        partial = any(found.partial for found in done.found.values() if found is not None)
        unexplained = [*done.skipped, *wanted[cap:]]
    return RecommendationsOut(
        user_id=user_id,
        model=model_ref(ranking),
        source=ranking.source,
        fallback=ranking.source is Source.POPULARITY,
        items=scored_items(ranking),
        explanations=explanations,
        explanations_partial=partial,
        unexplained=unexplained,
        offset=offset,
    )


@router.get(
    "/{user_id}/recommendations/{item_id}/explanation",
    response_model=ExplanationOut,
    responses=errors(401, 403, 404, 422, 503),
    summary="Why an item suits a user: paths through the graph",
    operation_id="explain_recommendation",
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
    include_user_ids: IncludeUserIds = False,
    key: ApiKey = None,
) -> ExplanationOut:
    """Real paths from the user to the item (collaborative, content, knowledge graph,
    co-engagement, user attribute), ranked by the model's embeddings, each with a sentence.

    An empty list means no path within the limits connects them. Other users appear only
    as a count (`people`); their ids only for an admin key with `include_user_ids=true`.
    503 (`explain_busy`, with Retry-After) when the service's explanation slots stay taken
    for the whole explanation timeout.
    """
    user_id = parse_id(user_id, "user_id")
    item_id = parse_id(item_id, "item_id")
    with_ids = user_ids_allowed(state, key, include_user_ids)
    vectors = index.snapshot.model(model)
    index.snapshot.catalog.position(item_id)  # 404 for an unknown item
    try:
        user_vector(vectors, index.state, user_id)
    except UnknownUserError:
        if not await state.user_exists(user_id):
            raise
    found = await state.explainer.run(
        state,
        index,
        vectors.name,
        user_id,
        item_id,
        max_paths=max_paths,
        max_hops=max_hops,
        wait=state.settings.api_explain_timeout,
    )
    if found is None:
        raise ApiError(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "too many explanations in progress; try again shortly",
            code="explain_busy",
            headers={"Retry-After": "1"},
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
        paths=[_path_out(p, with_ids) for p in found.paths],
        reason=reason,
        partial=found.partial,
        timed_out=list(found.timed_out),
    )


def _path_out(path: Explanation, include_user_ids: bool = False) -> ExplanationPathOut:
    data = path.as_dict(include_user_ids=include_user_ids)
    return ExplanationPathOut.model_validate(data, from_attributes=False)


__all__ = ["PathSearch", "rank_user", "router"]
