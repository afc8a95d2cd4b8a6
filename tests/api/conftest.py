"""Fixtures for the API tests: a small synthetic graph, a model trained on it in the test
session, written back into the graph, and the service running against it.

Training happens once per session. The session server has one database, so
"the served graph" (the catalog plus the trained model, always the same ids and
vectors) is rebuilt there whenever a test needs it and the database holds
something else (:class:`ServedSlot`): read-only tests share it as long as
nobody writes; the tests of one module that write (with distinct ids) share
it for the module; ``fresh_graph`` rebuilds it for one test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import uvicorn
from fastapi import FastAPI

from graphrec import loaders
from graphrec.api.main import create_app
from graphrec.config import Settings
from graphrec.data import RecData
from graphrec.export import export_graph
from graphrec.graph.client import ConnectionTarget, GraphClient
from graphrec.graph.embedded import EmbeddedServer, free_port
from graphrec.graph.reset import reset_graph
from graphrec.ingest import ingest
from graphrec.loaders.rows import UserRow
from graphrec.training import train
from graphrec.writeback import Embeddings, ModelRecord, write_embeddings

with warnings.catch_warnings():
    # Starlette's TestClient warns about its own httpx dependency: nothing graphrec can act on.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

API_KEY = "test-key-0123456789"
#: A user in the graph without any interaction (popularity fallback).
LONELY_USER = "lonely"


def catalog_rows() -> list[Any]:
    rows = list(loaders.parse("synthetic", None, users=50, items=80, interactions=1_000, seed=7))
    rows.append(UserRow(LONELY_USER))
    return rows


@pytest.fixture(scope="session")
def api_key() -> str:
    return API_KEY


@pytest.fixture(scope="session")
def lonely_user() -> str:
    return LONELY_USER


@dataclass(frozen=True)
class Trained:
    """Embeddings of a LightGCN trained in the session on the synthetic graph."""

    embeddings: dict[str, Embeddings]


@dataclass(frozen=True)
class ServedGraph:
    """A database holding the synthetic catalog and a written-back model."""

    target: ConnectionTarget
    record: ModelRecord


def settings_for(target: ConnectionTarget, tmp: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "neo4j_uri": target.uri,
        "neo4j_user": target.user,
        "neo4j_password": target.password,
        "neo4j_database": target.database,
        "data_dir": tmp,
        "api_key": API_KEY,
        # A loaded test machine and a cold server (Neo4j plans each statement on first use)
        # can take seconds; the deadline's own behaviour is tested with a tiny one.
        "api_explain_timeout": 20.0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


#: GraphState.holds when the database is exactly the served graph.
SERVED = "api:served"
#: Fixtures whose tests read the served graph, and those whose tests write to it.
READS = {"shared_graph", "shared_client"}
WRITES = {"module_graph", "writable_client", "writable", "fresh_graph"}


def _ingest(target: ConnectionTarget) -> None:
    with GraphClient.open(target) as graph:
        reset_graph(graph)
        ingest(graph, catalog_rows(), progress=False)


def write_model(
    target: ConnectionTarget,
    embeddings: dict[str, Embeddings],
    model: str = "lightgcn",
    params: dict[str, Any] | None = None,
) -> ModelRecord:
    with GraphClient.open(target) as graph:
        return write_embeddings(
            graph, model=model, embeddings=embeddings, params=params, progress=False
        )


class ServedSlot:
    """Puts the served graph into the session database when it holds something else."""

    def __init__(self, served: ServedGraph, state: Any, embeddings: dict[str, Embeddings]):
        self.served = served
        self.state = state
        self.embeddings = embeddings
        self.rebuilds = 0

    def ensure(self, also: str | None = None) -> ServedGraph:
        """The served graph; ``also``: a state that counts as good enough (a module's writes)."""
        good = {SERVED} if also is None else {SERVED, also}  # None means "unknown", never good
        if self.state.holds not in good:
            self.state.holds = None
            _ingest(self.served.target)
            record = write_model(self.served.target, self.embeddings)
            self.served = ServedGraph(self.served.target, record)
            self.state.holds = SERVED
            self.rebuilds += 1
        return self.served


@pytest.fixture(scope="session")
def trained_graph(embedded_server: EmbeddedServer, graph_state: Any) -> tuple[Trained, ServedGraph]:
    """Train once: ingest, export, train LightGCN for a few epochs, write it back."""
    target = embedded_server.target()
    graph_state.holds = None
    _ingest(target)
    with GraphClient.open(target) as graph:
        hetero, ids = export_graph(graph, progress=False)
    data = RecData.from_hetero(hetero, seed=0)
    result = train(
        model="lightgcn",
        data=data,
        model_kwargs={"embedding_dim": 16, "num_layers": 2},
        epochs=15,
        lr=0.02,
        patience=0,
        progress=False,
    )
    final = result.model.get_embedding()
    embeddings = {
        "User": Embeddings(list(ids.users), final.user.numpy().astype(np.float32)),
        "Item": Embeddings(list(ids.items), final.item.numpy().astype(np.float32)),
    }
    record = write_model(target, embeddings)
    graph_state.holds = SERVED
    return Trained(embeddings), ServedGraph(target, record)


@pytest.fixture(scope="session")
def trained(trained_graph: tuple[Trained, ServedGraph]) -> Trained:
    return trained_graph[0]


@pytest.fixture(scope="session")
def served_slot(trained_graph: tuple[Trained, ServedGraph], graph_state: Any) -> ServedSlot:
    trained, served = trained_graph
    return ServedSlot(served, graph_state, trained.embeddings)


@pytest.fixture(autouse=True)
def _served_graph_state(request: pytest.FixtureRequest, graph_state: Any) -> Iterator[None]:
    """Before a test that reads the served graph: make sure the database holds it.
    After a test that wrote to it: note that it no longer does (or holds that module's writes)."""
    names = set(request.fixturenames)
    module_state = f"api:writes:{request.module.__name__}"
    if names & (READS | WRITES) and "fresh_graph" not in names:
        slot: ServedSlot = request.getfixturevalue("served_slot")
        slot.ensure(also=module_state if names & WRITES else None)
    yield
    if names & WRITES:
        graph_state.holds = module_state if "fresh_graph" not in names else None


@pytest.fixture(scope="session")
def shared_graph(trained_graph: tuple[Trained, ServedGraph]) -> ServedGraph:
    """The served graph (catalog + model), for tests that do not write."""
    return trained_graph[1]


@pytest.fixture(scope="session")
def graph_factory(served_slot: ServedSlot) -> Callable[[], ServedGraph]:
    """``graph_factory()``: the served graph, rebuilt from scratch."""

    def make() -> ServedGraph:
        served_slot.state.holds = None
        return served_slot.ensure()

    return make


@pytest.fixture(scope="session")
def catalog() -> Callable[[], list[Any]]:
    """``catalog()``: the synthetic catalog's rows (the same ids every time)."""
    return catalog_rows


@pytest.fixture(name="settings_for", scope="session")
def settings_for_fixture() -> Callable[..., Settings]:
    """``settings_for(target, data_dir, **overrides)``: settings pointing at ``target``."""
    return settings_for


@pytest.fixture(scope="session")
def write_embeddings_to() -> Callable[..., ModelRecord]:
    """``write_embeddings_to(target, embeddings, model="lightgcn")``."""
    return write_model


@pytest.fixture(scope="session")
def write_version() -> Callable[..., ModelRecord]:
    """``write_version(graph, embeddings, model="lightgcn", params=None)`` writes and activates
    a new version."""

    def write(
        graph: ServedGraph,
        embeddings: dict[str, Embeddings],
        model: str = "lightgcn",
        params: dict[str, Any] | None = None,
    ):
        return write_model(graph.target, embeddings, model, params)

    return write


@pytest.fixture
def fresh_graph(graph_factory: Callable[[], ServedGraph]) -> ServedGraph:
    """The served graph rebuilt for one test, which may write anything."""
    return graph_factory()


@pytest.fixture(scope="module")
def module_graph(served_slot: ServedSlot, request: pytest.FixtureRequest) -> ServedGraph:
    """The served graph for one test module's writes (tests that write use distinct ids)."""
    return served_slot.ensure(also=f"api:writes:{request.module.__name__}")


@pytest.fixture(scope="module")
def writable_client(
    module_graph: ServedGraph, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """A running app on the module's served graph, sending the API key."""
    app = create_app(settings_for(module_graph.target, tmp_path_factory.mktemp("api")))
    with TestClient(app) as client:
        client.headers["X-API-Key"] = API_KEY
        yield client


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., FastAPI]:
    """``make_app(graph, dev=..., **settings)`` builds an app on ``graph``'s database."""

    def make(graph: ServedGraph, *, app_options: dict[str, Any] | None = None, **settings: Any):
        return create_app(settings_for(graph.target, tmp_path, **settings), **(app_options or {}))

    return make


@pytest.fixture(scope="module")
def shared_client(
    served_slot: ServedSlot, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """One running app on the shared (read-only) graph for a whole test module, sending the
    API key (reads about users need one)."""
    shared_graph = served_slot.ensure()
    app = create_app(settings_for(shared_graph.target, tmp_path_factory.mktemp("api")))
    with TestClient(app) as client:
        client.headers["X-API-Key"] = API_KEY
        yield client


@pytest.fixture
def client_for(make_app: Callable[..., FastAPI]) -> Iterator[Callable[..., TestClient]]:
    """``client_for(graph, **settings)``: a started TestClient sending the API key, closed
    after the test."""
    clients: list[TestClient] = []

    def start(graph: ServedGraph, **kwargs: Any) -> TestClient:
        client = TestClient(make_app(graph, **kwargs))
        client.headers["X-API-Key"] = API_KEY
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in reversed(clients):
        client.__exit__(None, None, None)


class LiveServer:
    """The app under uvicorn in a thread, on a free port of 127.0.0.1 (real HTTP)."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API server did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@contextmanager
def live_server(app: FastAPI) -> Iterator[LiveServer]:
    server = LiveServer(app).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def serve() -> Callable[[FastAPI], Any]:
    """``with serve(app) as server:`` runs ``app`` over real HTTP."""
    return live_server


@pytest.fixture(scope="module")
def live_client(
    module_graph: ServedGraph, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    """The app on the module's database under uvicorn (real HTTP, keep-alive), sending the key."""
    app = create_app(settings_for(module_graph.target, tmp_path_factory.mktemp("api")))
    with (
        live_server(app) as server,
        httpx.Client(base_url=server.url, headers={"X-API-Key": API_KEY}, timeout=30) as client,
    ):
        yield client


@contextmanager
def server_process(
    graph: Any, data_dir: Path, api_key: str, env: dict[str, str] | None = None
) -> Iterator[str]:
    """``uvicorn --factory graphrec.api.main:app_from_environment`` on a free port, serving
    ``graph`` with ``api_key`` and the extra environment ``env``; yields its URL."""
    target = graph.target
    port = free_port()
    env = {
        **os.environ,
        "GRAPHREC_NEO4J_URI": target.uri,
        "GRAPHREC_NEO4J_USER": target.user,
        "GRAPHREC_NEO4J_PASSWORD": target.password,
        "GRAPHREC_NEO4J_DATABASE": target.database,
        "GRAPHREC_DATA_DIR": str(data_dir),
        "GRAPHREC_API_KEY": api_key,
        **(env or {}),
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "graphrec.api.main:app_from_environment",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        # uvicorn closes a keep-alive connection after 5 idle seconds. On a loaded machine the
        # first connections opened by the warm-up below can sit idle that long before the burst,
        # and a request sent as the server closes one fails with "Server disconnected without
        # sending a response" (seen in CI). The test is about bounded explanations, not that race.
        "--timeout-keep-alive",
        "300",
    ]
    data_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(command, env=env, cwd=data_dir)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, "the API process exited"
            try:
                if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the API process did not start"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def api_process() -> Callable[..., Any]:
    """``with api_process(graph, data_dir, api_key, env) as url``: a real API process."""
    return server_process
