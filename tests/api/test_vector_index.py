"""``GET /items/{id}/similar?approximate=true`` on Neo4j: through the native vector index while it
answers, the exact in-memory answer when it cannot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from graphrec.graph.client import GraphClient
from graphrec.serving import vector_index_name

pytestmark = pytest.mark.engine_only(
    "neo4j", reason="ArcadeDB's Bolt plugin has no Cypher vector index (the probe says so)"
)


def test_similar_items_fall_back_to_the_exact_answer(
    fresh_graph: Any, client_for: Callable[..., TestClient]
) -> None:
    client = client_for(fresh_graph)  # loading the index creates the vector index
    with GraphClient.open(fresh_graph.target) as graph:
        graph.read("graph/await_indexes", seconds=300)
    item = "i1"
    exact = client.get(f"/items/{item}/similar", params={"k": 5}).json()["items"]
    approximate = client.get(f"/items/{item}/similar", params={"k": 5, "approximate": "true"})
    assert approximate.status_code == 200
    found = approximate.json()["items"]
    # A small catalog: the index finds the same neighbours; its (1 + cos) / 2, mapped back,
    # is the cosine.
    assert {i["item_id"] for i in found} == {i["item_id"] for i in exact}
    for got in found:
        want = next(i for i in exact if i["item_id"] == got["item_id"])
        assert got["score"] == pytest.approx(want["score"], abs=1e-3)

    # An index that cannot answer (dropped here; populating or failed looks the same to the
    # query): the same exact answer, not an error.
    with GraphClient.open(fresh_graph.target) as graph:
        graph.write("graph/drop_index", name=vector_index_name(fresh_graph.record))
    fallback = client.get(f"/items/{item}/similar", params={"k": 5, "approximate": "true"})
    assert fallback.status_code == 200
    assert fallback.json()["items"] == exact
