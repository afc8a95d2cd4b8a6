"""Explanations name other users only as a count; their ids need an admin key and
``include_user_ids=true``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from graphrec.graph.client import GraphClient

READ_KEY = "privacy-read-key-0123456789"
#: How an explanation's node stands for other users: a count, never an id.
GROUP = re.compile(r"^\d+ (people|person|users)$")


@pytest.fixture
def client(client_for: Callable[..., TestClient], shared_graph: Any) -> TestClient:
    return client_for(shared_graph, api_read_keys=READ_KEY)


def _collaborative(client: TestClient, user: str, item: str, **params: Any) -> list[dict]:
    response = client.get(
        f"/users/{user}/recommendations/{item}/explanation",
        params={"max_paths": 20, **params},
    )
    assert response.status_code == 200, response.text
    return [p for p in response.json()["paths"] if p["kind"] == "collaborative"]


def _a_collaborative_pair(client: TestClient, trained: Any) -> tuple[str, str]:
    """A user and an item that a collaborative path connects (the synthetic graph is dense)."""
    for user in trained.embeddings["User"].ids[:10]:
        for item in trained.embeddings["Item"].ids[:10]:
            if _collaborative(client, user, item):
                return user, item
    raise AssertionError("no collaborative path among the first 10 users and items")


def test_other_users_appear_only_as_a_count(client: TestClient, trained: Any) -> None:
    users = set(trained.embeddings["User"].ids)
    for user in trained.embeddings["User"].ids[:5]:
        body = client.get(
            f"/users/{user}/recommendations",
            params={"k": 10, "explain": "true"},
            headers={"X-API-Key": READ_KEY},
        ).json()
        for path in (p for p in body["explanations"].values() if p is not None):
            assert path["user_ids"] is None
            for node in path["nodes"]:
                if node["label"] == "User" and node["id"] != user:
                    assert GROUP.fullmatch(node["id"]), node
                    assert node["id"] not in users
            if path["kind"] == "collaborative":
                assert path["people"] >= 1
                assert re.fullmatch(
                    r"\d+ (people|person) who interacted with .+ also interacted with .+",
                    path["sentence"],
                )


def test_user_ids_need_an_admin_key_and_asking(
    client: TestClient, trained: Any, api_key: str, shared_graph: Any
) -> None:
    user, item = _a_collaborative_pair(client, trained)
    client.headers["X-API-Key"] = READ_KEY
    refused = client.get(
        f"/users/{user}/recommendations/{item}/explanation", params={"include_user_ids": "true"}
    )
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"
    listed = client.get(
        f"/users/{user}/recommendations", params={"explain": "true", "include_user_ids": "true"}
    )
    assert listed.status_code == 403
    client.headers["X-API-Key"] = api_key  # admin, but not asking: still a count only
    assert all(p["user_ids"] is None for p in _collaborative(client, user, item))
    paths = _collaborative(client, user, item, include_user_ids="true")
    assert paths
    with GraphClient.open(shared_graph.target) as graph:
        for path in paths:
            anchor = path["nodes"][1]["id"]
            assert 1 <= len(path["user_ids"]) <= path["people"]
            assert user not in path["user_ids"]
            counted = graph.run(
                "MATCH (:User {id: $u})-[:INTERACTED]->(:Item {id: $a})<-[:INTERACTED]-(o:User)"
                "-[:INTERACTED]->(:Item {id: $i}) WHERE o.id <> $u RETURN count(DISTINCT o) AS n",
                {"u": user, "a": anchor, "i": item},
            )
            assert counted == [{"n": path["people"]}]
            for other in path["user_ids"]:  # each one really links the anchor to the item
                rows = graph.run(
                    "MATCH (:Item {id: $a})<-[:INTERACTED]-(o:User {id: $o})"
                    "-[:INTERACTED]->(:Item {id: $i}) RETURN count(*) AS n",
                    {"a": anchor, "o": other, "i": item},
                )
                assert rows[0]["n"] >= 1, (anchor, other, item)
