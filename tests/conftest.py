"""Shared fixtures: one real embedded graph server per test session, a fresh database per test.

Nothing here mocks the database: tests talk Bolt to ArcadeDB through the
official neo4j driver, exactly as graphrec does in production.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from graphrec.graph.client import GraphClient
from graphrec.graph.embedded import EmbeddedServer, free_port

# Keep a user's real configuration out of the tests.
for _name in list(os.environ):
    if _name.startswith("GRAPHREC_"):
        del os.environ[_name]


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


@pytest.fixture(scope="session")
def embedded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    """An embedded ArcadeDB server on free ports in a temporary data dir, for the whole session."""
    bolt, http = distinct_free_ports(2)
    server = EmbeddedServer(
        tmp_path_factory.mktemp("graph"), bolt_port=bolt, http_port=http, start_timeout=180
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def graph(embedded_server: EmbeddedServer) -> Iterator[GraphClient]:
    """A client on a brand-new, empty database with graphrec's schema applied; dropped afterwards."""
    name = f"t{uuid.uuid4().hex[:16]}"
    embedded_server.create_database(name)
    target = replace(embedded_server.target(), database=name)
    with GraphClient.open(target) as client:
        client.apply_schema()
        yield client
    embedded_server.drop_database(name)


@pytest.fixture
def graph_env(
    embedded_server: EmbeddedServer, graph: GraphClient, tmp_path: Path
) -> dict[str, str]:
    """Environment variables that point a graphrec subprocess at the test's database."""
    target = graph.target
    return {
        **os.environ,
        "GRAPHREC_NEO4J_URI": target.uri,
        "GRAPHREC_NEO4J_USER": target.user or "",
        "GRAPHREC_NEO4J_PASSWORD": target.password or "",
        "GRAPHREC_NEO4J_DATABASE": target.database,
        "GRAPHREC_DATA_DIR": str(tmp_path / "data"),
    }
