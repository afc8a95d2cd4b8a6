"""``GET /users``, ``GET /users/{id}``, ``GET /items/{id}`` and ``GET /models`` on the real
embedded graph, each compared with what the graph holds."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from graphrec.graph.client import GraphClient
from graphrec.writeback import write_embeddings


def _graph_rows(shared_graph: Any, query: str, **params: Any) -> list[dict[str, Any]]:
    with GraphClient.open(shared_graph.target) as graph:
        return graph.run(query, params)


def test_user_profile_matches_the_graph(
    shared_client: TestClient, shared_graph: Any, trained: Any
) -> None:
    user = trained.embeddings["User"].ids[3]
    body = shared_client.get(f"/users/{user}", params={"recent": 5, "top_concepts": 4}).json()
    edges = _graph_rows(
        shared_graph,
        "MATCH (:User {id: $id})-[r:INTERACTED]->(i:Item) "
        "RETURN i.id AS item, i.title AS title, r.kind AS kind, r.ts AS ts",
        id=user,
    )
    assert body["id"] == user and body["interactions"] == len(edges)
    assert body["items"] == len({e["item"] for e in edges})
    assert body["last_interaction_ts"] == max(e["ts"] for e in edges)
    newest = sorted(edges, key=lambda e: (-e["ts"], e["item"], e["kind"]))[:5]
    assert [(r["item_id"], r["title"], r["kind"], r["ts"]) for r in body["recent"]] == [
        (e["item"], e["title"], e["kind"], e["ts"]) for e in newest
    ]
    concepts = _graph_rows(
        shared_graph,
        "MATCH (:User {id: $id})-[:INTERACTED]->(i:Item)-[:HAS_CONCEPT]->(c:Concept) "
        "RETURN DISTINCT i.id AS item, c.id AS concept",
        id=user,
    )
    counts = Counter(row["concept"] for row in concepts)
    expected = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:4]
    assert [(c["id"], c["count"]) for c in body["top_concepts"]] == expected
    assert all(c["kind"] == c["id"].split(":")[0] for c in body["top_concepts"])
    assert body["model"] == {"name": "lightgcn", "version": shared_graph.record.version}
    assert body["source"] == "model" and body["trained"] and not body["folded_in"]


def test_profile_of_a_user_without_interactions(
    shared_client: TestClient, lonely_user: str
) -> None:
    body = shared_client.get(f"/users/{lonely_user}").json()
    assert body["interactions"] == 0 and body["items"] == 0
    assert body["last_interaction_ts"] is None
    assert body["recent"] == [] and body["top_concepts"] == []
    assert body["source"] == "popularity" and not body["trained"] and not body["folded_in"]


def test_a_new_interaction_folds_the_user_in(writable_client: TestClient, trained: Any) -> None:
    user = trained.embeddings["User"].ids[5]
    before = writable_client.get(f"/users/{user}").json()
    assert before["source"] == "model"
    seen = {r["item_id"] for r in writable_client.get(f"/users/{user}?recent=50").json()["recent"]}
    item = next(i for i in trained.embeddings["Item"].ids if i not in seen)
    ts = before["last_interaction_ts"] + 10
    posted = writable_client.post(
        "/interactions", json={"user_id": user, "item_id": item, "kind": "purchase", "ts": ts}
    )
    assert posted.status_code == 201, posted.text
    after = writable_client.get(f"/users/{user}").json()
    assert after["interactions"] == before["interactions"] + 1
    assert after["last_interaction_ts"] == ts
    assert after["recent"][0] == {
        "item_id": item,
        "title": after["recent"][0]["title"],
        "kind": "purchase",
        "ts": ts,
        "rating": None,
    }
    assert after["source"] == "fold_in" and after["folded_in"] and after["trained"]


@pytest.mark.parametrize(
    ("path", "params", "code"),
    [
        ("/users/no-such-user", {}, 404),
        ("/users/u1", {"model": "nope"}, 404),
        ("/users/u1", {"recent": 51}, 422),
        ("/users/u1", {"top_concepts": -1}, 422),
        ("/users/%01", {}, 422),
        ("/users/x'}) MATCH (n) DETACH DELETE n //", {}, 404),
        ("/users", {"limit": 0}, 422),
        ("/users", {"limit": 101}, 422),
        ("/items/no-such-item", {}, 404),
        ("/items/%01", {}, 422),
    ],
)
def test_bad_profile_reads(shared_client: TestClient, path: str, params: dict, code: int) -> None:
    response = shared_client.get(path, params=params)
    assert response.status_code == code, response.text
    assert "detail" in response.json()


def test_users_with_most_items_first(
    shared_client: TestClient, shared_graph: Any, lonely_user: str
) -> None:
    rows = _graph_rows(
        shared_graph,
        "MATCH (u:User)-[:INTERACTED]->(i:Item) RETURN u.id AS user, count(DISTINCT i) AS items",
    )
    expected = sorted(((r["items"], r["user"]) for r in rows), key=lambda p: (-p[0], p[1]))
    body = shared_client.get("/users", params={"limit": 7}).json()
    assert body["total"] == len(rows)  # the lonely user has no interactions: not listed
    assert [(u["items"], u["id"]) for u in body["users"]] == expected[:7]
    prefix = expected[0][1][:2]
    matching = [p for p in expected if p[1].startswith(prefix)]
    found = shared_client.get("/users", params={"prefix": prefix, "limit": 100}).json()
    assert found["total"] == len(matching)
    assert [u["id"] for u in found["users"]] == [p[1] for p in matching]
    assert shared_client.get("/users", params={"prefix": "zz-none"}).json() == {
        "users": [],
        "total": 0,
    }
    assert lonely_user not in {u["id"] for u in found["users"]}


def test_item_matches_the_graph(shared_client: TestClient, shared_graph: Any, trained: Any) -> None:
    item = trained.embeddings["Item"].ids[4]
    body = shared_client.get(f"/items/{item}").json()
    (row,) = _graph_rows(
        shared_graph,
        "MATCH (i:Item {id: $id}) "
        "OPTIONAL MATCH (i)<-[:INTERACTED]-(u:User) "
        "WITH i, count(DISTINCT u) AS users "
        "OPTIONAL MATCH (i)-[:HAS_CONCEPT]->(c:Concept) "
        "RETURN i.title AS title, users, collect(c.id) AS concepts",
        id=item,
    )
    assert body["id"] == item and body["title"] == row["title"]
    assert body["popularity"] == row["users"] > 0
    assert sorted(c["id"] for c in body["concepts"]) == sorted(row["concepts"])
    assert {c["kind"] for c in body["concepts"]} <= {"category", "tag", "brand", "genre"}


def test_models_list_what_the_model_node_holds(
    fresh_graph: Any, client_for: Callable[..., TestClient], trained: Any
) -> None:
    history = [
        {"epoch": 1, "loss": 0.69, "seconds": 0.1, "val_recall@20": 0.1},
        {"epoch": 2, "loss": 0.52, "seconds": 0.1, "val_recall@20": math.nan},
    ]
    with GraphClient.open(fresh_graph.target) as graph:
        mf = write_embeddings(
            graph,
            model="mf",
            embeddings=trained.embeddings,
            params={"epochs": 2, "model_kwargs": {"embedding_dim": 16}},
            metrics={"recall@20": 0.25, "ndcg@20": 0.2},
            history=history,
            progress=False,
        )
    body = client_for(fresh_graph).get("/models").json()
    assert body["default"] == "lightgcn"
    by_name = {m["name"]: m for m in body["models"]}
    assert set(by_name) == {"lightgcn", "mf"}
    assert by_name["lightgcn"]["default"] and not by_name["mf"]["default"]
    assert by_name["lightgcn"]["history"] == []  # written without a curve
    served = by_name["mf"]
    assert served["version"] == mf.version and served["dim"] == 16
    assert served["trained_at"] == mf.trained_at
    assert served["metrics"] == {"recall@20": 0.25, "ndcg@20": 0.2}
    assert served["params"] == {"epochs": 2, "model_kwargs": {"embedding_dim": 16}}
    assert served["history"] == [history[0], {**history[1], "val_recall@20": None}]


def test_new_reads_are_locked_with_the_others(
    client_for: Callable[..., TestClient], shared_graph: Any, api_key: str, trained: Any
) -> None:
    client = client_for(shared_graph, api_lock_reads=True, api_lock_catalog=True)
    user, item = trained.embeddings["User"].ids[0], trained.embeddings["Item"].ids[0]
    for path in (f"/users/{user}", "/users", f"/items/{item}", "/models"):
        assert client.get(path, headers={"X-API-Key": ""}).status_code == 401, path
        assert client.get(path, headers={"X-API-Key": "nope"}).status_code == 401
        assert client.get(path, headers={"X-API-Key": api_key}).status_code == 200


def test_openapi_has_readable_ids_and_examples(shared_client: TestClient) -> None:
    schema = shared_client.get("/openapi.json").json()
    operations = {
        ("/users", "get"): "list_users",
        ("/users/{user_id}", "get"): "get_user",
        ("/items/{item_id}", "get"): "get_item",
        ("/models", "get"): "list_models",
    }
    for (path, method), operation_id in operations.items():
        assert schema["paths"][path][method]["operationId"] == operation_id
    components = schema["components"]["schemas"]
    for name in ("UserOut", "UsersOut", "ItemOut"):
        assert components[name]["examples"], name
    assert "/ui" not in schema["paths"] and "/ui/{name}" not in schema["paths"]


def test_profile_counts_fit_the_index(shared_client: TestClient, trained: Any) -> None:
    users = trained.embeddings["User"].ids
    listed = {u["id"]: u["items"] for u in shared_client.get("/users?limit=100").json()["users"]}
    for user in np.asarray(users)[[0, 7, 11]]:
        assert shared_client.get(f"/users/{user}").json()["items"] == listed[str(user)]
