"""How each kind of parsed row is written: its statement, its parameter map and its key."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from graphrec.loaders.rows import (
    ConceptRelationRow,
    ConceptRow,
    InteractionRow,
    ItemConceptRow,
    ItemRow,
    SubconceptRow,
    UserConceptRow,
    UserRow,
)
from graphrec.schema import RESERVED_PROPERTIES, NodeLabel, RelType, check_property_name


class IngestError(Exception):
    """Ingestion refused (``strict`` with bad rows, or an invalid property name)."""


def _properties(props: dict[str, Any], *, where: str) -> dict[str, Any]:
    for key in props:
        try:
            check_property_name(key)
        except ValueError as exc:
            raise IngestError(f"{where}: {exc}") from None
        if key in RESERVED_PROPERTIES:
            raise IngestError(f"{where}: property {key!r} is reserved; rename it in the mapping")
    return {k: v for k, v in props.items() if v is not None}


# -- how each row kind is written --------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """One kind of row: where it goes in the graph and how it becomes a parameter map."""

    name: str  # label or relationship type, for the summary
    is_node: bool
    create: str  # statement that creates (nodes: merges) the rows
    to_param: Callable[[Any], dict[str, Any]]
    key: Callable[[Any], Hashable]
    update: str | None = None  # relationships: statement that refreshes existing edges
    # Relationships on Neo4j: one MERGE statement doing both (see Ingestor._flush).
    merge: str | None = None


def _user(row: UserRow) -> dict[str, Any]:
    return {"id": row.id, "properties": _properties(row.properties, where=f"user {row.id!r}")}


def _item(row: ItemRow) -> dict[str, Any]:
    props = _properties(row.properties, where=f"item {row.id!r}")
    return {"id": row.id, "title": row.title, "properties": props}


def _interaction(row: InteractionRow) -> dict[str, Any]:
    return {
        "user_id": row.user_id,
        "item_id": row.item_id,
        "kind": row.kind,
        "weight": float(row.weight),
        "rating": row.rating,
        "ts": row.ts,
        "split": row.split,
    }


TARGETS: dict[type, Target] = {
    UserRow: Target(NodeLabel.USER, True, "ingest/merge_users", _user, lambda r: r.id),
    ItemRow: Target(NodeLabel.ITEM, True, "ingest/merge_items", _item, lambda r: r.id),
    ConceptRow: Target(
        NodeLabel.CONCEPT,
        True,
        "ingest/merge_concepts",
        lambda r: {"id": r.id, "kind": r.kind, "name": r.name},
        lambda r: r.id,
    ),
    InteractionRow: Target(  # written by graphrec.ingest.writer.Ingestor._flush_interactions, see there
        RelType.INTERACTED,
        False,
        "ingest/create_interactions",
        _interaction,
        lambda r: (r.user_id, r.item_id, r.kind),
        update="ingest/update_interactions",
        merge="ingest/merge_interactions",
    ),
    ItemConceptRow: Target(
        RelType.HAS_CONCEPT,
        False,
        "ingest/create_missing_item_concepts",
        lambda r: {
            "item_id": r.item_id,
            "concept_id": r.concept_id,
            "relation": r.relation,
            "weight": float(r.weight),
        },
        lambda r: (r.item_id, r.concept_id, r.relation),
        update="ingest/update_item_concepts",
        merge="ingest/merge_item_concepts",
    ),
    UserConceptRow: Target(
        RelType.HAS_ATTRIBUTE,
        False,
        "ingest/create_missing_user_attributes",
        lambda r: {"user_id": r.user_id, "concept_id": r.concept_id, "relation": r.relation},
        lambda r: (r.user_id, r.concept_id, r.relation),
        merge="ingest/merge_user_attributes",
    ),
    SubconceptRow: Target(
        RelType.SUBCONCEPT_OF,
        False,
        "ingest/create_missing_subconcepts",
        lambda r: {"child_id": r.child_id, "parent_id": r.parent_id},
        lambda r: (r.child_id, r.parent_id),
        merge="ingest/merge_subconcepts",
    ),
    ConceptRelationRow: Target(
        RelType.RELATED,
        False,
        "ingest/create_missing_concept_relations",
        lambda r: {"head_id": r.head_id, "relation": r.relation, "tail_id": r.tail_id},
        lambda r: (r.head_id, r.relation, r.tail_id),
        merge="ingest/merge_concept_relations",
    ),
}
