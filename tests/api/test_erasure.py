"""Erasure: ``DELETE /users/{id}`` and ``DELETE /items/{id}`` against the real embedded graph.

After an erasure nothing in the graph or in any answer names the user (or item); a
re-ingest of the original catalog is what brings them back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from graphrec.graph.client import GraphClient
from graphrec.ingest import derive_co_engagement, ingest
from graphrec.serving.erasure import user_references


def _co_engaged_pairs(graph: GraphClient) -> dict[tuple[str, str], int]:
    rows = graph.run(
        "MATCH (a:Item)-[r:CO_ENGAGED]->(b:Item) RETURN a.id AS a, b.id AS b, r.shared AS n"
    )
    return {(r["a"], r["b"]): r["n"] for r in rows}


def _names(body: Any, user: str) -> bool:
    """Whether a JSON answer holds ``user`` as a whole value (not as part of another id)."""
    if isinstance(body, dict):
        return any(_names(v, user) for v in body.values())
    if isinstance(body, list):
        return any(_names(v, user) for v in body)
    return body == user


def test_delete_user_erases_graph_and_memory_and_reingest_restores(
    fresh_graph: Any,
    client_for: Callable[..., TestClient],
    catalog: Callable[[], list[Any]],
    trained: Any,
    api_key: str,
) -> None:
    users = trained.embeddings["User"].ids
    user, others = users[3], users[4:9]
    with GraphClient.open(fresh_graph.target) as graph:
        derive_co_engagement(graph, min_shared=2, top_k=20)
        pairs_before = _co_engaged_pairs(graph)
        seen = {
            r["id"]
            for r in graph.run(
                "MATCH (:User {id: $u})-[:INTERACTED]->(i:Item) RETURN i.id AS id", {"u": user}
            )
        }
    client = client_for(fresh_graph)
    client.headers["X-API-Key"] = api_key
    assert client.get(f"/users/{user}/recommendations").status_code == 200
    item = client.get(f"/users/{user}/recommendations", params={"k": 1}).json()["items"][0]

    assert client.delete(f"/users/{user}", headers={"X-API-Key": ""}).status_code == 401
    response = client.delete(f"/users/{user}")
    assert response.status_code == 204, response.text

    with GraphClient.open(fresh_graph.target) as graph:
        assert user_references(graph, user) == (0, 0)
    # Memory: no recommendations, no explanation, no vector; a repeat is 404 and changes nothing.
    assert client.get(f"/users/{user}/recommendations").status_code == 404
    assert (
        client.get(f"/users/{user}/recommendations/{item['item_id']}/explanation").status_code
        == 404
    )
    assert client.delete(f"/users/{user}").status_code == 404
    assert client.get(f"/users/{user}").status_code == 404  # the profile
    listed = client.get("/users", params={"prefix": user, "limit": 100}).json()["users"]
    assert user not in {u["id"] for u in listed}
    state = client.app.state.service
    assert user not in state.index.state
    assert all(user not in m.user_pos for m in state.index.snapshot.models.values())
    # No other answer names them (collaborative explanation paths went through the graph).
    for other in others:
        recs = client.get(f"/users/{other}/recommendations", params={"k": 5, "explain": "true"})
        assert recs.status_code == 200 and not _names(recs.json(), user)
        top = recs.json()["items"][0]["item_id"]
        why = client.get(
            f"/users/{other}/recommendations/{top}/explanation", params={"max_paths": 20}
        )
        assert why.status_code == 200 and not _names(why.json(), user)
    # A reload from the graph does not bring them back either.
    assert client.post("/admin/reload").status_code == 200
    assert client.get(f"/users/{user}/recommendations").status_code == 404

    with GraphClient.open(fresh_graph.target) as graph:
        derived = derive_co_engagement(graph, min_shared=2, top_k=20)
        pairs_after = _co_engaged_pairs(graph)
        # Recomputed without the user: a pair of two of their items counts one user less,
        # or is gone when fewer than two users are left; the others are unchanged.
        theirs = {p for p in pairs_before if p[0] in seen and p[1] in seen}
        assert theirs and derived.removed > 0
        for pair in theirs:
            assert pairs_after.get(pair, pairs_before[pair] - 1) == pairs_before[pair] - 1
        assert not any(p in pairs_after for p in theirs if pairs_before[p] - 1 < 2)
        common = set(pairs_before) & set(pairs_after)
        assert all(pairs_after[p] == pairs_before[p] for p in common - theirs)
        # The graph holds exactly what a derivation computes: a second one changes nothing.
        again = derive_co_engagement(graph, min_shared=2, top_k=20)
        assert again.created == 0 and again.removed == 0
        assert _co_engaged_pairs(graph) == pairs_after
        ingest(graph, catalog(), progress=False)  # the only way back
        assert user_references(graph, user)[0] == 1
    assert client.post("/admin/reload").status_code == 200
    assert client.get(f"/users/{user}/recommendations").status_code == 200


def test_delete_user_without_interactions_and_unknown(
    fresh_graph: Any, client_for: Callable[..., TestClient], lonely_user: str, api_key: str
) -> None:
    client = client_for(fresh_graph)
    client.headers["X-API-Key"] = api_key
    assert client.get(f"/users/{lonely_user}/recommendations").json()["fallback"] is True
    assert client.delete(f"/users/{lonely_user}").status_code == 204
    assert client.get(f"/users/{lonely_user}/recommendations").status_code == 404
    assert client.delete("/users/nobody-at-all").status_code == 404
    assert client.delete("/items/no-such-item").status_code == 404
    assert client.delete("/users/..").status_code in (404, 422)


def test_delete_item_leaves_every_answer_at_once(
    fresh_graph: Any,
    client_for: Callable[..., TestClient],
    catalog: Callable[[], list[Any]],
    trained: Any,
    api_key: str,
) -> None:
    users = trained.embeddings["User"].ids
    client = client_for(fresh_graph)
    client.headers["X-API-Key"] = api_key
    top = client.get(f"/users/{users[0]}/recommendations", params={"k": 1}).json()["items"][0]
    item = top["item_id"]
    neighbour = client.get(f"/items/{item}/similar", params={"k": 1}).json()["items"][0]
    state = client.app.state.service
    num_items = state.index.snapshot.catalog.num_items

    assert client.delete(f"/items/{item}").status_code == 204

    assert client.get(f"/items/{item}/similar").status_code == 404
    assert client.get(f"/items/{item}").status_code == 404
    similar = client.get(f"/items/{neighbour['item_id']}/similar", params={"k": 1000}).json()
    assert item not in {i["item_id"] for i in similar["items"]}
    for user in users[:20]:
        body = client.get(
            f"/users/{user}/recommendations", params={"k": 1000, "exclude_seen": "false"}
        ).json()
        assert item not in {i["item_id"] for i in body["items"]}
    popular = client.get("/users/lonely/recommendations", params={"k": 1000}).json()
    assert popular["fallback"] is True and item not in {i["item_id"] for i in popular["items"]}
    posted = client.post("/interactions", json={"user_id": users[0], "item_id": item})
    assert posted.status_code == 404
    assert state.index.snapshot.catalog.num_items == num_items - 1
    # Positions shifted consistently: seen items still exclude the same ids as the graph holds.
    with GraphClient.open(fresh_graph.target) as graph:
        assert graph.run("MATCH (i:Item {id: $id}) RETURN i", {"id": item}) == []
        seen = {
            r["id"]
            for r in graph.run(
                "MATCH (:User {id: $u})-[:INTERACTED]->(i:Item) RETURN i.id AS id",
                {"u": users[0]},
            )
        }
    catalog_ids = state.index.snapshot.catalog.item_ids
    held = {catalog_ids[p] for p in state.index.state.seen(users[0]).tolist()}
    assert held == seen
    assert client.delete(f"/items/{item}").status_code == 404
    after_reload = client.post("/admin/reload")
    assert after_reload.status_code == 200
    assert client.get(f"/items/{item}/similar").status_code == 404

    with GraphClient.open(fresh_graph.target) as graph:
        ingest(graph, catalog(), progress=False)
    assert client.post("/admin/reload").status_code == 200
    assert client.get(f"/items/{item}/similar").status_code in (200, 404)
    assert item in client.app.state.service.index.snapshot.catalog.item_pos
    assert json.dumps(client.get("/health").json())


def test_method_not_allowed_names_every_method_of_the_path(
    shared_client: TestClient,
) -> None:
    # GET (the profile) and DELETE (erasure) on one path live in two routers.
    answer = shared_client.request("PUT", "/users/42")
    assert answer.status_code == 405 and answer.headers["allow"] == "DELETE, GET"
    assert shared_client.request("PATCH", "/items/1").headers["allow"] == "DELETE, GET"
