"""The Graph Data Science peers, in the same database: Node Similarity, and FastRP with k-NN.

Both project the training interactions (held-out edges skipped) into a GDS in-memory
graph with a Cypher projection, write each item's most similar items back as
``(:Item)-[:GRAPHREC_SIMILAR {score}]->(:Item)`` relationships, as GDS users do, and
score each user's candidates with one Cypher query over those links
(``cypher/peers/score_by_similar.cypher``). The in-memory graph is dropped and the
written links deleted when the run ends, also when it fails or is interrupted.

- ``gds_node_similarity``: Jaccard similarity of items over the users they share
  (``gds.nodeSimilarity``), ``top_k`` per item.
- ``gds_fastrp_knn``: FastRP embeddings of users and items on the undirected
  interaction graph (``gds.fastRP``), then each item's ``top_k`` nearest items by cosine
  (``gds.knn``): the FastRP + kNN recipe of GDS's recommendation examples, with items
  as the k-NN nodes so that a user's candidates are scored like Node Similarity's.
  ``dim`` and ``iteration_weights`` are the knobs to tune (on validation data only).

Timings: ``projection`` (the Cypher projection), ``compute`` (the algorithms and the
scoring query), ``write`` (GDS's write phase).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import ClassVar

import torch

from graphrec.data import RecData
from graphrec.export import IdMap
from graphrec.graph.client import GraphClient, batched
from graphrec.peers.base import MissingPluginError, PeerResult
from graphrec.peers.scores import ScoreTable


def require_gds(graph: GraphClient) -> None:
    """Raise :class:`MissingPluginError` unless the server lists GDS procedures."""
    from graphrec.graph.capabilities import probe

    capabilities = probe(graph)
    plugins = getattr(capabilities, "plugins", {}) or {}
    if "gds" not in plugins:
        raise MissingPluginError(
            "this peer needs the Graph Data Science plugin, which the server does not have; "
            "start the embedded Neo4j with it: graphrec db start --engine neo4j --plugins gds"
        )


@contextmanager
def projected(graph: GraphClient, statement: str) -> Iterator[tuple[str, float]]:
    """Project with ``statement`` under a fresh name; yields ``(name, seconds)``. The graph is
    dropped, and the written similarity links deleted, when the block ends."""
    name = f"graphrec-peer-{secrets.token_hex(4)}"
    try:
        start = time.perf_counter()
        graph.write(statement, name=name)
        yield name, time.perf_counter() - start
    finally:
        graph.write_rows("peers/gds_drop", name=name)
        delete_similar(graph)


def delete_similar(graph: GraphClient, batch_size: int = 50_000) -> int:
    total = 0
    while True:
        deleted = graph.write_rows("peers/delete_similar", limit=batch_size)[0]["deleted"]
        total += deleted
        if deleted < batch_size:
            return total


def score_users(
    graph: GraphClient, data: RecData, id_map: IdMap, *, limit: int, batch_size: int = 50
) -> ScoreTable:
    """Every evaluated user's candidates scored over the written similarity links."""
    wanted = (data.test_items.degree() > 0) | (data.val_items.degree() > 0)
    users = [id_map.users[u] for u in wanted.nonzero().view(-1).tolist()]
    rows_user, rows_item, rows_score = [], [], []
    for chunk in batched(users, batch_size):
        for row in graph.read("peers/score_by_similar", users=chunk, limit=limit):
            user = id_map.index("user", row["user_id"])
            for item, score in zip(row["items"], row["scores"], strict=True):
                rows_user.append(user)
                rows_item.append(id_map.index("item", item))
                rows_score.append(float(score))
    return ScoreTable(
        data.num_users,
        data.num_items,
        torch.tensor(rows_user, dtype=torch.long),
        torch.tensor(rows_item, dtype=torch.long),
        torch.tensor(rows_score),
    )


class GDSNodeSimilarity:
    """Items' Jaccard similarity over users (``gds.nodeSimilarity``), then user scores.

    Args:
        top_k: Similar items kept per item (default: 20).
        limit: Candidates kept per user (default: 100).
    """

    name: ClassVar[str] = "gds_node_similarity"
    plugins: ClassVar[tuple[str, ...]] = ("gds",)

    def __init__(self, top_k: int = 20, limit: int = 100) -> None:
        self.top_k = top_k
        self.limit = limit

    def run(self, graph: GraphClient, data: RecData, id_map: IdMap, *, k: int = 20) -> PeerResult:
        require_gds(graph)
        with projected(graph, "peers/gds_project_items_to_users") as (name, projection):
            start = time.perf_counter()
            stats = graph.write_rows(
                "peers/gds_node_similarity_write", name=name, top_k=self.top_k
            )[0]
            algorithm = time.perf_counter() - start
            start = time.perf_counter()
            table = score_users(graph, data, id_map, limit=max(self.limit, k))
            scoring = time.perf_counter() - start
        write = stats["write_millis"] / 1000
        return PeerResult(
            table,
            {
                "projection": projection,
                "compute": algorithm - write + scoring,
                "write": write,
                "total": projection + algorithm + scoring,
            },
        )


class GDSFastRPKNN:
    """FastRP embeddings (``gds.fastRP``), each item's nearest items (``gds.knn``), then user
    scores.

    Args:
        dim: FastRP embedding dimension (default: 256).
        iteration_weights: Weights of the propagation steps (default:
            ``[0.0, 0.5, 1.0, 1.0]``: three hops, the random start left out). Both defaults
            are the best of a 4-setting grid on
            ml-latest-small's validation split (bench/in_database_peers.py, bench/RESULTS.md).
        top_k: Nearest items kept per item (default: 20).
        limit: Candidates kept per user (default: 100).
        seed: FastRP's and k-NN's random seed (default: 42).
    """

    name: ClassVar[str] = "gds_fastrp_knn"
    plugins: ClassVar[tuple[str, ...]] = ("gds",)

    def __init__(
        self,
        dim: int = 256,
        iteration_weights: Sequence[float] = (0.0, 0.5, 1.0, 1.0),
        top_k: int = 20,
        limit: int = 100,
        seed: int = 42,
    ) -> None:
        self.dim = dim
        self.iteration_weights = [float(w) for w in iteration_weights]
        self.top_k = top_k
        self.limit = limit
        self.seed = seed

    def run(self, graph: GraphClient, data: RecData, id_map: IdMap, *, k: int = 20) -> PeerResult:
        require_gds(graph)
        with projected(graph, "peers/gds_project_undirected") as (name, projection):
            start = time.perf_counter()
            graph.write_rows(
                "peers/gds_fastrp_mutate",
                name=name,
                dim=self.dim,
                weights=self.iteration_weights,
                seed=self.seed,
            )
            stats = graph.write_rows(
                "peers/gds_knn_write", name=name, top_k=self.top_k, seed=self.seed
            )[0]
            algorithm = time.perf_counter() - start
            start = time.perf_counter()
            table = score_users(graph, data, id_map, limit=max(self.limit, k))
            scoring = time.perf_counter() - start
        write = stats["write_millis"] / 1000
        return PeerResult(
            table,
            {
                "projection": projection,
                "compute": algorithm - write + scoring,
                "write": write,
                "total": projection + algorithm + scoring,
            },
        )


GDS_PEERS = (GDSNodeSimilarity, GDSFastRPKNN)
