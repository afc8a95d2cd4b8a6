"""Batch and paged reads: POST /recommendations/batch, exclude=, offset=; error codes and
operation ids."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from graphrec.api.errors import CODES


def _items(body: dict) -> list[str]:
    return [i["item_id"] for i in body["items"]]


def test_offset_pages_past_k(shared_client: TestClient, trained: Any) -> None:
    user = trained.embeddings["User"].ids[3]
    path = f"/users/{user}/recommendations"
    whole = shared_client.get(path, params={"k": 20}).json()
    first = shared_client.get(path, params={"k": 10}).json()
    second = shared_client.get(path, params={"k": 10, "offset": 10}).json()
    assert _items(first) + _items(second) == _items(whole)
    assert [i["rank"] for i in second["items"]] == list(range(11, 21))
    assert second["offset"] == 10
    diverse = {"k": 5, "diversity": 0.5}
    pages = [shared_client.get(path, params={**diverse, "offset": o}).json() for o in (0, 5)]
    both = shared_client.get(path, params={**diverse, "k": 10}).json()
    assert _items(pages[0]) + _items(pages[1]) == _items(both)  # MMR pages agree too
    # No rank past 1000: the last page is short (the catalog here has 80 items: empty).
    deep = shared_client.get(path, params={"k": 10, "offset": 995})
    assert deep.status_code == 200 and deep.json()["items"] == []
    assert shared_client.get(path, params={"offset": 1000}).json()["code"] == "invalid_request"


def test_exclude_leaves_items_out(shared_client: TestClient, trained: Any) -> None:
    user = trained.embeddings["User"].ids[3]
    path = f"/users/{user}/recommendations"
    top = _items(shared_client.get(path, params={"k": 10}).json())
    excluded = shared_client.get(
        path, params=[("k", "10"), ("exclude", top[0]), ("exclude", top[3]), ("exclude", top[5])]
    ).json()
    assert not set(_items(excluded)) & {top[0], top[3], top[5]}
    assert _items(excluded)[:2] == [top[1], top[2]]
    for nothing in ("not-an-item", "a/b", "\x00"):  # names no item: ignored
        assert _items(shared_client.get(path, params={"k": 10, "exclude": nothing}).json()) == top


def test_batch_answers_each_user_as_the_single_call_does(
    shared_client: TestClient, trained: Any, lonely_user: str
) -> None:
    users = trained.embeddings["User"].ids[:3]
    request = {"user_ids": [*users, "nobody-here", users[0], lonely_user], "k": 5, "offset": 2}
    response = shared_client.post("/recommendations/batch", json=request)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["user_id"] for r in body["results"]] == [*users, lonely_user]
    assert body["errors"] == [
        {"user_id": "nobody-here", "code": "unknown_user", "detail": "unknown user 'nobody-here'"}
    ]
    for result in body["results"]:
        single = shared_client.get(
            f"/users/{result['user_id']}/recommendations", params={"k": 5, "offset": 2}
        ).json()
        assert result == single
    assert body["results"][-1]["fallback"] is True
    excluded = shared_client.post(
        "/recommendations/batch",
        json={"user_ids": [users[0]], "k": 5, "exclude": _items(body["results"][0])},
    ).json()
    assert not set(_items(excluded["results"][0])) & set(_items(body["results"][0]))


def test_batch_limits(
    client_for: Callable[..., TestClient], shared_graph: Any, trained: Any
) -> None:
    client = client_for(shared_graph, api_batch_max_users=3)
    users = trained.embeddings["User"].ids
    assert client.post("/recommendations/batch", json={"user_ids": users[:3]}).is_success
    over = client.post("/recommendations/batch", json={"user_ids": users[:4]})
    assert over.status_code == 413
    assert over.json()["code"] == "batch_too_large"
    assert "at most 3 (GRAPHREC_API_BATCH_MAX_USERS)" in over.json()["detail"]
    unknown_model = client.post(
        "/recommendations/batch", json={"user_ids": users[:2], "model": "nope"}
    )
    assert unknown_model.status_code == 404 and unknown_model.json()["code"] == "unknown_model"
    for bad in ({"user_ids": []}, {"user_ids": ["a"], "k": 0}, {"user_ids": ["a"], "x": 1}):
        response = client.post("/recommendations/batch", json=bad)
        assert response.status_code == 422 and response.json()["code"] == "invalid_request"


def test_every_error_carries_a_stable_code(shared_client: TestClient, trained: Any) -> None:
    user = trained.embeddings["User"].ids[0]
    cases = {
        ("GET", "/users/nobody-here/recommendations", None): (404, "unknown_user"),
        ("GET", "/items/nothing/similar", None): (404, "unknown_item"),
        ("GET", f"/users/{user}/recommendations?model=nope", None): (404, "unknown_model"),
        ("GET", f"/users/{user}/recommendations?concept=tag:none-such", None): (
            404,
            "unknown_concept",
        ),
        ("GET", f"/users/{user}/recommendations?k=0", None): (422, "invalid_request"),
        ("GET", "/no/such/route", None): (404, "not_found"),
        ("DELETE", "/health", None): (405, "method_not_allowed"),
        ("POST", "/recommendations/batch", "not json"): (422, "invalid_request"),
    }
    for (method, path, payload), (status, code) in cases.items():
        response = shared_client.request(method, path, content=payload)
        assert response.status_code == status, (path, response.text)
        body = response.json()
        assert body["code"] == code and body["detail"], (path, body)
        assert body["code"] in CODES


def test_operation_ids_are_readable_and_new_endpoints_have_examples(
    shared_client: TestClient,
) -> None:
    schema = shared_client.get("/openapi.json").json()
    ids = [op["operationId"] for methods in schema["paths"].values() for op in methods.values()]
    assert len(ids) == len(set(ids))
    assert all(i.isidentifier() and i.islower() and "__" not in i for i in ids), ids
    batch = schema["paths"]["/recommendations/batch"]["post"]
    assert batch["operationId"] == "batch_recommendations"
    assert batch["requestBody"]["content"]["application/json"]["examples"]
    assert {"413", "422"} <= set(batch["responses"])
    recs = schema["paths"]["/users/{user_id}/recommendations"]["get"]
    assert recs["operationId"] == "user_recommendations"
    params = {p["name"]: p for p in recs["parameters"]}
    assert {"exclude", "offset", "include_user_ids"} <= set(params)
    assert params["exclude"]["schema"]["examples"]
    components = schema["components"]["schemas"]
    for name in ("BatchIn", "BatchOut"):
        assert components[name]["examples"], name
    assert "code" in components["ErrorOut"]["required"]
