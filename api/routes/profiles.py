"""``GET /users`` and ``GET /users/{user_id}``: who the service knows, and one user's profile."""

from __future__ import annotations

import asyncio
import heapq
from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Query

from graphrec.schema import MAX_ID_LENGTH
from graphrec.serving import Source, UnknownUserError, user_vector

from ..deps import IndexDep, ReadAccess, StateDep
from ..schemas import (
    ConceptCountOut,
    ModelRef,
    RecentInteractionOut,
    UserOut,
    UsersOut,
    UserSummaryOut,
)
from ..state import Index
from ..writes import read_once
from ._common import ModelName, errors, id_path, parse_id

router = APIRouter(prefix="/users", tags=["users"], dependencies=[ReadAccess])

#: Most users one ``GET /users`` returns, most recent interactions one profile holds.
MAX_USERS = 100
MAX_RECENT = 50
MAX_TOP_CONCEPTS = 50


@router.get(
    "",
    response_model=UsersOut,
    responses=errors(401, 403, 422),
    summary="Users with interactions (most items first)",
    operation_id="list_users",
)
async def list_users(
    index: IndexDep,
    prefix: Annotated[
        str,
        Query(max_length=MAX_ID_LENGTH, description="Only ids that start with this text."),
    ] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_USERS, description="How many users.")] = 10,
) -> UsersOut:
    """Users the service holds interactions for, those with the most items first (ties by id):
    example users with history, or an id search by prefix.

    Served from memory; one pass over the users in the index.
    """
    state = index.state
    matching = [u for u in state.users() if u.startswith(prefix)]
    best = heapq.nsmallest(limit, ((-len(state.seen(u)), u) for u in matching))
    return UsersOut(
        users=[UserSummaryOut(id=user, items=-negated) for negated, user in best],
        total=len(matching),
    )


@router.get(
    "/{user_id}",
    response_model=UserOut,
    responses=errors(401, 403, 404, 422, 503),
    summary="A user's profile: interactions, top concepts, recent items",
    operation_id="get_user",
)
async def get_user(
    state: StateDep,
    index: IndexDep,
    user_id: Annotated[str, id_path("42")],
    model: ModelName = None,
    recent: Annotated[
        int, Query(ge=0, le=MAX_RECENT, description="How many recent interactions.")
    ] = 10,
    top_concepts: Annotated[
        int, Query(ge=0, le=MAX_TOP_CONCEPTS, description="How many top concepts.")
    ] = 10,
) -> UserOut:
    """How many interactions the user has and when the latest was (from the graph), their
    most recent interactions (graph), the concepts of their items with counts (memory),
    and whether the model ranks them from a trained embedding or folds them in.

    Unknown users get 404; 503 when the graph cannot be reached.
    """
    user_id = parse_id(user_id, "user_id")
    vectors = index.snapshot.model(model)  # 404 for an unknown model, before the graph
    timeout = state.options.graph_timeout
    summary, rows = await asyncio.gather(
        read_once(state.graph, "api/user_summary", timeout, id=user_id),
        read_once(state.graph, "api/user_recent_interactions", timeout, id=user_id, limit=recent)
        if recent
        else _nothing(),
    )
    if not summary:
        raise UnknownUserError(f"unknown user {user_id!r}")
    try:
        source = user_vector(vectors, index.state, user_id)[1]
    except UnknownUserError:  # in the graph, but nothing to rank from
        source = Source.POPULARITY
    return UserOut(
        id=user_id,
        interactions=int(summary[0]["interactions"]),
        items=len(index.state.seen(user_id)),
        last_interaction_ts=summary[0]["last_ts"],
        top_concepts=_top_concepts(index, user_id, top_concepts),
        recent=[RecentInteractionOut(**row) for row in rows],
        model=ModelRef(name=vectors.name, version=vectors.version),
        source=source,
        trained=user_id in vectors.user_pos,
        folded_in=source is Source.FOLD_IN,
    )


async def _nothing() -> list[dict]:
    return []


def _top_concepts(index: Index, user_id: str, limit: int) -> list[ConceptCountOut]:
    """The direct concepts of the user's seen items, counted; most frequent first, then by id."""
    catalog = index.snapshot.catalog
    counts = Counter(
        catalog.concept_ids[c]
        for position in index.state.seen(user_id).tolist()
        for c in catalog.item_concepts[position]
    )
    best = heapq.nsmallest(limit, counts.items(), key=lambda pair: (-pair[1], pair[0]))
    return [ConceptCountOut(id=c, kind=c.partition(":")[0], count=n) for c, n in best]
