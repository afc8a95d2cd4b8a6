"""A relationship batch that runs twice (what a driver retry sends after a commit whose answer
was lost) adds no second edge, on both engines: Neo4j through one ``MERGE`` statement, ArcadeDB
through ``OPTIONAL MATCH`` plus ``CREATE`` then an update. Interactions: see
tests/ingest/test_concurrent_writes.py (Neo4j) and tests/ingest/test_writer.py."""

from __future__ import annotations

import pytest

from graphrec.graph.capabilities import probe
from graphrec.graph.client import GraphClient
from graphrec.ingest import ingest
from graphrec.ingest.targets import TARGETS
from graphrec.ingest.writer import create_then_refresh
from graphrec.loaders.rows import (
    ConceptRelationRow,
    ConceptRow,
    ItemConceptRow,
    ItemRow,
    SubconceptRow,
    UserConceptRow,
    UserRow,
)

#: One row of each relationship kind besides interactions, and the same key with new values.
LINKS = [
    (ItemConceptRow("i0", "genre:drama", "has_genre", 1.0), ItemConceptRow("i0", "genre:drama", "has_genre", 0.5)),
    (UserConceptRow("u0", "genre:drama", "likes"), None),
    (SubconceptRow("genre:drama", "genre:any"), None),
    (ConceptRelationRow("genre:drama", "broader", "genre:any"), None),
]  # fmt: skip


def _relationships(graph: GraphClient) -> dict[str, int]:
    return {row["type"]: row["n"] for row in graph.read("graph/count_relationships")}


def test_the_probe_picks_merge_on_neo4j_only(graph: GraphClient, test_engine: str) -> None:
    assert probe(graph).merge_relationships == (test_engine == "neo4j")


@pytest.mark.parametrize("row, changed", LINKS, ids=lambda r: type(r).__name__ if r else "")
def test_each_relationship_batch_that_runs_twice_adds_nothing(
    graph: GraphClient, row: object, changed: object
) -> None:
    concepts = [
        ConceptRow("genre:drama", "genre", "Drama"),
        ConceptRow("genre:any", "genre", "Any"),
    ]
    ingest(graph, [UserRow("u0"), ItemRow("i0"), *concepts], progress=False)
    target = TARGETS[type(row)]
    merge = target.merge if probe(graph).merge_relationships else None  # as the writer chooses

    def write(row: object) -> int:
        rows = [target.to_param(row)]
        return create_then_refresh(graph, target.create, target.update, rows, merge=merge)

    assert write(row) == 1
    assert write(changed or row) == 0  # the retry
    assert _relationships(graph)[target.name] == 1
    if changed is not None:  # the second run refreshes the values
        edges = graph.read("export/concepts_of_items", ids=["i0"], relations=None, kinds=None)
        assert [e["weights"] for e in edges] == [[0.5]]


def test_a_co_engagement_batch_that_runs_twice_adds_nothing(graph: GraphClient) -> None:
    ingest(graph, [ItemRow("i0"), ItemRow("i1")], progress=False)
    merge = "ingest/merge_co_engaged" if probe(graph).merge_relationships else None
    row = {"source_id": "i0", "target_id": "i1", "weight": 0.25, "shared": 3}

    def write(row: dict) -> int:
        create, update = "ingest/create_missing_co_engaged", "ingest/update_co_engaged"
        return create_then_refresh(graph, create, update, [row], merge=merge)

    assert write(row) == 1
    assert write({**row, "weight": 0.5}) == 0
    links = graph.read("export/co_engaged_of_items", ids=["i0"])
    assert [(r["targets"], r["weights"]) for r in links] == [(["i1"], [0.5])]
