"""Two real API processes on one graph agree: interactions, new and erased items, erased users
and reloads posted to one reach the other through the change feed (graphrec/api/replicas.py),
and the feed keeps no id of an erased user."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from graphrec.api.replicas import user_hash
from graphrec.graph.client import GraphClient
from graphrec.ingest import ingest

#: Feed reads per second in this test (the default is one a second).
SYNC = {"GRAPHREC_API_SYNC_INTERVAL": "0.2"}


def eventually(check: Callable[[], bool], what: str, within: float = 15.0) -> float:
    """Seconds until ``check()`` holds; fails after ``within`` seconds."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < within, f"not within {within} s: {what}"
        time.sleep(0.05)
    return time.monotonic() - started


def _feed(graph: Any) -> list[dict[str, Any]]:
    with GraphClient.open(graph.target) as client:
        return client.read("api/changes_since", since=0, after_id="", limit=10_000)


@pytest.mark.slow
def test_two_api_processes_agree_through_the_change_feed(
    fresh_graph: Any,
    trained: Any,
    api_key: str,
    api_process: Callable,
    write_version: Callable,
    tmp_path: Path,
) -> None:
    headers = {"X-API-Key": api_key}
    user = trained.embeddings["User"].ids[3]
    with (
        api_process(fresh_graph, tmp_path / "a", api_key, SYNC) as a,
        api_process(fresh_graph, tmp_path / "b", api_key, SYNC) as b,
        httpx.Client(headers=headers, timeout=30) as http,
    ):

        def top(url: str) -> list[str]:
            answer = http.get(f"{url}/users/{user}/recommendations", params={"k": 5})
            assert answer.status_code == 200, answer.text
            return [item["item_id"] for item in answer.json()["items"]]

        # An interaction posted to A: B stops recommending the item the user has now seen.
        first = top(b)[0]
        posted = http.post(
            f"{a}/interactions", json={"user_id": user, "item_id": first, "kind": "view"}
        )
        assert posted.status_code in (200, 201), posted.text
        assert first not in top(a)  # at once on the process that wrote it
        eventually(lambda: first not in top(b), "B applies A's interaction")

        # A new item created on A is servable on B, with the same cold-start neighbours.
        concept = http.get(f"{a}/items/{first}").json()["concepts"][0]["id"]
        created = http.post(f"{a}/items", json={"id": "replica-new", "concepts": [{"id": concept}]})
        assert created.status_code == 201, created.text
        similar = "/items/replica-new/similar"
        eventually(lambda: http.get(f"{b}{similar}").status_code == 200, "B serves the new item")
        assert http.get(f"{b}{similar}").json() == http.get(f"{a}{similar}").json()

        # An item erased on A: B stops returning it.
        assert http.delete(f"{a}/items/replica-new").status_code == 204
        eventually(lambda: http.get(f"{b}{similar}").status_code == 404, "B drops the item")

        # A new model version, reloaded on A: B reloads too.
        write_version(fresh_graph, trained.embeddings)
        assert http.post(f"{a}/admin/reload").status_code == 200

        def version(url: str) -> int:
            return http.get(f"{url}/users/{user}/recommendations").json()["model"]["version"]

        assert version(a) == 2
        eventually(lambda: version(b) == 2, "B reloads after A's reload")

        # A user erased on A: B forgets them, and the feed keeps no entry naming them.
        assert http.delete(f"{a}/users/{user}").status_code == 204
        eventually(
            lambda: http.get(f"{b}/users/{user}/recommendations").status_code == 404,
            "B forgets the erased user",
        )
    feed = _feed(fresh_graph)
    assert {row["kind"] for row in feed} >= {
        "item_created",
        "item_deleted",
        "reload",
        "user_erased",
    }
    assert not [row for row in feed if user in row["payload"]]
    erased = [row for row in feed if row["kind"] == "user_erased"]
    with GraphClient.open(fresh_graph.target) as client:
        key = client.read("api/feed_key")[0]["key"]
    assert [row["payload"] for row in erased] == [f'{{"hash": "{user_hash(key, user)}"}}']


def test_an_erasure_read_from_the_feed_after_a_reingest_keeps_what_came_back(
    fresh_graph: Any,
    client_for: Callable[..., Any],
    catalog: Callable[[], list[Any]],
    trained: Any,
) -> None:
    # The feed is read here by hand (its own timer is an hour away), after the item and the
    # user were erased, the original files ingested again and the service reloaded: the
    # erasures' entries are news to the feed, but the graph holds both again.
    client = client_for(fresh_graph, api_sync_interval=3600.0)
    state = client.app.state.service
    user = trained.embeddings["User"].ids[5]
    item = client.get(f"/users/{user}/recommendations", params={"k": 1}).json()["items"][0]
    assert client.delete(f"/items/{item['item_id']}").status_code == 204
    assert client.delete(f"/users/{user}").status_code == 204
    with GraphClient.open(fresh_graph.target) as graph:
        ingest(graph, catalog(), progress=False)
    assert client.post("/admin/reload").status_code == 200
    assert client.portal.call(state.feed.poll) >= 2  # both erasures (and the reload) read
    assert item["item_id"] in state.index.snapshot.catalog.item_pos
    assert user in state.index.state
    assert client.get(f"/users/{user}/recommendations").status_code == 200
