"""One id rule at every door (graphrec.schema.normalize_id): ids that could be written but
never read back are refused with a 422 naming the field, and every path and query
parameter is normalised the same way as the body that wrote the id."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from fastapi.testclient import TestClient

from graphrec.graph.client import GraphClient


@pytest.fixture
def writable(writable_client: TestClient) -> TestClient:
    return writable_client


def _item(trained: Any, n: int = 5) -> str:
    return trained.embeddings["Item"].ids[n]


@pytest.mark.parametrize("bad", ["../", "a/b", "/", ".", "..", " .. ", "x/\u200b"])
def test_item_ids_that_cannot_travel_in_a_path_are_refused(
    writable: TestClient, module_graph: Any, bad: str
) -> None:
    with GraphClient.open(module_graph.target) as graph:
        before = graph.read("graph/count_nodes")
        response = writable.post("/items", json={"id": bad, "title": "unreadable"})
        assert response.status_code == 422, response.text
        (error,) = response.json()["detail"]
        assert error["loc"] == ["body", "id"]
        assert "id" in error["msg"] and ("'/'" in error["msg"] or "dot segment" in error["msg"])
        assert graph.read("graph/count_nodes") == before


@pytest.mark.parametrize("field", ["user_id", "item_id"])
@pytest.mark.parametrize("bad", ["u/1", "..", "."])
def test_interaction_ids_that_cannot_travel_in_a_path_are_refused(
    writable: TestClient, module_graph: Any, trained: Any, field: str, bad: str
) -> None:
    body = {"user_id": "slash-user", "item_id": _item(trained), field: bad}
    with GraphClient.open(module_graph.target) as graph:
        before = graph.read("graph/count_relationships")
        for sent in (body, [body]):
            response = writable.post("/interactions", json=sent)
            assert response.status_code == 422, response.text
            messages = [e["msg"] for e in response.json()["detail"] if e["loc"][-1] == field]
            assert messages and all(field in m for m in messages), response.text
        assert graph.read("graph/count_relationships") == before


def test_concept_ids_may_hold_a_slash(
    writable: TestClient, module_graph: Any, trained: Any
) -> None:
    with GraphClient.open(module_graph.target) as graph:  # a trained item's concept: embeddable
        (shared,) = graph.run(
            "MATCH (:Item {id: $id})-[:HAS_CONCEPT]->(c:Concept) RETURN c.id AS id LIMIT 1",
            {"id": _item(trained)},
        )
    concepts = [{"id": "tag:live action/animation"}, {"id": shared["id"]}]
    response = writable.post("/items", json={"id": "slash-concept-item", "concepts": concepts})
    assert response.status_code == 201, response.text
    assert response.json()["concepts"] == ["tag:live action/animation", shared["id"]]
    user = trained.embeddings["User"].ids[3]
    found = writable.get(
        f"/users/{user}/recommendations", params={"concept": "tag:Live Action/Animation\u200b"}
    )
    assert found.status_code == 200, found.text
    assert [i["item_id"] for i in found.json()["items"]] == ["slash-concept-item"]


def test_a_user_id_with_a_zero_width_character_is_the_same_user(
    writable: TestClient, module_graph: Any, trained: Any
) -> None:
    response = writable.post(
        "/interactions", json={"user_id": "ユーザー🙂\u200b", "item_id": _item(trained)}
    )
    assert response.status_code == 201, response.text
    for spelled in ("ユーザー🙂", "ユーザー🙂\u200b", "\u200bユーザー🙂\u2060", "ユーザー\u200d🙂"):
        answer = writable.get(f"/users/{spelled}/recommendations")
        assert answer.status_code == 200, (spelled, answer.text)
        assert answer.json()["user_id"] == "ユーザー🙂"
        explained = writable.get(
            f"/users/{spelled}/recommendations/{_item(trained, 9)}/explanation"
        )
        assert explained.status_code == 200 and explained.json()["user_id"] == "ユーザー🙂"
    with GraphClient.open(module_graph.target) as graph:
        users = graph.run("MATCH (u:User) WHERE u.id STARTS WITH 'ユーザー' RETURN u.id AS id")
    assert users == [{"id": "ユーザー🙂"}]


def test_item_ids_are_nfc_and_free_of_format_characters_everywhere(
    writable: TestClient, trained: Any
) -> None:
    decomposed = unicodedata.normalize("NFD", "café-item")
    assert decomposed != "café-item"
    concept = {"id": "genre:zz-unshared"}
    response = writable.post("/items", json={"id": decomposed + "\ufeff", "concepts": [concept]})
    assert response.status_code == 201, response.text
    assert response.json()["id"] == "café-item"
    assert writable.post("/items", json={"id": "\u200bcafé-item"}).status_code == 409
    user = trained.embeddings["User"].ids[4]
    for spelled in (decomposed, "café-item\u200b"):
        write = writable.post("/interactions", json={"user_id": user, "item_id": spelled})
        assert write.status_code == 201, write.text
        # The item has no embedding (no trained item shares its concept): 404 says so by name.
        similar = writable.get(f"/items/{spelled}/similar")
        assert similar.status_code == 404 and "café-item" in similar.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/users/%E2%80%8B/recommendations",  # only a zero-width space: empty once normalised
        "/users/a%01b/recommendations",
        "/items/%E2%80%8B%E2%80%8B/similar",
        "/users/u1/recommendations/%E2%80%8B/explanation",
    ],
)
def test_path_ids_that_normalise_to_nothing_are_422(writable: TestClient, path: str) -> None:
    response = writable.get(path)
    assert response.status_code == 422, response.text
    assert "_id" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/interactions", '{"user_id": "a\\ud800", "item_id": "%(item)s"}', "user_id"),
        ("/items", '{"id": "lone-surrogate", "title": "t\\udc00"}', "title"),
        ("/items", '{"id": "lone-surrogate", "concepts": [{"id": "tag:x\\ud800"}]}', "id"),
    ],
)
def test_lone_surrogates_are_refused_by_name(
    writable: TestClient, module_graph: Any, trained: Any, path: str, body: str, field: str
) -> None:
    """JSON can spell "\\ud800", UTF-8 (and so the graph) cannot hold it."""
    with GraphClient.open(module_graph.target) as graph:
        before = graph.read("graph/count_nodes")
        response = writable.post(
            path,
            content=body % {"item": _item(trained)},
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 422, response.text
        errors = [e for e in response.json()["detail"] if e["loc"][-1] == field]
        assert errors and ("surrogate" in errors[0]["msg"] or "unicode" in errors[0]["msg"])
        assert graph.read("graph/count_nodes") == before
