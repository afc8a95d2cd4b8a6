"""The embedded server's life cycle, with servers of their own (not the session one)."""

from __future__ import annotations

import socket
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from graphrec.graph.capabilities import probe
from graphrec.graph.client import ConnectionTarget, GraphClient
from graphrec.graph.embedded import EmbeddedServer, free_port
from graphrec.graph.errors import (
    EmbeddedServerError,
    GraphAuthError,
    GraphUnavailableError,
    PortInUseError,
)


def _server(tmp_path: Path) -> EmbeddedServer:
    bolt = free_port()
    http = free_port()
    while http == bolt:
        http = free_port()
    return EmbeddedServer(tmp_path / "data", bolt_port=bolt, http_port=http, start_timeout=180)


@pytest.mark.slow
def test_data_survives_stop_and_start(tmp_path: Path) -> None:
    server = _server(tmp_path)
    status = server.start()
    try:
        assert status.running and not status.already_running
        assert status.uri.startswith("bolt://127.0.0.1:")
        mode = stat.S_IMODE(server.password_file.stat().st_mode)
        assert mode == 0o600
        password = server.password_file.read_text().strip()
        assert len(password) >= 24

        again = server.start()
        assert again.already_running and again.pid == status.pid

        with GraphClient.open(server.target()) as graph:
            graph.apply_schema()
            graph.write_batches("ingest/merge_users", [{"id": "keep-me", "properties": {}}])
        assert server.stop() is True
        assert not server.status().running
        assert server.stop() is False

        restarted = server.start()
        assert restarted.pid != status.pid
        assert server.password_file.read_text().strip() == password  # generated once
        with GraphClient.open(server.target()) as graph:
            assert graph.run("MATCH (u:User) RETURN u.id AS id") == [{"id": "keep-me"}]
    finally:
        server.stop()


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    server = _server(tmp_path)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", server.bolt_port))
        blocker.listen()
        with pytest.raises(
            PortInUseError, match=f"port {server.bolt_port} on 127.0.0.1 is already in use"
        ):
            server.start()
    assert not server.status().running


def test_unusable_data_dir_is_a_clear_error(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    server = EmbeddedServer(not_a_dir, bolt_port=free_port(), http_port=free_port())
    with pytest.raises(EmbeddedServerError, match="is not usable"):
        server.start()


def test_status_of_a_server_never_started(tmp_path: Path) -> None:
    status = _server(tmp_path).status()
    assert not status.running
    assert status.pid is None
    with pytest.raises(EmbeddedServerError, match="no password file"):
        _server(tmp_path).target()


def test_wrong_password_names_uri_and_cause(embedded_server: EmbeddedServer) -> None:
    target = replace(embedded_server.target(), password="definitely-wrong")
    with pytest.raises(GraphAuthError) as info:
        GraphClient.open(target)
    assert target.uri in str(info.value)
    assert "authentication failed" in str(info.value)


def test_server_down_names_uri() -> None:
    target = ConnectionTarget(uri=f"bolt://127.0.0.1:{free_port()}", user="neo4j", password="x")
    with pytest.raises(GraphUnavailableError) as info:
        GraphClient.open(target, connection_timeout=2.0)
    assert target.uri in str(info.value)


def test_malformed_uri_is_reported() -> None:
    target = ConnectionTarget(uri="bolt://", user="neo4j", password="x")
    with pytest.raises(GraphUnavailableError, match="bolt://"):
        GraphClient.open(target)


def test_capability_probe_on_embedded(graph: GraphClient) -> None:
    caps = probe(graph)
    assert caps.is_arcadedb
    assert caps.agent.startswith("Neo4j/")
    assert caps.version.startswith("5.")
    assert caps.vector_index is False  # ArcadeDB's Bolt plugin has no Cypher vector index
    assert caps.bolt_protocol.startswith(("4.", "5."))
