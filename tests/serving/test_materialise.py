"""``RECOMMENDED`` edges in the graph: every user, the service's ranking, an atomic version
switch, and a resumed run after an interruption (real embedded graph)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from graphrec import loaders
from graphrec.graph.client import GraphClient
from graphrec.ingest import ingest
from graphrec.serving import load_index, recommend
from graphrec.serving.materialise import (
    MaterialiseConflictError,
    materialise,
    read_recommended,
)
from graphrec.writeback import Embeddings, write_embeddings

K = 5


def _ids(graph: GraphClient, page: str) -> list[str]:
    return [row["id"] for rows in graph.pages(page, page_size=1_000) for row in rows]


def _write_version(graph: GraphClient, seed: int) -> None:
    rng = np.random.default_rng(seed)
    users, items = _ids(graph, "export/user_ids_page"), _ids(graph, "export/item_ids_page")
    embeddings = {
        "User": Embeddings(users, rng.normal(size=(len(users), 8)).astype(np.float32)),
        "Item": Embeddings(items, rng.normal(size=(len(items), 8)).astype(np.float32)),
    }
    write_embeddings(graph, model="mf", embeddings=embeddings, progress=False)


def _edges(graph: GraphClient) -> list[dict[str, Any]]:
    return graph.run(
        "MATCH (u:User)-[r:RECOMMENDED]->(i:Item) RETURN u.id AS user, i.id AS item, "
        "r.model AS model, r.version AS version, r.rank AS rank, r.score AS score"
    )


@pytest.fixture
def catalog_graph(graph: GraphClient) -> GraphClient:
    ingest(
        graph,
        loaders.parse("synthetic", None, users=40, items=60, interactions=600, seed=3),
        progress=False,
    )
    ingest(graph, [loaders.rows.UserRow("no-items")], progress=False)
    _write_version(graph, seed=1)
    return graph


class Interrupted(RuntimeError):
    pass


class FailingAfter(GraphClient):
    """The same client, but the n-th batch of RECOMMENDED edges never gets written."""

    batches_left = 0

    def write(self, name: str, /, **params: Any) -> dict[str, int]:
        if name == "recommend/write_recommended":
            if self.batches_left == 0:
                raise Interrupted("interrupted")
            self.batches_left -= 1
        return super().write(name, **params)


def test_every_user_gets_the_services_ranking(catalog_graph: GraphClient) -> None:
    graph = catalog_graph
    index = load_index(graph)
    result = materialise(graph, index, k=K, batch_users=7, progress=False)
    users = _ids(graph, "export/user_ids_page")
    assert result.users == len(users) and result.written == len(users)
    assert result.edges == len(users) * K and result.users_per_second > 0
    edges = _edges(graph)
    assert len(edges) == len(users) * K
    assert {e["version"] for e in edges} == {1} and {e["model"] for e in edges} == {"mf"}
    for user in users:
        expected = recommend(index.snapshot, index.state, user, k=K, known_user=True)
        got = read_recommended(graph, "mf", user)
        assert [r["item_id"] for r in got] == [i.item_id for i in expected.items]
        assert [r["rank"] for r in got] == list(range(1, K + 1))
        assert [r["score"] for r in got] == pytest.approx([i.score for i in expected.items])
    # The fallback user gets popular items too.
    assert len(read_recommended(graph, "mf", "no-items")) == K

    again = materialise(graph, index, k=K, progress=False)
    assert again.written == 0 and again.skipped == len(users) and again.edges == 0
    assert len(_edges(graph)) == len(users) * K
    with pytest.raises(MaterialiseConflictError, match="k=5"):
        materialise(graph, index, k=K + 1, progress=False)


def test_a_new_version_replaces_the_old_one_and_resumes(catalog_graph: GraphClient) -> None:
    graph = catalog_graph
    materialise(graph, load_index(graph), k=K, progress=False)
    users = _ids(graph, "export/user_ids_page")
    old = {u: read_recommended(graph, "mf", u) for u in users}
    _write_version(graph, seed=2)
    index = load_index(graph)
    assert index.snapshot.model().version == 2

    interrupted = FailingAfter(graph.driver, graph.target)
    interrupted.batches_left = 2
    with pytest.raises(Interrupted):
        materialise(interrupted, index, k=K, batch_users=10, progress=False)
    # Readers still see version 1, whole; version 2 is half written.
    assert {u: read_recommended(graph, "mf", u) for u in users} == old
    versions = [e["version"] for e in _edges(graph)]
    assert versions.count(1) == len(users) * K and versions.count(2) == 20 * K

    resumed = materialise(graph, index, k=K, batch_users=10, progress=False)
    assert resumed.skipped == 20 and resumed.written == len(users) - 20
    assert resumed.removed == len(users) * K  # version 1's edges, after the switch
    edges = _edges(graph)
    assert len(edges) == len(users) * K and {e["version"] for e in edges} == {2}
    assert len({(e["user"], e["rank"]) for e in edges}) == len(edges)  # no duplicates
    for user in users[:10]:
        expected = recommend(index.snapshot, index.state, user, k=K, known_user=True)
        assert [r["item_id"] for r in read_recommended(graph, "mf", user)] == [
            i.item_id for i in expected.items
        ]
    pointer = graph.read("recommend/recommendation_set", model="mf")[0]
    assert pointer["version"] == 2 and pointer["k"] == K and pointer["pending_version"] is None
