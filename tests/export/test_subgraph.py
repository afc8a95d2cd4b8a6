"""Export from a real graph to HeteroData: ids round-trip, filters, splits, triples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from graphrec.data import CO_ENGAGED, HAS_CONCEPT, RELATED, SUBCONCEPT_OF
from graphrec.export import (
    ExportFilters,
    export_graph,
    export_triples,
    graph_size,
    k_core,
    load_export,
    save_export,
)
from graphrec.graph.client import GraphClient
from graphrec.ingest import derive_co_engagement, ingest
from graphrec.loaders import parse
from graphrec.loaders.rows import InteractionRow, ItemRow, UserRow

FIXTURES = Path(__file__).parents[1] / "fixtures"


def pairs_in_graph(graph: GraphClient) -> set[tuple[str, str]]:
    rows = graph.run("MATCH (u:User)-[:INTERACTED]->(i:Item) RETURN u.id AS u, i.id AS i")
    return {(r["u"], r["i"]) for r in rows}


def pairs_in_export(data, ids) -> set[tuple[str, str]]:  # noqa: ANN001
    edge_index = data["user", "interacted", "item"].edge_index
    return {(ids.users[u], ids.items[i]) for u, i in edge_index.t().tolist()}


@pytest.fixture
def movielens(graph: GraphClient) -> GraphClient:
    ingest(graph, parse("movielens", FIXTURES / "movielens-latest"), progress=False)
    return graph


def test_ids_round_trip(movielens: GraphClient, tmp_path: Path) -> None:
    data, ids = export_graph(movielens, progress=False)
    assert ids.users == ["1", "2", "3", "4"]
    assert ids.items == ["1", "2", "3", "4", "5"]  # every catalog item, in id order
    assert ids.item_titles[1] == "Dinner, Dancing and Dreams (1995)"
    assert data["user"].num_nodes == 4 and data["item"].num_nodes == 5
    assert pairs_in_export(data, ids) == pairs_in_graph(movielens)
    edge = data["user", "interacted", "item"]
    u, i = ids.index("user", "1"), ids.index("item", "3")
    position = ((edge.edge_index[0] == u) & (edge.edge_index[1] == i)).nonzero().item()
    assert edge.ts[position].item() == 964982224
    assert edge.weight.dtype == torch.float32 and edge.split.unique().tolist() == [0]

    concepts = data["item", "has_concept", "concept"]
    named = {
        (ids.items[a], data.relation_names[r], ids.concepts[c])
        for (a, c), r in zip(
            concepts.edge_index.t().tolist(), concepts.relation.tolist(), strict=True
        )
    }
    assert ("1", "has_tag", "tag:space") in named
    assert ("1", "has_genre", "genre:sci-fi") in named
    assert ("1", "has_decade", "decade:1970s") in named
    kinds = [data.concept_kinds[k] for k in data["concept"].kind.tolist()]
    assert kinds[ids.index("concept", "tag:space")] == "tag"

    save_export(tmp_path / "export", data, ids)
    loaded, loaded_ids = load_export(tmp_path / "export")
    assert loaded_ids.users == ids.users and loaded_ids.concepts == ids.concepts
    assert torch.equal(loaded["user", "interacted", "item"].edge_index, edge.edge_index)
    assert loaded_ids.index("item", "5") == 4


def test_filters(movielens: GraphClient) -> None:
    late, ids = export_graph(movielens, ExportFilters(ts_from=1_200_000_000), progress=False)
    assert pairs_in_export(late, ids) == {("2", "1"), ("2", "4"), ("4", "5"), ("4", "1")}
    early, ids = export_graph(movielens, ExportFilters(ts_to=1_000_000_000), progress=False)
    assert {u for u, _ in pairs_in_export(early, ids)} == {"1"}
    none, ids = export_graph(movielens, ExportFilters(kinds=["click"]), progress=False)
    assert none["user", "interacted", "item"].num_edges == 0 and ids.users == []

    genres, ids = export_graph(movielens, ExportFilters(concept_kinds=["genre"]), progress=False)
    assert all(c.startswith("genre:") for c in ids.concepts)
    assert set(genres.relation_names) == {"has_genre"}

    core, ids = export_graph(
        movielens, ExportFilters(min_user_degree=2, min_item_degree=2), progress=False
    )
    edge_index = core["user", "interacted", "item"].edge_index
    assert torch.bincount(edge_index[0]).min() >= 2
    assert torch.bincount(edge_index[1]).min() >= 2
    assert ids.items == sorted({ids.items[i] for i in edge_index[1].tolist()})


def test_neighbourhood_of_seeds(graph: GraphClient) -> None:
    # Two disconnected components: {a, x, b} and {c, y}.
    rows = [UserRow(u) for u in "abc"] + [ItemRow(i) for i in "xyz"]
    rows += [InteractionRow("a", "x"), InteractionRow("b", "x"), InteractionRow("c", "y")]
    ingest(graph, rows, progress=False)
    data, ids = export_graph(graph, ExportFilters(seed_users=["a"], hops=2), progress=False)
    assert ids.users == ["a", "b"] and ids.items == ["x"]
    one_hop, ids = export_graph(graph, ExportFilters(seed_items=["y"], hops=1), progress=False)
    assert ids.users == ["c"] and ids.items == ["y"]


def test_stored_split_from_kgat(graph: GraphClient) -> None:
    ingest(graph, parse("kgat", FIXTURES / "kgat"), progress=False)
    data, ids = export_graph(graph, progress=False)
    edge = data["user", "interacted", "item"]
    assert set(edge.split.tolist()) == {1, 2}
    tests = {
        (ids.users[u], ids.items[i])
        for (u, i), s in zip(edge.edge_index.t().tolist(), edge.split.tolist(), strict=True)
        if s == 2
    }
    assert tests == {("0", "3"), ("1", "0"), ("2", "4")}


def test_kg_and_co_engagement_edges(graph: GraphClient) -> None:
    ingest(graph, parse("recbole", FIXTURES / "recbole"), progress=False)
    data, ids = export_graph(graph, progress=False)
    related = data["concept", "related", "concept"]
    triples = {
        (ids.concepts[h], data.relation_names[r], ids.concepts[t])
        for (h, t), r in zip(
            related.edge_index.t().tolist(), related.relation.tolist(), strict=True
        )
    }
    assert ("entity:m.10", "people.nationality", "entity:m.20") in triples
    assert len(triples) == 3

    ingest(
        graph,
        parse("synthetic", None, users=40, items=30, interactions=600, seed=5),
        progress=False,
    )
    links = derive_co_engagement(graph, min_shared=2, top_k=3)
    data, ids = export_graph(graph, progress=False)
    co = data["item", "co_engaged", "item"]
    assert co.num_edges == links.created > 0
    assert co.weight.max().item() <= 1.0
    subs = data["concept", "subconcept_of", "concept"]
    assert subs.num_edges > 0

    # graph_size counts, before an export, what the export then holds; a user
    # without interactions is not exported, so not counted.
    graph.run_write("CREATE (:User {id: $id})", {"id": "no-interactions"})
    size = graph_size(graph)
    assert (size.users, size.items, size.concepts) == (
        data["user"].num_nodes,
        data["item"].num_nodes,
        data["concept"].num_nodes,
    )
    kg = [HAS_CONCEPT, RELATED, SUBCONCEPT_OF, CO_ENGAGED]
    assert size.kg_edges == sum(data[edge_type].num_edges for edge_type in kg) > 0


def test_triples_for_pykeen(movielens: GraphClient) -> None:
    triples = export_triples(movielens)
    assert ("1", "has_tag", "tag:space") in triples
    assert all(r != "interacted" for _, r, _ in triples)
    with_log = export_triples(movielens, include_interactions=True)
    assert sum(r == "interacted" for _, r, _ in with_log) == len(pairs_in_graph(movielens))
    genres_only = export_triples(movielens, relations=["has_genre"])
    assert genres_only and {r for _, r, _ in genres_only} == {"has_genre"}


def test_k_core_by_hand() -> None:
    # user 0: items 0,1; user 1: items 0,1,2; user 2: item 2
    user = np.array([0, 0, 1, 1, 1, 2])
    item = np.array([0, 1, 0, 1, 2, 2])
    assert k_core(user, item, 1, 1).all()
    keep = k_core(user, item, 2, 2)
    # user 2 has one interaction -> dropped; then item 2 has one -> dropped.
    assert keep.tolist() == [True, True, True, True, False, False]
    assert not k_core(user, item, 4, 1).any()
