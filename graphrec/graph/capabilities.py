"""What the connected server can do. Code that needs an optional feature asks here first.

Engine-specific Cypher is allowed only behind one of these flags.
"""

from __future__ import annotations

from dataclasses import dataclass

from neo4j.exceptions import ClientError, DatabaseError

from graphrec.graph.client import GraphClient


@dataclass(frozen=True)
class Capabilities:
    agent: str  # the Bolt agent string, e.g. "Neo4j/5.26.0 compatible (ArcadeDB 26.10.2)"
    product: str  # "Neo4j Kernel" or what the server says it emulates
    version: str  # the version the server reports through dbms.components()
    edition: str
    bolt_protocol: str
    vector_index: bool  # CREATE VECTOR INDEX + db.index.vector.queryNodes

    @property
    def is_arcadedb(self) -> bool:
        return "arcadedb" in self.agent.lower()


def probe(graph: GraphClient) -> Capabilities:
    """Ask the server who it is and whether it has a native vector index.

    The vector index is detected, not assumed from the version: a server is
    considered to have it when it lists ``db.index.vector.queryNodes`` among its
    procedures. A server that cannot answer ``SHOW PROCEDURES`` has none.
    """
    info = graph.driver.get_server_info()
    product, version, edition = "unknown", "unknown", "unknown"
    try:
        rows = graph.read("graph/components")
    except (ClientError, DatabaseError):
        rows = []
    if rows:
        product = rows[0]["name"]
        version = ", ".join(rows[0]["versions"] or [])
        edition = rows[0]["edition"]
    try:
        vector_rows = graph.read("graph/vector_procedures")
        vector_index = bool(vector_rows and vector_rows[0]["n"])
    except (ClientError, DatabaseError):
        vector_index = False
    return Capabilities(
        agent=info.agent,
        product=product,
        version=version,
        edition=edition,
        bolt_protocol=".".join(map(str, info.protocol_version)),
        vector_index=vector_index,
    )
