"""Read endpoints on a model trained in the session: good and bad input."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from graphrec.graph.client import GraphClient
from graphrec.serving import MAX_K


def test_recommendations_match_the_trained_embeddings(
    shared_client: TestClient, trained: Any, shared_graph: Any
) -> None:
    users, items = trained.embeddings["User"], trained.embeddings["Item"]
    user = users.ids[3]
    response = shared_client.get(f"/users/{user}/recommendations", params={"k": 5})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == {"name": "lightgcn", "version": shared_graph.record.version}
    assert body["source"] == "model" and body["fallback"] is False
    assert [i["rank"] for i in body["items"]] == [1, 2, 3, 4, 5]
    # Same ranking as the dot products, seen items left out.
    with GraphClient.open(shared_graph.target) as graph:
        seen = {
            r["id"]
            for r in graph.run(
                "MATCH (:User {id: $id})-[:INTERACTED]->(i:Item) RETURN i.id AS id", {"id": user}
            )
        }
    scores = items.vectors @ users.vectors[list(users.ids).index(user)]
    expected = [items.ids[i] for i in np.argsort(-scores) if items.ids[i] not in seen][:5]
    assert [i["item_id"] for i in body["items"]] == expected
    assert body["items"][0]["score"] == pytest.approx(
        float(scores.max(initial=-np.inf, where=[i not in seen for i in items.ids])), rel=1e-4
    )
    assert all(i["title"].startswith("Item ") for i in body["items"])


def test_exclude_seen_false_can_return_seen_items(shared_client: TestClient, trained: Any) -> None:
    user = trained.embeddings["User"].ids[0]
    kept = shared_client.get(f"/users/{user}/recommendations", params={"k": 50}).json()
    every = shared_client.get(
        f"/users/{user}/recommendations", params={"k": 50, "exclude_seen": "false"}
    ).json()
    assert {i["item_id"] for i in kept["items"]} != {i["item_id"] for i in every["items"]}


def test_concept_filter_keeps_items_of_the_concept_and_subconcepts(
    shared_client: TestClient, shared_graph: Any, trained: Any
) -> None:
    user = trained.embeddings["User"].ids[1]
    with GraphClient.open(shared_graph.target) as graph:
        top = "category:category 2"
        allowed = {
            r["id"]
            for r in graph.run(
                "MATCH (i:Item)-[:HAS_CONCEPT]->(:Concept)-[:SUBCONCEPT_OF]->(:Concept {id: $c}) "
                "RETURN i.id AS id",
                {"c": top},
            )
        }
    assert allowed
    body = shared_client.get(
        f"/users/{user}/recommendations", params={"k": 100, "concept": top, "exclude_seen": False}
    ).json()
    assert {i["item_id"] for i in body["items"]} == allowed


def test_diversity_reranks(shared_client: TestClient, trained: Any) -> None:
    user = trained.embeddings["User"].ids[2]
    plain = shared_client.get(f"/users/{user}/recommendations", params={"k": 10}).json()
    diverse = shared_client.get(
        f"/users/{user}/recommendations", params={"k": 10, "diversity": 0.9}
    ).json()
    assert plain["items"][0]["item_id"] == diverse["items"][0]["item_id"]  # best one first
    assert [i["item_id"] for i in plain["items"]] != [i["item_id"] for i in diverse["items"]]


def test_user_without_interactions_gets_popularity_fallback(
    shared_client: TestClient, lonely_user: str
) -> None:
    body = shared_client.get(f"/users/{lonely_user}/recommendations", params={"k": 3}).json()
    assert body["source"] == "popularity" and body["fallback"] is True
    scores = [i["score"] for i in body["items"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0


def test_similar_items(shared_client: TestClient, trained: Any) -> None:
    items = trained.embeddings["Item"]
    item = items.ids[0]
    body = shared_client.get(f"/items/{item}/similar", params={"k": 4}).json()
    unit = items.vectors / np.linalg.norm(items.vectors, axis=1, keepdims=True)
    cosine = unit @ unit[0]
    expected = [items.ids[i] for i in np.argsort(-cosine) if i != 0][:4]
    assert [i["item_id"] for i in body["items"]] == expected
    assert body["items"][0]["score"] == pytest.approx(float(np.sort(cosine)[-2]), rel=1e-4)


@pytest.mark.parametrize(
    ("path", "params", "code"),
    [
        ("/users/u1/recommendations", {"k": 0}, 422),
        ("/users/u1/recommendations", {"k": MAX_K + 1}, 422),
        ("/users/u1/recommendations", {"k": "ten"}, 422),
        ("/users/u1/recommendations", {"diversity": 1.5}, 422),
        ("/users/u1/recommendations", {"diversity": "nan"}, 422),
        ("/users/u1/recommendations", {"exclude_seen": "maybe"}, 422),
        ("/users/u1/recommendations", {"model": "nope"}, 404),
        ("/users/u1/recommendations", {"concept": "genre:nope"}, 404),
        ("/users/no-such-user/recommendations", {}, 404),
        ("/users/x' OR 1=1 //'/recommendations", {}, 404),
        ('/users/u1"}) DETACH DELETE n //' + "/recommendations", {}, 404),
        ("/users/%01/recommendations", {}, 422),
        ("/users/" + "x" * 600 + "/recommendations", {}, 422),
        ("/items/i1/similar", {"k": -1}, 422),
        ("/items/i1/similar", {"k": 1001}, 422),
        ("/items/i1/similar", {"model": "nope"}, 404),
        ("/items/no-such-item/similar", {}, 404),
        ("/items/i1') MATCH (n) DETACH DELETE n //'/similar", {}, 404),
        ("/metrics", {"format": "xml"}, 422),
        ("/no/such/route", {}, 404),
    ],
)
def test_bad_reads(shared_client: TestClient, path: str, params: dict, code: int) -> None:
    response = shared_client.get(path, params=params)
    assert response.status_code == code, response.text
    assert "detail" in response.json()


def test_injection_attempts_leave_the_graph_alone(
    shared_client: TestClient, shared_graph: Any
) -> None:
    with GraphClient.open(shared_graph.target) as graph:
        before = graph.read("graph/count_nodes")
        shared_client.get("/users/x'}) MATCH (n) DETACH DELETE n //'/recommendations")
        assert graph.read("graph/count_nodes") == before


def test_health(
    shared_client: TestClient, shared_graph: Any, api_key: str, test_engine: str
) -> None:
    body = shared_client.get("/health", headers={"X-API-Key": ""}).json()
    assert body["status"] == "ok" and body["graph"]["reachable"] is True
    assert body["graph"]["uri"] is None  # not for anonymous callers
    assert shared_graph.target.uri.split("//")[1] not in json.dumps(body)
    wrong = shared_client.get("/health", headers={"X-API-Key": "not-the-key"})
    assert wrong.status_code == 200 and wrong.json()["graph"]["uri"] is None
    keyed = shared_client.get("/health", headers={"X-API-Key": api_key}).json()
    assert keyed["graph"]["uri"] == shared_graph.target.uri
    # Neo4j has a native vector index; ArcadeDB's Bolt plugin has none.
    assert body["graph"]["vector_index"] is (test_engine == "neo4j")
    (model,) = body["models"]
    assert model["name"] == "lightgcn" and model["version"] == shared_graph.record.version
    assert model["default"] is True and model["dim"] == 16


def test_openapi_documents_examples_and_errors(shared_client: TestClient) -> None:
    schema = shared_client.get("/openapi.json").json()
    recs = schema["paths"]["/users/{user_id}/recommendations"]["get"]
    assert {"200", "404", "422", "503"} <= set(recs["responses"])
    assert "examples" in schema["components"]["schemas"]["RecommendationsOut"]
    security = schema["components"]["securitySchemes"]
    assert any(s.get("name") == "X-API-Key" for s in security.values())
