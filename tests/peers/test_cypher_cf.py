"""The plain-Cypher peer sees training interactions only, on the real graph."""

from __future__ import annotations

import pytest
import torch

from graphrec.data import RecData
from graphrec.export import export_graph
from graphrec.graph.client import GraphClient
from graphrec.ingest import ingest
from graphrec.loaders.rows import InteractionRow, ItemRow, UserRow
from graphrec.peers import get_peer
from graphrec.peers.holdout import held_out
from graphrec.peers.run import run_peer


def _graph_with_a_test_only_path(graph: GraphClient) -> tuple[RecData, object]:
    """u1 has item a (training) and item b (test only). u2 has a and c; u3 has b and d, and
    u4 has a and b. Through training edges u1 reaches c (via a, u2) and b (via a, u4);
    d is reachable only through u1's held-out interaction with b."""
    pairs = {"u1": [("a", "train"), ("b", "test")], "u2": [("a", None), ("c", None)],
             "u3": [("b", None), ("d", None)], "u4": [("a", None), ("b", None)]}  # fmt: skip
    rows: list = [ItemRow(i) for i in "abcd"] + [UserRow(u) for u in pairs]
    for user, items in pairs.items():
        for item, split in items:
            rows.append(InteractionRow(user, item, split=split or "train"))
    ingest(graph, rows, progress=False)
    hetero, id_map = export_graph(graph, progress=False)
    data = RecData.from_hetero(
        hetero, split="stored", val_ratio=0.0, min_interactions=1, co_engagement=None
    )
    return data, id_map


def _top(result, id_map, user: str) -> dict[str, float]:
    table = result.scores
    row = table.score_all(table.get_embedding(), torch.tensor([id_map.index("user", user)]))[0]
    return {id_map.items[i]: float(row[i]) for i in torch.isfinite(row).nonzero().view(-1).tolist()}


def test_no_held_out_interaction_reaches_the_scores(graph: GraphClient) -> None:
    data, id_map = _graph_with_a_test_only_path(graph)
    assert data.test.size(1) == 1  # u1 -> b
    result = run_peer(graph, "cypher_cf", data, id_map, k=20)
    scores = _top(result, id_map, "u1")
    assert "d" not in scores  # only the held-out u1 -> b edge leads there
    assert scores == {"c": 1.0, "b": 1.0}  # b itself is still a candidate, through u4
    assert set(result.seconds) >= {"holdout", "compute", "total"}
    assert graph.read("peers/count_holdout")[0]["n"] == 0  # the marks are gone afterwards


def test_marks_are_cleared_when_the_run_fails(graph: GraphClient) -> None:
    data, id_map = _graph_with_a_test_only_path(graph)
    with pytest.raises(RuntimeError, match="interrupted"):
        with held_out(graph, data, id_map) as marked:
            assert marked == 1
            raise RuntimeError("interrupted")
    assert graph.read("peers/count_holdout")[0]["n"] == 0


def test_unknown_peers_are_named() -> None:
    with pytest.raises(ValueError, match="known peers: cypher_cf"):
        get_peer("gds_everything")


@pytest.mark.engine_only(
    "arcadedb", reason="the Neo4j test servers load GDS (tests/peers/test_gds.py tests it there)"
)
def test_a_gds_peer_without_the_plugin_says_how_to_get_it(graph: GraphClient) -> None:
    from graphrec.peers import MissingPluginError

    data, id_map = _graph_with_a_test_only_path(graph)
    with pytest.raises(MissingPluginError, match="--plugins gds"):
        run_peer(graph, "gds_node_similarity", data, id_map)
    assert graph.read("peers/count_holdout")[0]["n"] == 0
