"""Numbers a JSON body may hold but the API must refuse: NaN, Infinity, overflowing
literals, bools and strings where numbers belong, values outside the shared rules.

Over real HTTP on one keep-alive connection: a refused body answers 422 with a
readable error and leaves the connection usable.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from graphrec.graph.client import GraphClient
from graphrec.schema import MAX_ABS_VALUE, MAX_TIMESTAMP

JSON = {"Content-Type": "application/json"}


def _item(trained: Any) -> str:
    return trained.embeddings["Item"].ids[3]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/interactions", '{"user_id":"x","item_id":"%(item)s","weight":NaN}', "weight"),
        ("/interactions", '{"user_id":"x","item_id":"%(item)s","weight":Infinity}', "weight"),
        ("/interactions", '{"user_id":"x","item_id":"%(item)s","rating":-Infinity}', "rating"),
        ("/interactions", '{"user_id":"x","item_id":"%(item)s","weight":1e400}', "weight"),
        ("/interactions", '[{"user_id":"x","item_id":"%(item)s","rating":NaN}]', "rating"),
        ("/items", '{"id":"nan-item","concepts":[{"id":"genre:a","weight":NaN}]}', "weight"),
        ("/items", '{"id":"inf-item","concepts":[{"id":"genre:a","weight":-1e999}]}', "weight"),
    ],
)
def test_non_finite_numbers_answer_422_and_keep_the_connection(
    live_client: httpx.Client, module_graph: Any, trained: Any, path: str, body: str, field: str
) -> None:
    with GraphClient.open(module_graph.target) as graph:
        before = graph.read("graph/count_relationships"), graph.read("graph/count_nodes")
        response = live_client.post(path, content=body % {"item": _item(trained)}, headers=JSON)
        assert response.status_code == 422, response.text
        errors = response.json()["detail"]
        assert any(e["loc"][-1] == field and "finite" in e["msg"] for e in errors), errors
        assert (graph.read("graph/count_relationships"), graph.read("graph/count_nodes")) == before
    # The same keep-alive connection still answers.
    assert live_client.get("/health").status_code == 200


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"ts": False}, "ts"),
        ({"ts": True}, "ts"),
        ({"ts": "5"}, "ts"),
        ({"ts": 5.5}, "ts"),
        ({"ts": 1e300}, "ts"),
        ({"ts": -1}, "ts"),
        ({"ts": MAX_TIMESTAMP + 1}, "ts"),
        ({"weight": "5"}, "weight"),
        ({"weight": True}, "weight"),
        ({"weight": MAX_ABS_VALUE * 1.5}, "weight"),
        ({"rating": -MAX_ABS_VALUE - 1}, "rating"),
        ({"rating": "4.5"}, "rating"),
    ],
)
def test_strict_numbers_within_the_shared_rules(
    live_client: httpx.Client, trained: Any, extra: dict, field: str
) -> None:
    body = {"user_id": "strict-user", "item_id": _item(trained), **extra}
    response = live_client.post("/interactions", json=body)
    assert response.status_code == 422, response.text
    assert any(e["loc"][-1] == field for e in response.json()["detail"]), response.text


def test_bounds_of_the_shared_rules_are_accepted(
    live_client: httpx.Client, module_graph: Any, trained: Any
) -> None:
    body = {
        "user_id": "edge-user",
        "item_id": _item(trained),
        "ts": MAX_TIMESTAMP,
        "weight": -MAX_ABS_VALUE,
        "rating": 3,  # a JSON integer is a number
    }
    response = live_client.post("/interactions", json=body)
    assert response.status_code == 201, response.text
    with GraphClient.open(module_graph.target) as graph:
        rows = graph.run(
            "MATCH (:User {id: 'edge-user'})-[r:INTERACTED]->() "
            "RETURN r.ts AS ts, r.weight AS weight, r.rating AS rating"
        )
    assert rows == [{"ts": MAX_TIMESTAMP, "weight": -MAX_ABS_VALUE, "rating": 3.0}]
