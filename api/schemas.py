"""Request and response models of the API (separate models for what comes in and goes out)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from graphrec.serving import Source


class ErrorOut(BaseModel):
    """Every error: ``{"detail": ..., "code": ...}``: a message (or a list of field errors
    for 422) and a stable machine-readable code."""

    detail: str | list[dict] = Field(examples=["unknown user 'u-404'"])
    code: str = Field(
        examples=["unknown_user"],
        description="Stable error code, e.g. missing_api_key, invalid_api_key, "
        "insufficient_scope, unknown_user, unknown_item, invalid_request, batch_too_large, "
        "rate_limited, graph_unavailable.",
    )


# -- shared ------------------------------------------------------------------------------------------
class ModelRef(BaseModel):
    name: str = Field(examples=["lightgcn"])
    version: int = Field(examples=[3])


class ScoredItemOut(BaseModel):
    item_id: str = Field(examples=["318"])
    title: str | None = Field(examples=["Shawshank Redemption, The (1994)"])
    score: float = Field(
        examples=[4.21],
        description="Model score (dot product), cosine for similar items, "
        "or popularity for the fallback.",
    )
    rank: int = Field(ge=1, examples=[1])


# -- recommendations ---------------------------------------------------------------------------------
class PathNodeOut(BaseModel):
    id: str = Field(examples=["1"])
    label: str = Field(examples=["Item"])
    name: str | None = Field(default=None, examples=["Alien (1979)"])


class PathRelationshipOut(BaseModel):
    type: str = Field(examples=["HAS_CONCEPT"])
    relation: str | None = Field(default=None, examples=["has_tag"])


class ExplanationPathOut(BaseModel):
    """One real path in the graph from the user to the item."""

    kind: str = Field(
        description="collaborative, content, knowledge_graph, co_engagement or attribute.",
        examples=["content"],
    )
    score: float = Field(description="How well the model thinks this path explains the item.")
    sentence: str = Field(
        examples=[
            "Because you rated *Alien (1979)*, which also has the tag *space horror*, like *Aliens (1986)*"
        ]
    )
    nodes: list[PathNodeOut]
    relationships: list[PathRelationshipOut]
    people: int | None = Field(
        default=None,
        description="Collaborative and attribute paths: how many other users the path goes "
        "through (they appear only as this count).",
        examples=[12],
    )
    user_ids: list[str] | None = Field(
        default=None,
        description="Collaborative paths, only for an admin key with include_user_ids=true: "
        "some of those users' ids (at most 25).",
    )


class ExplanationOut(BaseModel):
    user_id: str
    item_id: str
    model: ModelRef
    paths: list[ExplanationPathOut] = Field(
        description="Best first; empty when no path connects them."
    )
    reason: str | None = Field(
        default=None,
        description="Why there is no path, when `paths` is empty.",
        examples=["no path of these kinds within 3 hops connects user 42 to item 318"],
    )
    partial: bool = Field(
        default=False,
        description="True when some path queries ran out of time: `paths` holds what "
        "the others found.",
    )
    timed_out: list[str] = Field(
        default_factory=list,
        description="The path kinds whose queries ran out of time.",
        examples=[["knowledge_graph"]],
    )


class RecommendationsOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user_id": "42",
                    "model": {"name": "lightgcn", "version": 3},
                    "source": "model",
                    "fallback": False,
                    "items": [
                        {
                            "item_id": "318",
                            "title": "Shawshank Redemption, The (1994)",
                            "score": 4.21,
                            "rank": 1,
                        },
                        {
                            "item_id": "858",
                            "title": "Godfather, The (1972)",
                            "score": 4.02,
                            "rank": 2,
                        },
                    ],
                }
            ]
        }
    )

    user_id: str
    model: ModelRef
    source: Source = Field(
        description="model: the user's trained embedding; fold_in: the user interacted since "
        "the version was trained, and the embedding is updated without retraining (a new "
        "user's comes from their items; a known user's by the version's rule: 'items' "
        "replaces it with the fold-in of all their items, 'change' adds what the new items "
        "change in that fold-in); popularity: no usable embedding, most popular items instead."
    )
    fallback: bool = Field(description="True when the items are the popularity fallback.")
    items: list[ScoredItemOut]
    explanations: dict[str, ExplanationPathOut | None] | None = Field(
        default=None, description="With explain=true: the best path per item id (null when none)."
    )
    explanations_partial: bool = Field(
        default=False,
        description="With explain=true: True when some path queries ran out of time, so an "
        "item's best path may be missing or not the best.",
    )
    unexplained: list[str] = Field(
        default_factory=list,
        description="With explain=true: items not explained, past the per-request cap "
        "(GRAPHREC_API_EXPLAIN_MAX_ITEMS) or because the service was busy explaining.",
    )
    offset: int = Field(default=0, ge=0, description="Ranks skipped before the first item.")


class SimilarItemsOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "item_id": "1",
                    "model": {"name": "lightgcn", "version": 3},
                    "items": [
                        {
                            "item_id": "3114",
                            "title": "Toy Story 2 (1999)",
                            "score": 0.93,
                            "rank": 1,
                        },
                    ],
                }
            ]
        }
    )

    item_id: str
    model: ModelRef
    items: list[ScoredItemOut]


# -- users, items and models as a client reads them ------------------------------------------------------
class ConceptCountOut(BaseModel):
    id: str = Field(examples=["genre:drama"])
    kind: str = Field(examples=["genre"], description="The concept id's namespace.")
    count: int = Field(ge=1, examples=[12], description="The user's items that have it.")


class RecentInteractionOut(BaseModel):
    item_id: str = Field(examples=["318"])
    title: str | None = Field(examples=["Shawshank Redemption, The (1994)"])
    kind: str | None = Field(examples=["rating"])
    ts: int | None = Field(description="Seconds since the epoch.", examples=[1700000000])
    rating: float | None = Field(default=None, examples=[4.5])


class UserOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "42",
                    "interactions": 87,
                    "items": 85,
                    "last_interaction_ts": 1700000000,
                    "top_concepts": [
                        {"id": "genre:drama", "kind": "genre", "count": 40},
                        {"id": "genre:comedy", "kind": "genre", "count": 21},
                    ],
                    "recent": [
                        {
                            "item_id": "318",
                            "title": "Shawshank Redemption, The (1994)",
                            "kind": "rating",
                            "ts": 1700000000,
                            "rating": 4.5,
                        }
                    ],
                    "model": {"name": "lightgcn", "version": 3},
                    "source": "model",
                    "trained": True,
                    "folded_in": False,
                }
            ]
        }
    )

    id: str
    interactions: int = Field(description="INTERACTED edges in the graph (one per item and kind).")
    items: int = Field(description="Distinct items the service counts as seen.")
    last_interaction_ts: int | None = Field(
        description="The latest interaction time in the graph (seconds since the epoch)."
    )
    top_concepts: list[ConceptCountOut] = Field(
        description="The concepts of the user's items, most frequent first."
    )
    recent: list[RecentInteractionOut] = Field(description="Newest first.")
    model: ModelRef = Field(description="The model `source`, `trained` and `folded_in` refer to.")
    source: Source = Field(description="Where this model's recommendations for the user come from.")
    trained: bool = Field(description="Whether the model version has a trained embedding for them.")
    folded_in: bool = Field(
        description="Whether the user is folded in: ranked from their items without retraining, "
        "because they interacted after the model version was written or were not trained."
    )


class UserSummaryOut(BaseModel):
    id: str = Field(examples=["42"])
    items: int = Field(description="Distinct items the service counts as seen.", examples=[85])


class UsersOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"users": [{"id": "42", "items": 85}, {"id": "7", "items": 60}], "total": 610}
            ]
        }
    )

    users: list[UserSummaryOut] = Field(description="Most items first, then by id.")
    total: int = Field(description="Users with interactions that match the prefix.")


class ItemConceptOut(BaseModel):
    id: str = Field(examples=["genre:drama"])
    kind: str = Field(examples=["genre"])


class ItemOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "318",
                    "title": "Shawshank Redemption, The (1994)",
                    "concepts": [
                        {"id": "genre:crime", "kind": "genre"},
                        {"id": "genre:drama", "kind": "genre"},
                    ],
                    "popularity": 317,
                }
            ]
        }
    )

    id: str
    title: str | None
    concepts: list[ItemConceptOut] = Field(description="Direct HAS_CONCEPT links, by id.")
    popularity: int = Field(description="Users who interacted with it.")


class ServedModelOut(BaseModel):
    name: str = Field(examples=["lightgcn"])
    version: int = Field(examples=[3])
    dim: int = Field(examples=[64])
    trained_at: str = Field(examples=["2025-01-01T12:00:00+00:00"])
    default: bool
    metrics: dict[str, Any] = Field(
        description="Test metrics stored on the Model node (non-finite values as null).",
        examples=[{"recall@20": 0.41, "ndcg@20": 0.39}],
    )
    params: dict[str, Any] = Field(
        description="The run's settings stored on the Model node.",
        examples=[{"model": "lightgcn", "epochs": 40, "lr": 0.005}],
    )
    history: list[dict[str, Any]] = Field(
        description="The training curve, one object per epoch (empty when the run saved none).",
        examples=[[{"epoch": 1, "loss": 0.69, "seconds": 0.4, "val_recall@20": 0.12}]],
    )


class ModelsOut(BaseModel):
    default: str = Field(description="The model used when a request names none.")
    models: list[ServedModelOut]
