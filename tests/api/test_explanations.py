"""Explanations over REST: real graph paths for a recommended item, ranked by the served model."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from graphrec.graph.client import GraphClient


def test_explanation_paths_are_real(
    shared_client: TestClient, trained: Any, shared_graph: Any
) -> None:
    user = trained.embeddings["User"].ids[2]
    top = shared_client.get(f"/users/{user}/recommendations", params={"k": 3}).json()
    item = top["items"][0]["item_id"]
    response = shared_client.get(
        f"/users/{user}/recommendations/{item}/explanation", params={"max_paths": 3, "max_hops": 2}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == top["model"] and body["item_id"] == item
    assert 1 <= len(body["paths"]) <= 3 and body["reason"] is None
    assert body["partial"] is False and body["timed_out"] == []
    scores = [p["score"] for p in body["paths"]]
    assert scores == sorted(scores, reverse=True)
    with GraphClient.open(shared_graph.target) as graph:
        for path in body["paths"]:
            assert path["nodes"][0] == {"id": user, "label": "User", "name": None}
            assert path["nodes"][-1]["id"] == item
            assert len(path["relationships"]) == len(path["nodes"]) - 1
            if path["kind"] == "collaborative":  # other users only as a count
                people = path["people"]
                assert people >= 1 and path["user_ids"] is None
                assert path["nodes"][2]["id"] == ("1 person" if people == 1 else f"{people} people")
                assert path["sentence"].startswith(f"{path['nodes'][2]['id']} who interacted with")
            else:
                assert path["sentence"].startswith("Because")
            if path["kind"] in ("collaborative", "content", "co_engagement"):
                anchor = path["nodes"][1]["id"]
                seen = graph.run(
                    "MATCH (:User {id: $u})-[:INTERACTED]->(:Item {id: $i}) RETURN count(*) AS n",
                    {"u": user, "i": anchor},
                )
                assert seen == [{"n": 1}], path  # the anchor really is one of the user's items


def test_explain_flag_on_recommendations(shared_client: TestClient, trained: Any) -> None:
    user = trained.embeddings["User"].ids[4]
    body = shared_client.get(
        f"/users/{user}/recommendations", params={"k": 3, "explain": "true"}
    ).json()
    assert set(body["explanations"]) == {i["item_id"] for i in body["items"]}
    assert any(p is not None and p["sentence"] for p in body["explanations"].values())
    plain = shared_client.get(f"/users/{user}/recommendations", params={"k": 3}).json()
    assert plain["explanations"] is None


def test_explanation_bad_input(shared_client: TestClient, trained: Any) -> None:
    user = trained.embeddings["User"].ids[0]
    item = trained.embeddings["Item"].ids[0]
    base = f"/users/{user}/recommendations"
    assert shared_client.get(f"{base}/no-such-item/explanation").status_code == 404
    assert (
        shared_client.get(f"/users/nobody-here/recommendations/{item}/explanation").status_code
        == 404
    )
    assert (
        shared_client.get(f"{base}/{item}/explanation", params={"max_hops": 9}).status_code == 422
    )
    assert (
        shared_client.get(f"{base}/{item}/explanation", params={"max_paths": 0}).status_code == 422
    )
    assert (
        shared_client.get(f"{base}/{item}/explanation", params={"model": "nope"}).status_code == 404
    )
    sneaky = shared_client.get(f"{base}/x'%7D)%20DETACH%20DELETE%20n%20%2F%2F/explanation")
    assert sneaky.status_code == 404 and "detail" in sneaky.json()


def test_no_path_is_an_empty_answer_with_a_reason(
    shared_client: TestClient, trained: Any, lonely_user: str
) -> None:
    item = trained.embeddings["Item"].ids[0]
    response = shared_client.get(
        f"/users/{lonely_user}/recommendations/{item}/explanation", params={"max_hops": 2}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["paths"] == []
    assert (
        body["reason"]
        == f"no path of these kinds within 2 hops connects user {lonely_user} to item {item}"
    )


def test_a_slow_path_search_answers_partial_and_flagged(
    client_for: Any, shared_graph: Any, trained: Any
) -> None:
    # A deadline shorter than any Bolt round trip: every path query misses it.
    client = client_for(shared_graph, api_explain_timeout=1e-6)
    user = trained.embeddings["User"].ids[2]
    item = trained.embeddings["Item"].ids[0]
    response = client.get(f"/users/{user}/recommendations/{item}/explanation")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["partial"] is True and body["paths"] == []
    assert set(body["timed_out"]) == {
        "co_engagement",
        "content",
        "collaborative",
        "knowledge_graph",
        "attribute",
    }
    assert "timed out" in body["reason"]
    listed = client.get(f"/users/{user}/recommendations", params={"k": 2, "explain": "true"})
    assert listed.json()["explanations_partial"] is True
