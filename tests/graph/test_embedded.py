"""The embedded server's life cycle, with servers of their own (not the session one).

Every test here runs on the session's engine (``GRAPHREC_TEST_ENGINE``), so on both.
"""

from __future__ import annotations

import logging
import socket
import stat
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from graphrec.graph import capabilities
from graphrec.graph.capabilities import probe, share_probe
from graphrec.graph.client import ConnectionTarget, GraphClient
from graphrec.graph.embedded import ENGINE_NAMES, EmbeddedServer, free_port
from graphrec.graph.errors import (
    EmbeddedServerError,
    GraphAuthError,
    GraphUnavailableError,
    PortInUseError,
)


def _count_users(server: EmbeddedServer) -> int:
    with GraphClient.open(server.target()) as graph:
        return graph.run("MATCH (u:User) RETURN count(u) AS n")[0]["n"]


def _write_batches(server: EmbeddedServer, prefix: str, batches: int, size: int) -> None:
    rows = [{"id": f"{prefix}{n}", "properties": {}} for n in range(batches * size)]
    with GraphClient.open(server.target()) as graph:
        stats = graph.write_batches("ingest/merge_users", rows, batch_size=size)
    assert stats.batches == batches


@pytest.mark.slow
def test_data_survives_stop_start_and_a_crash(
    server_factory: Callable[..., EmbeddedServer],
    test_engine: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = server_factory()
    status = server.start()
    assert status.running and not status.already_running
    assert status.engine == test_engine and status.version
    assert status.uri.startswith("bolt://127.0.0.1:")
    assert stat.S_IMODE(server.password_file.stat().st_mode) == 0o600
    password = server.password_file.read_text().strip()
    assert len(password) >= 24

    again = server.start()
    assert again.already_running and again.pid == status.pid

    # A client that keeps its pooled connection open across the stop, as a running API does:
    # the server still stops on its first signal (escalating would log a warning).
    with GraphClient.open(server.target()) as held:
        held.apply_schema()
        _write_batches(server, "a", batches=3, size=100)
        with caplog.at_level(logging.WARNING, logger="graphrec.graph.engines.base"):
            assert server.stop() is True
    assert not caplog.records, caplog.text
    assert not server.status().running
    assert server.stop() is False

    restarted = server.start()
    assert restarted.pid != status.pid
    assert server.password_file.read_text().strip() == password  # generated once
    assert _count_users(server) == 300

    # kill -9 after committed batches: the next start recovers every one of them.
    _write_batches(server, "b", batches=4, size=250)
    assert server.kill()
    assert not server.status().running
    recovered = server.start()
    assert recovered.running
    assert _count_users(server) == 1_300


def test_port_in_use_is_a_clear_error(server_factory: Callable[..., EmbeddedServer]) -> None:
    server = server_factory()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", server.bolt_port))
        blocker.listen()
        with pytest.raises(PortInUseError) as info:
            server.start()
    message = str(info.value)
    assert f"port {server.bolt_port} on 127.0.0.1 is already in use" in message
    assert "GRAPHREC_EMBEDDED_BOLT_PORT" in message and "\n" not in message
    assert not server.status().running


def test_the_other_engine_is_refused_on_a_running_data_dir(
    embedded_server: EmbeddedServer, server_factory: Callable[..., EmbeddedServer]
) -> None:
    [other] = [name for name in ENGINE_NAMES if name != embedded_server.engine]
    intruder = server_factory(embedded_server.data_dir, engine=other)
    with pytest.raises(EmbeddedServerError) as info:
        intruder.start()
    message = str(info.value)
    assert f"the {embedded_server.engine} engine already runs on data dir" in message
    assert f"graphrec db stop --engine {embedded_server.engine}" in message
    assert "\n" not in message
    assert not intruder.status().running
    assert embedded_server.status().running


def test_unusable_data_dir_is_a_clear_error(
    tmp_path: Path, server_factory: Callable[..., EmbeddedServer]
) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    with pytest.raises(EmbeddedServerError, match="is not usable"):
        server_factory(not_a_dir).start()


def test_status_of_a_server_never_started(
    server_factory: Callable[..., EmbeddedServer], test_engine: str
) -> None:
    server = server_factory()
    status = server.status()
    assert not status.running
    assert status.pid is None
    assert status.engine == test_engine
    with pytest.raises(EmbeddedServerError, match="no password file") as info:
        server.target()
    assert f"graphrec db start --engine {test_engine}" in str(info.value)


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


def test_capability_probe_on_embedded(graph: GraphClient, test_engine: str) -> None:
    caps = probe(graph)
    assert caps.engine == test_engine
    assert caps.agent.startswith("Neo4j/")
    assert caps.version.startswith("5.")
    assert caps.bolt_protocol.startswith(("4.", "5."))
    if test_engine == "neo4j":
        assert caps.product == "Neo4j Kernel" and caps.edition == "community"
        assert caps.version.startswith("5.26.")
        assert caps.vector_index_ddl and caps.vector_query
        assert caps.cosine_is_scaled  # vector.similarity.cosine gives (1 + cos) / 2
        assert caps.merge_relationships and caps.call_in_transactions and caps.count_store
        assert caps.transaction_timeout
        # The test servers load both plugins (tests/conftest.py): versions as they report them.
        assert caps.plugins["gds"].startswith("2.13.")
        assert caps.plugins["apoc"].startswith("5.26.")
    else:  # ArcadeDB's Bolt plugin: no Cypher vector index, no server-side timeout
        assert not caps.vector_index_ddl and not caps.vector_query
        assert not caps.cosine_is_scaled
        assert not caps.call_in_transactions and not caps.transaction_timeout
        assert caps.plugins == {}
    assert caps.vector_index == (
        caps.vector_query and (caps.vector_index_ddl or caps.vector_create_procedure)
    )


def test_the_probe_sends_nothing_the_engine_refuses(
    graph: GraphClient, test_engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused statement on ArcadeDB can stall a connection being opened beside it (see
    graphrec.graph.capabilities), so the probe asks each engine only what it answers."""
    asked: dict[str, bool] = {}
    rows = capabilities._rows

    def recording(client: GraphClient, name: str) -> list[dict] | None:
        answer = rows(client, name)
        asked[name] = answer is not None
        return answer

    monkeypatch.setattr(capabilities, "_rows", recording)
    caps = probe(graph, refresh=True)
    assert asked and all(asked.values()), asked
    assert ("graph/probe_vector_index_ddl" in asked) == (test_engine == "neo4j")
    assert caps.vector_index_ddl == (test_engine == "neo4j")


def test_a_shared_probe_is_not_asked_again(
    graph: GraphClient, embedded_server: EmbeddedServer
) -> None:
    with GraphClient.open(embedded_server.target()) as other:
        shared = share_probe(graph, other)
        assert probe(other) is shared is probe(graph)
