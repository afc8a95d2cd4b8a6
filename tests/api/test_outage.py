"""With the graph down, requests that need it answer 503 at once, not after the driver's
retries: an outage is reported as an outage, never as a slow or empty answer."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from graphrec.api.main import create_app
from graphrec.graph.client import ConnectionTarget, GraphClient
from graphrec.graph.errors import GraphError
from graphrec.ingest import ingest

#: Seconds within which a request that needs the graph must fail once the graph is gone:
#: well under the driver's retry budget (5 s) and the explain timeout (2 s), with room for a
#: loaded test machine.
FAIL_FAST = 1.5


@pytest.fixture
def stopped_graph_api(
    tmp_path: Path,
    server_factory: Callable[..., Any],
    trained: Any,
    catalog: Callable[[], list],
    settings_for: Callable[..., Any],
    write_embeddings_to: Callable[..., Any],
    serve: Callable[..., Any],
    api_key: str,
) -> Iterator[httpx.Client]:
    """The API with its default graph settings, on a private server that is then stopped."""
    server = server_factory()  # the engine under test, on free ports
    server.start()
    try:
        target = server.target()
        with GraphClient.open(target) as graph:
            graph.apply_schema()
            ingest(graph, catalog(), progress=False)
        write_embeddings_to(target, trained.embeddings)
        app = create_app(settings_for(target, tmp_path / "data"))
        with (
            serve(app) as api,
            httpx.Client(base_url=api.url, headers={"X-API-Key": api_key}, timeout=30) as client,
        ):
            users = trained.embeddings["User"].ids
            items = trained.embeddings["Item"].ids
            # Warm the pool: every request below would have a pooled connection to reuse.
            assert client.get(
                f"/users/{users[0]}/recommendations/{items[1]}/explanation"
            ).is_success
            assert client.post(
                "/interactions", json={"user_id": "w", "item_id": items[0]}
            ).is_success
            server.stop()
            assert not server.status().running
            yield client
    finally:
        server.stop()


def _timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_requests_that_need_the_graph_fail_fast_with_503(
    stopped_graph_api: httpx.Client, trained: Any, test_engine: str
) -> None:
    client = stopped_graph_api
    users, items = trained.embeddings["User"].ids, trained.embeddings["Item"].ids
    calls = {
        "explanation": lambda: client.get(
            f"/users/{users[2]}/recommendations/{items[3]}/explanation"
        ),
        "explain=true": lambda: client.get(
            f"/users/{users[2]}/recommendations", params={"explain": "true", "k": 3}
        ),
        "interaction": lambda: client.post(
            "/interactions", json={"user_id": "while-down", "item_id": items[0]}
        ),
        "item": lambda: client.post("/items", json={"id": "down-item"}),
        "unknown user": lambda: client.get("/users/needs-the-graph/recommendations"),
        "reload": lambda: client.post("/admin/reload"),
        "erase user": lambda: client.delete(f"/users/{users[2]}"),
        "erase item": lambda: client.delete(f"/items/{items[3]}"),
    }
    answers = {name: _timed(call) for name, call in calls.items()}
    seen = {name: (r.status_code, round(seconds, 2)) for name, (r, seconds) in answers.items()}
    assert all(code == 503 for code, _ in seen.values()), seen
    assert all(seconds < FAIL_FAST for _, seconds in seen.values()), seen
    assert all(r.json()["detail"] for r, _ in answers.values())
    # Reads served from memory keep working, and the failed erasures left memory as it was.
    assert client.get(f"/users/{users[2]}/recommendations").status_code == 200
    assert client.get(f"/items/{items[3]}/similar").status_code == 200
    health, seconds = _timed(lambda: client.get("/health"))
    assert health.json()["status"] == "degraded" and seconds < FAIL_FAST
    assert "Couldn't connect" in health.json()["graph"]["error"]  # the driver's words, with the key
    # Error bodies never carry the driver's words or the graph's address, whoever asks.
    uri = health.json()["graph"]["uri"]
    for name, (response, _) in answers.items():
        assert response.json()["code"] == "graph_unavailable", name
        assert uri not in response.text and "Couldn't connect" not in response.text, name
    anonymous = client.get("/health", headers={"X-API-Key": ""}).json()["graph"]
    assert anonymous == {
        "reachable": False,
        "uri": None,
        "error": "the graph is unreachable",
        "vector_index": test_engine == "neo4j",  # what the probe found before the outage
    }


def test_the_connection_timeout_is_bounded_and_configurable(
    tmp_path: Path, settings_for: Callable[..., Any]
) -> None:
    """A server that accepts TCP but never answers Bolt (a hung host): the API gives up
    after ``api_graph_connect_timeout``, not after the driver's default."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # the kernel completes TCP handshakes; nobody speaks Bolt
        port = silent.getsockname()[1]
        target = ConnectionTarget(f"bolt://127.0.0.1:{port}", "neo4j", "password")
        settings = settings_for(target, tmp_path, api_graph_connect_timeout=0.5)
        started = time.monotonic()
        with pytest.raises(GraphError), TestClient(create_app(settings)):
            pass
        assert time.monotonic() - started < 3.0
