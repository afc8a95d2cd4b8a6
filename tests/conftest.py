"""Shared fixtures: one real embedded graph server per test session, an empty graph per test.

Nothing here mocks the database: tests talk Bolt to the engine named by
``GRAPHREC_TEST_ENGINE`` (``arcadedb``, the default, or ``neo4j``) through the
official neo4j driver, exactly as graphrec does in production. ``make test``
runs the whole suite on ArcadeDB, then the graph tests (marker ``graph``,
given to every test that uses the server) again on Neo4j.

The server has one database (Neo4j Community allows no other), so each test
that wants an empty graph gets it through :func:`graphrec.graph.reset.reset_graph`.
:class:`GraphState` remembers what the database holds, so that fixtures that
build the same read-only graph for test after test build it once.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from graphrec.graph.client import GraphClient
from graphrec.graph.embedded import ENGINE_NAMES, EmbeddedServer, free_port
from graphrec.graph.engines import ArcadeDBServer, Neo4jServer
from graphrec.graph.reset import reset_graph

TEST_ENGINE = os.environ.get("GRAPHREC_TEST_ENGINE", "arcadedb")
if TEST_ENGINE not in ENGINE_NAMES:
    raise pytest.UsageError(
        f"GRAPHREC_TEST_ENGINE={TEST_ENGINE!r}: expected one of {', '.join(ENGINE_NAMES)}"
    )
#: Where the Neo4j launcher is built once and reused by every session (inside the venv,
#: so a fresh clone builds it on its first `make test` and `make clean-venv` removes it).
NEO4J_BUILD_DIR = Path(
    os.environ.get("GRAPHREC_TEST_NEO4J_BUILD_DIR", Path(sys.prefix) / "graphrec-neo4j-launcher")
)

#: Plugins of every Neo4j test server, so the GDS peers and the probe's plugin report are
#: tested on the engine that has them (one launcher build, cached like the plain one).
NEO4J_TEST_PLUGINS = ("apoc", "gds")

# Keep a user's real configuration out of the tests.
for _name in list(os.environ):
    if _name.startswith("GRAPHREC_"):
        del os.environ[_name]

#: Fixtures whose tests touch a graph server; such tests get the ``graph`` marker.
GRAPH_FIXTURES = {"embedded_server", "server_factory"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if GRAPH_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.graph)
        only = item.get_closest_marker("engine_only")
        if only is not None and only.args[0] != TEST_ENGINE:
            reason = only.kwargs.get("reason", "")
            item.add_marker(pytest.mark.skip(reason=f"{only.args[0]} only: {reason}"))


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> Iterator[None]:
    """The test graphs are tiny: OpenMP threads cost more than they give, and on a busy
    machine every parallel op waits for a descheduled thread (model tests ran 5x slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def distinct_free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def make_server(data_dir: Path, engine: str = TEST_ENGINE, **options: Any) -> EmbeddedServer:
    """A server of ``engine`` on free ports under ``data_dir`` (small memory settings)."""
    options.setdefault("start_timeout", 300)
    if engine == "arcadedb":
        bolt, http = distinct_free_ports(2)
        return ArcadeDBServer(data_dir, bolt_port=bolt, http_port=http, **options)
    options.setdefault("heap", "768m")
    options.setdefault("page_cache", "64m")
    options.setdefault("plugins", NEO4J_TEST_PLUGINS)
    return Neo4jServer(data_dir, bolt_port=free_port(), build_dir=NEO4J_BUILD_DIR, **options)


@pytest.fixture(scope="session")
def neo4j_build_dir() -> Path:
    """The Neo4j launcher build cache the tests share."""
    return NEO4J_BUILD_DIR


@pytest.fixture(scope="session")
def test_engine() -> str:
    """The engine this session tests: ``arcadedb`` or ``neo4j``."""
    return TEST_ENGINE


@pytest.fixture(scope="session")
def make_engine_server() -> Callable[..., EmbeddedServer]:
    """``make_engine_server(data_dir, **options)``: a server of the engine under test (not
    started), for session fixtures that need a database of their own."""
    return make_server


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., EmbeddedServer]]:
    """``server_factory(**options)``: a server of its own (not started); stopped afterwards."""
    made: list[EmbeddedServer] = []

    def make(data_dir: Path | None = None, **options: Any) -> EmbeddedServer:
        server = make_server(data_dir or tmp_path / f"data{len(made)}", **options)
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop()


class GraphState:
    """What the session server's single database holds now.

    ``holds`` names a graph a fixture built (``None``: unknown, e.g. after a test
    that wrote). A fixture that finds its own name there may reuse the graph.
    """

    def __init__(self) -> None:
        self.holds: str | None = None


@pytest.fixture(scope="session")
def embedded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    """The session's server, on free ports in a temporary data dir."""
    server = make_server(tmp_path_factory.mktemp("graph"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def graph_state() -> GraphState:
    return GraphState()


@pytest.fixture
def graph(embedded_server: EmbeddedServer, graph_state: GraphState) -> Iterator[GraphClient]:
    """A client on an empty graph with graphrec's schema applied (reset before the test)."""
    with GraphClient.open(embedded_server.target()) as client:
        graph_state.holds = None
        reset_graph(client)
        yield client


@pytest.fixture
def shared_graph_of(
    embedded_server: EmbeddedServer, graph_state: GraphState
) -> Iterator[Callable[[str, Callable[[GraphClient], None]], GraphClient]]:
    """``shared_graph_of(name, build)``: the graph ``build`` makes, for tests that only read.

    Built on an empty graph the first time, and again only when another test
    used the database in between. The client is closed after the test.
    """
    clients: list[GraphClient] = []

    def get(name: str, build: Callable[[GraphClient], None]) -> GraphClient:
        client = GraphClient.open(embedded_server.target())
        clients.append(client)
        if graph_state.holds != name:
            graph_state.holds = None
            reset_graph(client)
            build(client)
            graph_state.holds = name
        return client

    yield get
    for client in clients:
        client.close()


@pytest.fixture
def graph_env(
    embedded_server: EmbeddedServer, graph: GraphClient, tmp_path: Path
) -> dict[str, str]:
    """Environment variables that point a graphrec subprocess at the test's graph."""
    return env_for(graph.target, tmp_path / "data")


def env_for(target: Any, data_dir: Path) -> dict[str, str]:
    """The environment of a graphrec subprocess (or CLI run) on ``target``'s database."""
    return {
        **os.environ,
        "GRAPHREC_NEO4J_URI": target.uri,
        "GRAPHREC_NEO4J_USER": target.user or "",
        "GRAPHREC_NEO4J_PASSWORD": target.password or "",
        "GRAPHREC_NEO4J_DATABASE": target.database,
        "GRAPHREC_DATA_DIR": str(data_dir),
    }


@pytest.fixture(name="env_for", scope="session")
def env_for_fixture() -> Callable[[Any, Path], dict[str, str]]:
    """``env_for(target, data_dir)``: a graphrec subprocess's environment on ``target``."""
    return env_for
