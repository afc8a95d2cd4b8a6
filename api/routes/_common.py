"""Helpers the routers share: id parsing, error documentation, ranking to response."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import HTTPException, Path, Query, status

from graphrec.schema import MAX_ID_LENGTH, ConceptKind, InvalidIdError, concept_id, normalize_id
from graphrec.serving import MAX_K, Ranking

from ..fields import path_id_schema
from ..schemas import ErrorOut, ModelRef, ScoredItemOut


def id_path(example: str) -> Any:
    """``Path(...)`` of a ``{user_id}`` or ``{item_id}``, with the id rule's pattern
    (the route checks the value with :func:`parse_id`)."""
    return Path(
        min_length=1,
        max_length=MAX_ID_LENGTH,
        examples=[example],
        json_schema_extra=path_id_schema(),
    )


#: ``?k=``: how many items a ranking endpoint returns.
TopK = Annotated[int, Query(ge=1, le=MAX_K, description="How many items.")]
#: ``?model=``: which loaded model ranks (``None``: the service's default).
ModelName = Annotated[
    str | None,
    Query(max_length=64, description="Model name (default: the service's default model)."),
]


def parse_id(value: str, field: str) -> str:
    """A path segment as a business id, or 422."""
    try:
        return normalize_id(value, field=field)
    except InvalidIdError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


def parse_concept(value: str) -> str:
    """A concept id from a query parameter, normalised as ``POST /items`` normalises it.

    ``<kind>:<name>`` with a known kind becomes :func:`graphrec.schema.concept_id`
    (``tag:Live Action`` is ``tag:live action``); any other text is returned as
    it is, and is then an unknown concept (404), as no concept has such an id.
    """
    kind, sep, name = value.partition(":")
    if sep and kind in {k.value for k in ConceptKind}:
        try:
            return concept_id(kind, name)
        except InvalidIdError:
            pass
    return value


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for error codes, all shaped like :class:`ErrorOut`."""
    text = {
        400: "The body cannot be decoded (not UTF-8 JSON), or its Content-Length is invalid.",
        401: "Missing API key.",
        403: "Invalid API key, or the endpoint is disabled.",
        404: "Unknown user, item, concept or model.",
        408: "The body did not arrive in full within the body timeout (the connection is closed).",
        409: "Conflict with the current state.",
        413: "Request body too large.",
        422: "Invalid parameters or body.",
        503: "The graph is unreachable.",
    }
    return {code: {"model": ErrorOut, "description": text[code]} for code in codes}


def model_ref(ranking: Ranking) -> ModelRef:
    return ModelRef(name=ranking.model, version=ranking.version)


def scored_items(ranking: Ranking) -> list[ScoredItemOut]:
    return [
        ScoredItemOut(item_id=i.item_id, title=i.title, score=i.score, rank=i.rank)
        for i in ranking.items
    ]
