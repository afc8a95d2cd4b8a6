"""A ``neo4j://`` routing URI: the driver asks the server for a routing table (Bolt ROUTE)
and sends reads to readers, writes to writers. The embedded server answers ROUTE with
itself in every role, so the whole client works through routing as it will on a cluster."""

from __future__ import annotations

from dataclasses import replace

from graphrec.graph.client import GraphClient


def test_routing_uri_reads_and_writes(graph: GraphClient) -> None:
    routed = replace(graph.target, uri=graph.target.uri.replace("bolt://", "neo4j://", 1))
    assert routed.uri.startswith("neo4j://")
    with GraphClient.open(routed) as client:
        assert client.read("graph/ping") == [{"ok": 1}]
        client.run_write("MERGE (:User {id: $id})", {"id": "routed"})
        assert client.run("MATCH (u:User {id: $id}) RETURN u.id AS id", {"id": "routed"}) == [
            {"id": "routed"}
        ]
        table = client.driver._pool.routing_tables[graph.target.database]  # noqa: SLF001
        assert table.readers and table.writers  # the server answered ROUTE
