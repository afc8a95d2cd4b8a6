"""Request and response models of the API's writes: interactions and new items."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from graphrec.schema import DEFAULT_INTERACTION_KIND

from .fields import (
    KIND_PATTERN,
    RELATION_PATTERN,
    BusinessId,
    ConceptId,
    Text,
    Timestamp,
    Value,
)
from .schemas import ModelRef

#: Most interactions in one POST /interactions body.
MAX_INTERACTIONS_PER_REQUEST = 10_000
#: Most concepts one POST /items may attach.
MAX_CONCEPTS_PER_ITEM = 100


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
