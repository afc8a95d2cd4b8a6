"""Write endpoints: interactions (fold-in) and items (cold start), good and bad input."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from graphrec.api.schemas_writes import MAX_INTERACTIONS_PER_REQUEST
from graphrec.graph.client import GraphClient
from graphrec.serving import fold_in


@pytest.fixture
def writable(writable_client: TestClient) -> TestClient:
    return writable_client


def _ids(body: dict) -> list[str]:
    return [i["item_id"] for i in body["items"]]


def _seen(graph: GraphClient, user: str) -> set[str]:
    rows = graph.run(
        "MATCH (:User {id: $id})-[:INTERACTED]->(i:Item) RETURN DISTINCT i.id AS id", {"id": user}
    )
    return {r["id"] for r in rows}


def test_fold_in_changes_a_users_recommendations(
    writable: TestClient, module_graph: Any, trained: Any
) -> None:
    users, items = trained.embeddings["User"], trained.embeddings["Item"]
    user, other = users.ids[10], users.ids[11]
    before = writable.get(f"/users/{user}/recommendations", params={"k": 10}).json()
    assert before["source"] == "model"
    # Interact with what a different user would be recommended.
    theirs = _ids(writable.get(f"/users/{other}/recommendations", params={"k": 30}).json())
    new_items = [i for i in theirs if i not in set(_ids(before))][:8]
    response = writable.post(
        "/interactions", json=[{"user_id": user, "item_id": i, "kind": "click"} for i in new_items]
    )
    assert response.status_code == 201, response.text
    assert response.json() == {"accepted": len(new_items), "users": 1}

    after = writable.get(f"/users/{user}/recommendations", params={"k": 10}).json()
    assert after["source"] == "fold_in"
    assert _ids(after) != _ids(before)
    assert not set(_ids(after)) & set(new_items)  # now seen

    # The fold-in is LightGCN's normalised aggregate of the user's items.
    with GraphClient.open(module_graph.target) as graph:
        seen = sorted(_seen(graph, user))
        popularity = {
            r["id"]: r["n"]
            for r in graph.run(
                "MATCH (u:User)-[:INTERACTED]->(i:Item) WHERE i.id IN $ids "
                "RETURN i.id AS id, count(DISTINCT u) AS n",
                {"ids": seen},
            )
        }
    rows = [list(items.ids).index(i) for i in seen]
    vector = fold_in(items.vectors[rows], np.array([popularity[i] for i in seen]))
    scores = items.vectors @ vector
    expected = [items.ids[i] for i in np.argsort(-scores) if items.ids[i] not in seen][:10]
    assert _ids(after) == expected


def _popularity(graph: GraphClient, ids: list[str]) -> np.ndarray:
    rows = graph.run(
        "MATCH (u:User)-[:INTERACTED]->(i:Item) WHERE i.id IN $ids "
        "RETURN i.id AS id, count(DISTINCT u) AS n",
        {"ids": ids},
    )
    counts = {r["id"]: r["n"] for r in rows}
    return np.array([counts[i] for i in ids])


def test_a_change_rule_version_adds_the_new_items_to_the_trained_vector(
    fresh_graph: Any, client_for: Any, trained: Any, write_version: Any
) -> None:
    users, items = trained.embeddings["User"], trained.embeddings["Item"]
    write_version(fresh_graph, trained.embeddings, params={"fold_in": "change"})
    writable = client_for(fresh_graph)
    user, other = users.ids[20], users.ids[21]
    with GraphClient.open(fresh_graph.target) as graph:
        older = sorted(_seen(graph, user))
    before = writable.get(f"/users/{user}/recommendations", params={"k": 10}).json()
    assert before["source"] == "model"
    theirs = _ids(writable.get(f"/users/{other}/recommendations", params={"k": 30}).json())
    new_items = [i for i in theirs if i not in set(_ids(before)) and i not in older][:5]
    response = writable.post(
        "/interactions", json=[{"user_id": user, "item_id": i, "kind": "click"} for i in new_items]
    )
    assert response.status_code == 201, response.text
    after = writable.get(f"/users/{user}/recommendations", params={"k": 10}).json()
    assert after["source"] == "fold_in"

    # The trained vector plus what the new items change in the user's fold-in.
    ids = list(items.ids)
    with GraphClient.open(fresh_graph.target) as graph:
        everything = sorted(_seen(graph, user))
        pop_all, pop_older = _popularity(graph, everything), _popularity(graph, older)
    trained_vector = users.vectors[list(users.ids).index(user)]
    vector = (
        trained_vector
        + fold_in(items.vectors[[ids.index(i) for i in everything]], pop_all)
        - fold_in(items.vectors[[ids.index(i) for i in older]], pop_older)
    )
    scores = items.vectors @ vector
    expected = [ids[i] for i in np.argsort(-scores) if ids[i] not in everything][:10]
    assert _ids(after) == expected
    # A reload rebuilds the seen items from the graph; the posted ones stay told apart.
    assert writable.post("/admin/reload").status_code == 200
    again = writable.get(f"/users/{user}/recommendations", params={"k": 10}).json()
    assert again["source"] == "fold_in" and _ids(again) == expected


def test_a_new_user_gets_recommendations_from_a_few_interactions(
    writable: TestClient, module_graph: Any, trained: Any
) -> None:
    assert writable.get("/users/newbie/recommendations").status_code == 404
    picks = list(trained.embeddings["Item"].ids[:3])
    for item in picks:  # one at a time, as a client would
        response = writable.post("/interactions", json={"user_id": "newbie", "item_id": item})
        assert response.status_code == 201, response.text
    body = writable.get("/users/newbie/recommendations", params={"k": 5}).json()
    assert body["source"] == "fold_in" and body["fallback"] is False
    assert len(body["items"]) == 5 and not set(_ids(body)) & set(picks)
    with GraphClient.open(module_graph.target) as graph:
        assert _seen(graph, "newbie") == set(picks)
        kinds = graph.run(
            "MATCH (:User {id: 'newbie'})-[r:INTERACTED]->() RETURN DISTINCT r.kind AS kind"
        )
        assert kinds == [{"kind": "interacted"}]


def test_posting_the_same_interaction_twice_keeps_one_edge(
    writable: TestClient, module_graph: Any, trained: Any
) -> None:
    item = trained.embeddings["Item"].ids[5]
    row = {"user_id": "twice", "item_id": item, "kind": "rating", "rating": 3.0, "ts": 10}
    assert writable.post("/interactions", json=row).status_code == 201
    assert writable.post("/interactions", json={**row, "rating": 5.0}).status_code == 201
    with GraphClient.open(module_graph.target) as graph:
        edges = graph.run(
            "MATCH (:User {id: 'twice'})-[r:INTERACTED]->() RETURN r.rating AS rating, r.ts AS ts"
        )
    assert edges == [{"rating": 5.0, "ts": 10}]


def test_repeats_in_one_body_keep_the_last(
    writable: TestClient, module_graph: Any, trained: Any
) -> None:
    item = trained.embeddings["Item"].ids[6]
    rows = [
        {"user_id": "repeater", "item_id": item, "kind": "rating", "rating": float(n % 5), "ts": n}
        for n in range(MAX_INTERACTIONS_PER_REQUEST)
    ]
    response = writable.post("/interactions", json=rows)
    assert response.status_code == 201, response.text
    assert response.json() == {"accepted": MAX_INTERACTIONS_PER_REQUEST, "users": 1}
    with GraphClient.open(module_graph.target) as graph:
        edges = graph.run(
            "MATCH (:User {id: 'repeater'})-[r:INTERACTED]->() RETURN r.rating AS rating, r.ts AS ts"
        )
    last = rows[-1]
    assert edges == [{"rating": last["rating"], "ts": last["ts"]}]


def test_numeric_ids_are_the_same_as_their_text(
    writable: TestClient, module_graph: Any, trained: Any
) -> None:
    item = trained.embeddings["Item"].ids[7]
    response = writable.post("/interactions", json={"user_id": 9001, "item_id": item})
    assert response.status_code == 201, response.text
    assert writable.get("/users/9001/recommendations").json()["user_id"] == "9001"
    with GraphClient.open(module_graph.target) as graph:
        assert _seen(graph, "9001") == {item}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"user_id": "u1", "item_id": "no-such-item"}, 404),
        ({"user_id": True, "item_id": "i1"}, 422),
        ([{"user_id": "u1", "item_id": "i1"}, {"user_id": "u1", "item_id": "nope"}], 404),
        ([], 422),
        ({"user_id": "u1"}, 422),
        ({"user_id": "u1", "item_id": "i1", "weight": "heavy"}, 422),
        ({"user_id": "u1", "item_id": "i1", "ts": -5}, 422),
        ({"user_id": "u1", "item_id": "i1", "kind": "a b"}, 422),
        ({"user_id": "u1", "item_id": "i1", "kind": "x'}) DETACH DELETE n //"}, 422),
        ({"user_id": "u1", "item_id": "i1", "extra": 1}, 422),
        ({"user_id": "", "item_id": "i1"}, 422),
        ({"user_id": "  ", "item_id": "i1"}, 422),
        ({"user_id": "a\u0000b", "item_id": "i1"}, 422),
        ({"user_id": ["u1"], "item_id": "i1"}, 422),
        ({"user_id": "u1", "item_id": "i1", "weight": 1e300}, 422),
        ("just a string", 422),
        (42, 422),
    ],
)
def test_bad_interactions_write_nothing(
    writable: TestClient, module_graph: Any, body: Any, code: int
) -> None:
    with GraphClient.open(module_graph.target) as graph:
        before = graph.read("graph/count_relationships")
        response = writable.post("/interactions", json=body)
        assert response.status_code == code, response.text
        assert "detail" in response.json()
        assert graph.read("graph/count_relationships") == before


def test_malformed_and_huge_bodies(writable: TestClient) -> None:
    response = writable.post(
        "/interactions", content=b'{"user_id": "u1", ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422 and "detail" in response.json()
    huge = json.dumps([{"user_id": "u" * 500, "item_id": "i1"}] * 3_000).encode()
    assert len(huge) > 1_000_000
    response = writable.post(
        "/interactions", content=huge, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert "detail" in response.json()
    response = writable.post("/items", content=huge, headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_too_many_interactions_in_one_request(writable: TestClient, trained: Any) -> None:
    item = trained.embeddings["Item"].ids[0]
    rows = [{"user_id": "u", "item_id": item}] * 10_001
    response = writable.post("/interactions", json=rows)
    assert response.status_code in (413, 422)


def test_a_new_item_is_recommendable_and_similar_at_once(
    writable: TestClient, module_graph: Any, trained: Any
) -> None:
    items = trained.embeddings["Item"]
    neighbour = items.ids[0]
    with GraphClient.open(module_graph.target) as graph:
        concepts = [
            r["id"]
            for r in graph.run(
                "MATCH (:Item {id: $id})-[:HAS_CONCEPT]->(c:Concept) RETURN c.id AS id",
                {"id": neighbour},
            )
        ]
    body = {
        "id": "fresh-item",
        "title": "Fresh Item",
        "concepts": [{"id": c} for c in concepts] + [{"id": "tag:Brand New Tag"}],
    }
    response = writable.post("/items", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["id"] == "fresh-item" and "tag:brand new tag" in created["concepts"]
    assert created["embeddings"] == [
        {"model": {"name": "lightgcn", "version": module_graph.record.version}, "embedded": True}
    ]

    similar = writable.get("/items/fresh-item/similar", params={"k": 5})
    assert similar.status_code == 200 and len(similar.json()["items"]) == 5
    back = writable.get(f"/items/{similar.json()['items'][0]['item_id']}/similar", params={"k": 80})
    assert "fresh-item" in _ids(back.json())

    user = trained.embeddings["User"].ids[20]
    everything = writable.get(f"/users/{user}/recommendations", params={"k": 1000}).json()
    assert "fresh-item" in _ids(everything)
    filtered = writable.get(
        f"/users/{user}/recommendations", params={"concept": "tag:brand new tag"}
    ).json()
    assert _ids(filtered) == ["fresh-item"]

    with GraphClient.open(module_graph.target) as graph:
        stored = graph.run(
            "MATCH (i:Item {id: 'fresh-item'}) "
            "RETURN i.title AS title, i[$prop] AS vector, COUNT { (i)-[:HAS_CONCEPT]->() } AS n",
            {"prop": module_graph.record.property},
        )
    assert stored[0]["title"] == "Fresh Item" and stored[0]["n"] == len(concepts) + 1
    assert len(stored[0]["vector"]) == 16

    # It can be interacted with right away.
    response = writable.post("/interactions", json={"user_id": user, "item_id": "fresh-item"})
    assert response.status_code == 201


def test_item_without_known_concepts_is_stored_but_not_embedded(writable: TestClient) -> None:
    response = writable.post("/items", json={"id": "orphan", "concepts": [{"id": "genre:zzz"}]})
    assert response.status_code == 201
    assert response.json()["embeddings"][0]["embedded"] is False
    assert writable.get("/items/orphan/similar").status_code == 404
    assert writable.post("/items", json={"id": "orphan"}).status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        {"id": "x", "concepts": [{"id": "nokind"}]},
        {"id": "x", "concepts": [{"id": "planet:mars"}]},
        {"id": "x", "concepts": [{"id": "genre:"}]},
        {"id": "x", "concepts": ["genre:comedy"]},
        {"id": "x", "concepts": [{"id": "genre:comedy", "relation": "has genre"}]},
        {"id": "", "title": "empty id"},
        {"id": "x", "title": 5},
        {"id": "x", "concepts": [{"id": "genre:comedy"}] * 101},
        {"title": "no id"},
    ],
)
def test_bad_items(writable: TestClient, body: dict) -> None:
    response = writable.post("/items", json=body)
    assert response.status_code == 422, response.text


def test_existing_item_conflicts(writable: TestClient, trained: Any) -> None:
    item = trained.embeddings["Item"].ids[0]
    response = writable.post("/items", json={"id": item, "title": "again"})
    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]
