"""The GDS peers on a Neo4j server with the plugin (the test servers load it): they see the
training split only, and leave no in-memory graph, similarity link or held-out mark behind."""

from __future__ import annotations

import pytest

import graphrec.peers.gds as gds
from graphrec.graph.client import GraphClient
from graphrec.peers.holdout import held_out
from graphrec.peers.run import run_peer

from .test_cypher_cf import _graph_with_a_test_only_path, _top

pytestmark = pytest.mark.engine_only("neo4j", reason="GDS is a Neo4j plugin")


def _clean(graph: GraphClient) -> None:
    assert graph.read("peers/gds_graphs")[0]["names"] == []
    assert graph.read("peers/count_similar")[0]["n"] == 0
    assert graph.read("peers/count_holdout")[0]["n"] == 0


def test_node_similarity_scores_come_from_training_edges_only(graph: GraphClient) -> None:
    data, id_map = _graph_with_a_test_only_path(graph)
    result = run_peer(graph, "gds_node_similarity", data, id_map, k=20)
    scores = _top(result, id_map, "u1")
    # Training users: a {u1, u2, u4}, b {u3, u4}, c {u2}, d {u3}. u1's one training item is
    # a, so u1's candidates are a's similar items: Jaccard(a, c) = 1/3, Jaccard(a, b) = 1/4.
    # Had the held-out u1 -> b edge been projected, Jaccard(a, b) would be 2/4.
    assert scores.keys() == {"b", "c"}
    assert scores["c"] == pytest.approx(1 / 3)
    assert scores["b"] == pytest.approx(1 / 4)
    assert set(result.seconds) >= {"holdout", "projection", "compute", "write", "total"}
    _clean(graph)


@pytest.mark.parametrize(
    ("statement", "undirected"),
    [("peers/gds_project_items_to_users", 1), ("peers/gds_project_undirected", 2)],
)
def test_projections_hold_the_training_pairs_only(
    graph: GraphClient, statement: str, undirected: int
) -> None:
    data, id_map = _graph_with_a_test_only_path(graph)
    with held_out(graph, data, id_map):
        try:
            row = graph.write_rows(statement, name="graphrec-peer-count")[0]
        finally:
            graph.write_rows("peers/gds_drop", name="graphrec-peer-count")
    training_pairs = data.train.size(1)
    assert training_pairs == 7  # 8 pairs, u1 -> b held out
    assert row["relationships"] == undirected * training_pairs
    _clean(graph)


def test_fastrp_knn_ranks_the_training_neighbours(graph: GraphClient) -> None:
    data, id_map = _graph_with_a_test_only_path(graph)
    result = run_peer(graph, "gds_fastrp_knn", data, id_map, k=20, dim=16, top_k=3)
    scores = _top(result, id_map, "u1")  # the one user with a held-out item
    assert scores and "a" not in scores  # candidates, never u1's own training item
    assert all(0.0 < value <= 1.0 + 1e-6 for value in scores.values())  # one cosine each
    assert set(scores) <= {"b", "c", "d"}
    _clean(graph)


def test_an_interrupted_run_drops_the_projection_and_the_links(
    graph: GraphClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, id_map = _graph_with_a_test_only_path(graph)
    written: list[int] = []

    def interrupt(graph: GraphClient, *args: object, **kwargs: object) -> None:
        # the similarity links are written and the projection exists when scoring starts
        written.append(graph.read("peers/count_similar")[0]["n"])
        assert len(graph.read("peers/gds_graphs")[0]["names"]) == 1
        raise KeyboardInterrupt

    monkeypatch.setattr(gds, "score_users", interrupt)
    with pytest.raises(KeyboardInterrupt):
        run_peer(graph, "gds_node_similarity", data, id_map, k=20)
    assert written and written[0] > 0
    _clean(graph)
