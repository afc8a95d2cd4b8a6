"""Ingestion into a real graph: every format, idempotency, rejects, strict mode, resumption."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from graphrec.graph.client import GraphClient
from graphrec.ingest import IngestError, derive_co_engagement, ingest
from graphrec.ingest.co_engagement import co_engagement
from graphrec.loaders import parse
from graphrec.loaders.rows import (
    ConceptRelationRow,
    InteractionRow,
    ItemConceptRow,
    ItemRow,
    Reject,
    SubconceptRow,
    UserConceptRow,
    UserRow,
)

FIXTURES = Path(__file__).parents[1] / "fixtures"
EXAMPLES = Path(__file__).parents[2] / "loaders" / "examples" / "ecommerce"

SOURCES = {
    "movielens-latest": ("movielens", FIXTURES / "movielens-latest", {}),
    "ml-100k": ("movielens", FIXTURES / "ml-100k", {}),
    "recbole": ("recbole", FIXTURES / "recbole", {}),
    "kgat": ("kgat", FIXTURES / "kgat", {}),
    "csv": ("csv", EXAMPLES, {}),
    "jsonl": ("jsonl", EXAMPLES / "mapping-jsonl.toml", {}),
    "synthetic": ("synthetic", None, {"users": 60, "items": 80, "interactions": 900, "seed": 3}),
}

# Relationship row kind -> (type in the graph, key that makes an edge distinct).
EDGE_KEYS = {
    InteractionRow: ("INTERACTED", lambda r: (r.user_id, r.item_id, r.kind)),
    ItemConceptRow: ("HAS_CONCEPT", lambda r: (r.item_id, r.concept_id, r.relation)),
    UserConceptRow: ("HAS_ATTRIBUTE", lambda r: (r.user_id, r.concept_id, r.relation)),
    ConceptRelationRow: ("RELATED", lambda r: (r.head_id, r.relation, r.tail_id)),
    SubconceptRow: ("SUBCONCEPT_OF", lambda r: (r.child_id, r.parent_id)),
}


def graph_counts(graph: GraphClient) -> tuple[dict[str, int], dict[str, int]]:
    nodes = {row["label"]: row["n"] for row in graph.read("graph/count_nodes")}
    rels = {row["type"]: row["n"] for row in graph.read("graph/count_relationships")}
    return nodes, rels


def expected_counts(rows: list) -> tuple[dict[str, int], dict[str, int], int]:
    kinds = Counter(type(r).__name__ for r in rows)
    nodes = {
        label: kinds[f"{label}Row"] for label in ("User", "Item", "Concept") if kinds[f"{label}Row"]
    }
    rels: dict[str, int] = {}
    for kind, (rel_type, key) in EDGE_KEYS.items():
        distinct = {key(r) for r in rows if isinstance(r, kind)}
        if distinct:
            rels[rel_type] = len(distinct)
    return nodes, rels, kinds["Reject"]


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_every_format_mirrors_its_rows_and_is_idempotent(graph: GraphClient, source: str) -> None:
    fmt, path, options = SOURCES[source]
    rows = list(parse(fmt, path, **options))
    want_nodes, want_rels, want_rejects = expected_counts(rows)

    first = ingest(graph, iter(rows), batch_size=7, progress=False)
    nodes, rels = graph_counts(graph)
    assert nodes == want_nodes
    assert rels == want_rels
    assert first.rejected == want_rejects
    assert sum(c.created for c in first.relationships.values()) == sum(want_rels.values())

    second = ingest(graph, parse(fmt, path, **options), batch_size=7, progress=False)
    assert graph_counts(graph) == (nodes, rels)
    assert all(c.created == 0 for c in second.nodes.values())
    assert all(c.created == 0 for c in second.relationships.values())


def test_movielens_fixture_in_detail(graph: GraphClient) -> None:
    summary = ingest(graph, parse("movielens", FIXTURES / "movielens-latest"), progress=False)
    nodes, rels = graph_counts(graph)
    assert nodes == {"User": 4, "Item": 5, "Concept": 13}
    # 13 log lines: 3 rejected, and user 4 rated movie 1 twice (one edge).
    assert rels["INTERACTED"] == 9
    assert [str(r) for r in summary.rejects] == [
        f"{FIXTURES / 'movielens-latest' / 'ratings.csv'}:7: rating is not a number: 'abc'",
        f"{FIXTURES / 'movielens-latest' / 'ratings.csv'}:9: unknown item '99' (not in movies.csv)",
        f"{FIXTURES / 'movielens-latest' / 'ratings.csv'}:11: user id is empty",
    ]
    # "Space" and "  space " are one normalised tag applied twice to movie 1.
    tag = graph.run(
        "MATCH (:Item {id: '1'})-[r:HAS_CONCEPT {relation: 'has_tag'}]->(c:Concept) "
        "RETURN c.id AS id, c.kind AS kind, r.weight AS weight"
    )
    assert tag == [{"id": "tag:space", "kind": "tag", "weight": 2.0}]
    kinds = graph.run("MATCH (c:Concept) RETURN c.kind AS kind, count(*) AS n ORDER BY kind")
    assert {row["kind"] for row in kinds} == {"decade", "genre", "tag"}
    title = graph.run("MATCH (i:Item {id: '2'}) RETURN i.title AS title")
    assert title == [{"title": "Dinner, Dancing and Dreams (1995)"}]
    rating = graph.run(
        "MATCH (:User {id: '1'})-[r:INTERACTED]->(:Item {id: '3'}) "
        "RETURN r.rating AS rating, r.ts AS ts, r.kind AS kind"
    )
    assert rating == [{"rating": 5.0, "ts": 964982224, "kind": "rating"}]


def test_keep_duplicates_creates_one_edge_per_log_row(graph: GraphClient) -> None:
    ingest(
        graph,
        parse("movielens", FIXTURES / "movielens-latest"),
        keep_duplicates=True,
        progress=False,
    )
    assert graph_counts(graph)[1]["INTERACTED"] == 10


@pytest.mark.parametrize("preexisting", [False, True], ids=["first-load", "graph-not-empty"])
def test_repeated_key_across_batches_keeps_last_row(graph: GraphClient, preexisting: bool) -> None:
    rows = [UserRow("u1"), UserRow("u2"), ItemRow("i1"), ItemRow("i2")]
    if preexisting:
        ingest(graph, [*rows, InteractionRow("u2", "i2")], progress=False)
    log = [
        InteractionRow("u1", "i1", rating=1.0, ts=1),
        InteractionRow("u1", "i2", rating=2.0, ts=2),
        InteractionRow("u2", "i1", rating=3.0, ts=3),
        InteractionRow("u1", "i1", rating=5.0, ts=4),  # same key as the first, two batches later
    ]
    summary = ingest(graph, [*rows, *log], batch_size=1, progress=False)
    got = graph.run(
        "MATCH (u:User)-[r:INTERACTED]->(i:Item) RETURN u.id AS u, i.id AS i, r.rating AS rating "
        "ORDER BY u, i"
    )
    want = [
        {"u": "u1", "i": "i1", "rating": 5.0},
        {"u": "u1", "i": "i2", "rating": 2.0},
        {"u": "u2", "i": "i1", "rating": 3.0},
    ]
    if preexisting:
        want.append({"u": "u2", "i": "i2", "rating": None})
    assert got == want
    assert summary.relationships["INTERACTED"].created == 3
    assert summary.relationships["INTERACTED"].existing == 1


def test_strict_writes_nothing_when_a_row_is_bad(graph: GraphClient) -> None:
    with pytest.raises(IngestError, match=r"3 bad rows, nothing written: .*ratings.csv:7"):
        ingest(
            graph, parse("movielens", FIXTURES / "movielens-latest"), strict=True, progress=False
        )
    assert graph_counts(graph) == ({}, {})


def test_changed_rating_updates_in_place(graph: GraphClient, tmp_path: Path) -> None:
    folder = tmp_path / "ml"
    shutil.copytree(FIXTURES / "movielens-latest", folder)
    ingest(graph, parse("movielens", folder), progress=False)
    ratings = folder / "ratings.csv"
    ratings.write_text(ratings.read_text().replace("1,3,5.0,964982224", "1,3,1.5,964990000"))
    again = ingest(graph, parse("movielens", folder), progress=False)
    assert again.relationships["INTERACTED"].created == 0
    rating = graph.run(
        "MATCH (:User {id: '1'})-[r:INTERACTED]->(:Item {id: '3'}) RETURN r.rating AS rating, r.ts AS ts"
    )
    assert rating == [{"rating": 1.5, "ts": 964990000}]


def test_interrupted_run_keeps_batches_and_rerun_completes(graph: GraphClient) -> None:
    options = {"users": 50, "items": 60, "interactions": 700, "seed": 1}
    full = list(parse("synthetic", None, **options))

    def interrupted():
        for n, row in enumerate(full):
            if n == len(full) // 2:
                raise KeyboardInterrupt
            yield row

    with pytest.raises(KeyboardInterrupt):
        ingest(graph, interrupted(), batch_size=50, progress=False)
    partial = graph_counts(graph)
    assert 0 < sum(partial[0].values())

    ingest(graph, iter(full), batch_size=50, progress=False)
    want_nodes, want_rels, _ = expected_counts(full)
    assert graph_counts(graph) == (want_nodes, want_rels)


def test_reserved_or_invalid_property_names_are_refused(graph: GraphClient) -> None:
    with pytest.raises(IngestError, match="item 'x'.*reserved"):
        ingest(graph, [ItemRow("x", "X", {"id": "other"})], progress=False)
    with pytest.raises(IngestError, match="invalid property name 'bad name'"):
        ingest(graph, [UserRow("u", {"bad name": 1})], progress=False)


def test_rejects_are_counted_not_written(graph: GraphClient) -> None:
    summary = ingest(graph, [Reject("f.csv", 3, "broken"), UserRow("u1")], progress=False)
    assert summary.rejected == 1
    assert str(summary.rejects[0]) == "f.csv:3: broken"
    assert graph_counts(graph)[0] == {"User": 1}


def test_co_engagement_by_hand() -> None:
    # users: 0 likes items {0,1,2}; 1 likes {0,1}; 2 likes {0,1,3}; 3 likes {2,3}
    users = np.array([0, 0, 0, 1, 1, 2, 2, 2, 3, 3])
    items = np.array([0, 1, 2, 0, 1, 0, 1, 3, 2, 3])
    links = co_engagement(users, items, num_users=4, num_items=4, min_shared=2, top_k=5)
    got = {
        (int(s), int(t)): (round(float(w), 4), int(n))
        for s, t, w, n in zip(links.source, links.target, links.weight, links.shared, strict=True)
    }
    # items 0 and 1 share users {0,1,2}: cos = 3 / sqrt(3*3) = 1; nothing else shares 2 users.
    assert got == {(0, 1): (1.0, 3), (1, 0): (1.0, 3)}
    top1 = co_engagement(users, items, num_users=4, num_items=4, min_shared=1, top_k=1)
    assert len(top1) == 4  # one strongest link per item
    assert set(top1.source.tolist()) == {0, 1, 2, 3}


def test_co_engagement_in_the_graph_is_idempotent(graph: GraphClient) -> None:
    ingest(
        graph,
        parse("synthetic", None, users=80, items=40, interactions=1200, seed=2),
        progress=False,
    )
    first = derive_co_engagement(graph, min_shared=3, top_k=5)
    assert first.created > 0
    second = derive_co_engagement(graph, min_shared=3, top_k=5)
    assert second.created == 0
    assert graph_counts(graph)[1]["CO_ENGAGED"] == first.created
    worst = graph.run("MATCH ()-[r:CO_ENGAGED]->() RETURN min(r.shared) AS s, max(r.weight) AS w")
    assert worst[0]["s"] >= 3 and 0 < worst[0]["w"] <= 1.0
