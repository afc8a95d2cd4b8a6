"""``POST /recommendations/batch``: top-k for many users in one call."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, status

from graphrec.serving import Source, UnknownUserError

from ..deps import IndexDep, ReadAccess, StateDep
from ..errors import ApiError
from ..schemas import RecommendationsOut
from ..schemas_batch import BatchErrorOut, BatchIn, BatchOut
from ._common import errors, model_ref, scored_items
from .users import rank_user

router = APIRouter(prefix="/recommendations", tags=["recommendations"], dependencies=[ReadAccess])


@router.post(
    "/batch",
    response_model=BatchOut,
    responses=errors(400, 401, 403, 404, 408, 413, 422, 503),
    summary="Top-k items for many users",
    operation_id="batch_recommendations",
)
async def batch_recommendations(
    state: StateDep,
    index: IndexDep,
    body: Annotated[
        BatchIn,
        Body(
            openapi_examples={
                "two users": {
                    "summary": "Two users, five items each, one item left out",
                    "value": {"user_ids": ["42", "7"], "k": 5, "exclude": ["318"]},
                },
                "second page": {
                    "summary": "Ranks 11 to 20",
                    "value": {"user_ids": ["42"], "k": 10, "offset": 10},
                },
            }
        ),
    ],
) -> BatchOut:
    """The same ranking as `GET /users/{id}/recommendations` (without explanations) for each
    user, all from one model version. More users than GRAPHREC_API_BATCH_MAX_USERS: 413,
    nothing ranked. An unknown user is reported in `errors` and does not fail the others;
    an unknown model is 404 for the whole request.
    """
    limit = state.settings.api_batch_max_users
    users = list(dict.fromkeys(body.user_ids))
    if len(users) > limit:
        raise ApiError(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"the batch names {len(users)} users; at most {limit} "
            "(GRAPHREC_API_BATCH_MAX_USERS) per request",
            code="batch_too_large",
        )
    index.snapshot.model(body.model)  # 404 for an unknown model, before any user
    results: list[RecommendationsOut] = []
    failed: list[BatchErrorOut] = []
    for user_id in users:
        try:
            ranking = await rank_user(
                state,
                index,
                user_id,
                k=body.k,
                model=body.model,
                exclude_seen=body.exclude_seen,
                exclude=body.exclude,
                offset=body.offset,
            )
        except UnknownUserError as exc:
            failed.append(BatchErrorOut(user_id=user_id, code="unknown_user", detail=str(exc)))
            continue
        results.append(
            RecommendationsOut(
                user_id=user_id,
                model=model_ref(ranking),
                source=ranking.source,
                fallback=ranking.source is Source.POPULARITY,
                items=scored_items(ranking),
                offset=body.offset,
            )
        )
    return BatchOut(results=results, errors=failed)
