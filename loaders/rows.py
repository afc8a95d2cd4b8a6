"""Typed rows that every parser yields and :mod:`graphrec.ingest` consumes.

Ids are already normalised business ids (:func:`graphrec.schema.normalize_id`);
concept ids are namespaced (:func:`graphrec.schema.concept_id`). A parser that
finds a bad line yields a :class:`Reject` naming the file and line instead of
raising, so valid rows are still ingested.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Relation of the ``HAS_CONCEPT`` edge from an item to the KG entity that stands
#: for it (RecBole ``.link`` files, KGAT items that appear as KG entities).
LINKED_ENTITY = "linked_entity"


@dataclass(frozen=True, slots=True)
class UserRow:
    id: str
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ItemRow:
    id: str
    title: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConceptRow:
    id: str  # "<kind>:<normalised name>"
    kind: str  # a graphrec.schema.ConceptKind value
    name: str  # display name as found in the source


@dataclass(frozen=True, slots=True)
class InteractionRow:
    user_id: str
    item_id: str
    kind: str = "interacted"
    weight: float = 1.0
    rating: float | None = None
    ts: int | None = None  # seconds since the epoch
    split: str | None = None  # "train" / "test" when the source fixes the split


@dataclass(frozen=True, slots=True)
class ItemConceptRow:
    item_id: str
    concept_id: str
    relation: str  # has_genre, has_tag, film.film.actor, ...
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class UserConceptRow:
    user_id: str
    concept_id: str
    relation: str  # has_age_group, has_gender, has_occupation, ...


@dataclass(frozen=True, slots=True)
class ConceptRelationRow:
    head_id: str
    relation: str
    tail_id: str


@dataclass(frozen=True, slots=True)
class SubconceptRow:
    child_id: str
    parent_id: str


@dataclass(frozen=True, slots=True)
class Reject:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


Row = (
    UserRow
    | ItemRow
    | ConceptRow
    | InteractionRow
    | ItemConceptRow
    | UserConceptRow
    | ConceptRelationRow
    | SubconceptRow
    | Reject
)
