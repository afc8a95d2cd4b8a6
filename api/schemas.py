"""Request and response models of the API (separate models for what comes in and goes out)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from graphrec.schema import DEFAULT_INTERACTION_KIND
from graphrec.serving import Source

from .fields import (
    KIND_PATTERN,
    RELATION_PATTERN,
    BusinessId,
    ConceptId,
    Text,
    Timestamp,
    Value,
)

#: Most interactions in one POST /interactions body.
MAX_INTERACTIONS_PER_REQUEST = 10_000
#: Most concepts one POST /items may attach.
MAX_CONCEPTS_PER_ITEM = 100


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
        description="model: the user's trained embedding; fold_in: an embedding folded in "
        "from the user's interactions without retraining; popularity: no usable embedding, "
        "most popular items instead."
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


# -- interactions --------------------------------------------------------------------------------------
class InteractionIn(BaseModel):
    """One interaction: a user did something with an item."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "user_id": "42",
                    "item_id": "318",
                    "kind": "rating",
                    "weight": 1.0,
                    "rating": 4.5,
                    "ts": 1700000000,
                }
            ]
        },
    )

    user_id: BusinessId = Field(description="A new user id creates the user.")
    item_id: BusinessId = Field(description="Must be a known item.")
    kind: str = Field(
        default=DEFAULT_INTERACTION_KIND,
        pattern=KIND_PATTERN,
        examples=["click", "rating", "purchase"],
        description="One edge is kept per (user, item, kind); posting it again refreshes it.",
    )
    weight: Value = 1.0
    rating: Value | None = None
    ts: Timestamp | None = Field(
        default=None,
        description="Seconds since the epoch (default: when the service receives it).",
    )


#: Several interactions in one body: at least one, at most MAX_INTERACTIONS_PER_REQUEST.
InteractionList = Annotated[
    list[InteractionIn], Field(min_length=1, max_length=MAX_INTERACTIONS_PER_REQUEST)
]


class InteractionsAccepted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"accepted": 2, "users": 1}]})

    accepted: int = Field(description="Interactions written to the graph.")
    users: int = Field(description="Distinct users among them (folded in on their next request).")


# -- items ---------------------------------------------------------------------------------------------
class ConceptLink(BaseModel):
    """A concept of a new item, by id ``<kind>:<name>`` (created when the graph lacks it)."""

    model_config = ConfigDict(extra="forbid")

    id: ConceptId
    relation: str | None = Field(
        default=None,
        pattern=RELATION_PATTERN,
        description="Relation of the HAS_CONCEPT edge (default: has_<kind>).",
        examples=["has_genre"],
    )
    weight: Value = 1.0

    @property
    def kind(self) -> str:
        return self.id.partition(":")[0]

    @property
    def name(self) -> str:
        return self.id.partition(":")[2]


class ItemCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "new-1",
                    "title": "A space comedy",
                    "concepts": [{"id": "genre:comedy"}, {"id": "tag:space", "weight": 2.0}],
                }
            ]
        },
    )

    id: BusinessId
    title: Text | None = Field(default=None, max_length=1_000)
    concepts: list[ConceptLink] = Field(
        default_factory=list,
        max_length=MAX_CONCEPTS_PER_ITEM,
        description="The item's cold-start embedding is the mean of these concepts' "
        "centroids over trained items.",
    )


class ColdStartOut(BaseModel):
    model: ModelRef
    embedded: bool = Field(
        description="False when no trained item shares a concept with it: the item is "
        "stored but cannot be recommended by this model until it is retrained."
    )


class ItemCreated(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "new-1",
                    "title": "A space comedy",
                    "concepts": ["genre:comedy", "tag:space"],
                    "embeddings": [{"model": {"name": "lightgcn", "version": 3}, "embedded": True}],
                }
            ]
        }
    )

    id: str
    title: str | None
    concepts: list[str]
    embeddings: list[ColdStartOut]


# -- models, health, reload ----------------------------------------------------------------------------
class ModelInfo(BaseModel):
    name: str = Field(examples=["lightgcn"])
    version: int = Field(examples=[3])
    dim: int = Field(examples=[64])
    trained_at: str = Field(examples=["2025-01-01T12:00:00+00:00"])
    items: int = Field(description="Items with an embedding (trained or cold-started).")
    users: int = Field(description="Users with a trained embedding.")
    default: bool


class GraphHealth(BaseModel):
    reachable: bool
    uri: str | None = Field(
        description="The graph's Bolt URI; null unless the request has the API key."
    )
    error: str | None = Field(
        default=None,
        description="Why the graph is unreachable (null when it answers): the driver's "
        "message with the API key, else only that it is unreachable.",
    )
    vector_index: bool = Field(description="Similar items through the server's vector index.")


class HealthOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ok",
                    "graph": {
                        "reachable": True,
                        "uri": "bolt://127.0.0.1:7687",
                        "error": None,
                        "vector_index": False,
                    },
                    "models": [
                        {
                            "name": "lightgcn",
                            "version": 3,
                            "dim": 64,
                            "trained_at": "2025-01-01T12:00:00+00:00",
                            "items": 9742,
                            "users": 610,
                            "default": True,
                        }
                    ],
                    "items": 9742,
                    "users": 610,
                    "loaded_at": "2025-01-01T12:05:00+00:00",
                    "writes": True,
                }
            ]
        }
    )

    status: Literal["ok", "degraded"] = Field(
        description="degraded: the graph is unreachable; recommendations still come from "
        "memory, writes answer 503."
    )
    graph: GraphHealth
    models: list[ModelInfo]
    items: int
    users: int = Field(description="Users with interactions.")
    loaded_at: str
    writes: bool = Field(description="False when the service runs read-only.")


class ReloadOut(BaseModel):
    models: list[ModelInfo]
    changed: bool = Field(description="Whether any loaded model version changed.")
    seconds: float


class LatencyBucketOut(BaseModel):
    le: str = Field(description="Upper bound in seconds (`+Inf` for the last bucket).")
    count: int = Field(description="Requests at most this slow (cumulative).")


class LatencyOut(BaseModel):
    count: int
    sum: float = Field(description="Seconds, summed over the requests.")
    buckets: list[LatencyBucketOut]


class RouteMetricsOut(BaseModel):
    method: str = Field(description="GET, POST ... or `other` for any other method token.")
    route: str = Field(
        description="The route template, or `other` for a path no route matches.",
        examples=["/users/{user_id}/recommendations"],
    )
    count: int
    statuses: dict[str, int] = Field(examples=[{"200": 41, "404": 2}])
    latency_seconds: LatencyOut


class MetricsOut(BaseModel):
    uptime_seconds: float
    routes: list[RouteMetricsOut]
    gauges: dict[str, float] = Field(
        examples=[{"catalog_items": 9742.0, "writer_queue": 0.0, "model_version_lightgcn": 3.0}]
    )
