"""The graph goes away and comes back: reads keep working, writes 503, then recover by themselves."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from graphrec.api.main import create_app
from graphrec.graph.client import GraphClient
from graphrec.graph.embedded import EmbeddedServer
from graphrec.ingest import ingest


def _wait(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.2)


def _crash(server: EmbeddedServer) -> None:
    """Kill our own server process outright (a crash, not a clean stop)."""
    pid = server.status().pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    _wait(lambda: not server.status().running, 30)


@pytest.fixture
def own_server(server_factory: Callable[..., EmbeddedServer]) -> EmbeddedServer:
    server = server_factory()
    server.start()
    return server


def test_graph_down_then_back(
    own_server: EmbeddedServer,
    tmp_path: Path,
    trained: Any,
    catalog: Callable[[], list],
    settings_for: Callable[..., Any],
    write_embeddings_to: Callable[..., Any],
    serve: Callable[..., Any],
    api_key: str,
) -> None:
    target = own_server.target()
    with GraphClient.open(target) as graph:
        graph.apply_schema()
        ingest(graph, catalog(), progress=False)
    write_embeddings_to(target, trained.embeddings)
    users, items = trained.embeddings["User"], trained.embeddings["Item"]
    app = create_app(
        settings_for(target, tmp_path / "data"), graph_timeout=3.0, graph_retry_seconds=1.0
    )
    with (
        serve(app) as api,
        httpx.Client(base_url=api.url, headers={"X-API-Key": api_key}, timeout=30) as client,
    ):
        recs = f"/users/{users.ids[0]}/recommendations"
        assert client.get("/health").json()["status"] == "ok"
        before = client.get(recs).json()

        _crash(own_server)
        health = client.get("/health").json()
        assert health["status"] == "degraded" and health["graph"]["reachable"] is False
        assert health["graph"]["error"]
        assert client.get(recs).json() == before  # served from memory
        assert client.get(f"/items/{items.ids[0]}/similar").status_code == 200
        write = {"user_id": "while-down", "item_id": items.ids[0]}
        started = time.monotonic()
        response = client.post("/interactions", json=write)
        assert response.status_code == 503 and response.json()["detail"]
        assert time.monotonic() - started < 10
        assert client.post("/items", json={"id": "down-item"}).status_code == 503
        assert client.post("/admin/reload").status_code == 503
        assert client.get("/users/needs-the-graph/recommendations").status_code == 503

        own_server.start()  # same port: its old connections may still be in TIME_WAIT
        _wait(lambda: client.get("/health").json()["status"] == "ok", 60)
        # A server that just recovered may miss the API's 3 s deadline on its first (cold)
        # writes; a client retrying the same interaction ends with one edge, checked below.
        _wait(lambda: client.post("/interactions", json=write).status_code == 201, 60)
        assert client.get("/users/while-down/recommendations").json()["source"] == "fold_in"
        assert client.post("/admin/reload").status_code == 200

    with GraphClient.open(own_server.target()) as graph:
        rows = graph.run("MATCH (:User {id: 'while-down'})-[r:INTERACTED]->() RETURN count(r) AS n")
    assert rows == [{"n": 1}]
