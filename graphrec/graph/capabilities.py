"""What the connected server can do. Code that needs an optional feature asks here first.

Engine-specific Cypher is allowed only behind one of these flags. Features a
query can detect are detected (the vector index DDL, its procedures, the scale
of ``vector.similarity.cosine``, loaded plugins); the rest follow from the
engine the server turns out to be (Neo4j, or ArcadeDB's Bolt plugin), because
no query tells them apart reliably: ArcadeDB answers ``EXPLAIN`` of statements
it cannot run, and plans relationship ``MERGE`` far slower than Neo4j.

The probe sends ArcadeDB no statement it is known to refuse. ArcadeDB 26.10's Bolt
plugin can stall another connection when a statement fails while that connection
is being opened: its read never answers (reproduced with a syntax error beside six
reads on new connections, in two runs of three; never with warm connections), or,
as seen once in CI, it answers with the other statement's error. A service probed
while its other clients opened, so a refused probe there became a request's 503.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from neo4j.exceptions import ClientError, DatabaseError

from graphrec.graph.client import GraphClient

_PROBE_ERRORS = (ClientError, DatabaseError)


@dataclass(frozen=True)
class Capabilities:
    agent: str  # the Bolt agent string, e.g. "Neo4j/5.26.0 compatible (ArcadeDB 26.10.2)"
    product: str  # "Neo4j Kernel" or what the server says it emulates
    version: str  # the version the server reports through dbms.components()
    edition: str
    bolt_protocol: str
    #: ``CREATE VECTOR INDEX`` is accepted (Neo4j 5.15+ syntax).
    vector_index_ddl: bool = False
    #: ``db.index.vector.queryNodes`` exists (Neo4j 5.11+).
    vector_query: bool = False
    #: ``db.index.vector.createNodeIndex`` exists (5.11+; deprecated once the DDL came).
    vector_create_procedure: bool = False
    #: ``vector.similarity.cosine`` returns (1 + cos) / 2 (Neo4j) instead of cos (ArcadeDB).
    cosine_is_scaled: bool = False
    #: Loaded plugins: name -> version (``apoc``, ``gds``).
    plugins: dict[str, str] = field(default_factory=dict)

    @property
    def is_arcadedb(self) -> bool:
        return "arcadedb" in self.agent.lower()

    @property
    def engine(self) -> str:
        """``neo4j``, ``arcadedb`` or ``other`` (another Bolt server)."""
        if self.is_arcadedb:
            return "arcadedb"
        if self.product == "Neo4j Kernel" or self.agent.startswith("Neo4j/"):
            return "neo4j"
        return "other"

    @property
    def is_neo4j(self) -> bool:
        return self.engine == "neo4j"

    @property
    def vector_index(self) -> bool:
        """A native vector index can be created and queried."""
        return self.vector_query and (self.vector_index_ddl or self.vector_create_procedure)

    @property
    def merge_relationships(self) -> bool:
        """Relationship ``MERGE`` is the fast, natural form (ArcadeDB's runs at ~5-7k/s)."""
        return self.is_neo4j

    @property
    def joins_bound_ends(self) -> bool:
        """A pattern bound by id at both ends is planned from both ends and joined (Neo4j);
        ArcadeDB expands from one end (see explain/collaborative_one_pattern.cypher)."""
        return self.is_neo4j

    @property
    def call_in_transactions(self) -> bool:
        """``CALL { ... } IN TRANSACTIONS`` in an auto-commit query (Neo4j 4.4+)."""
        return self.is_neo4j and _version_at_least(self.version, (4, 4))

    @property
    def count_store(self) -> bool:
        """``MATCH (n:Label) RETURN count(n)`` is answered from counts, not a scan."""
        return self.is_neo4j

    @property
    def degree_count(self) -> bool:
        """``COUNT { (n)-[:TYPE]-() }`` is read from the node's degree, without expanding
        it (Neo4j 5's subquery syntax); see explain/kg_neighbours_degree_first.cypher."""
        return self.is_neo4j and _version_at_least(self.version, (5,))

    @property
    def transaction_timeout(self) -> bool:
        """The server aborts a transaction past the timeout the driver sends."""
        return self.is_neo4j

    def cosine_to_user(self, score: float) -> float:
        """A ``vector.similarity.cosine`` value as the cosine itself, on any engine."""
        return 2.0 * score - 1.0 if self.cosine_is_scaled else score


def _version_at_least(version: str, minimum: tuple[int, ...]) -> bool:
    numbers = tuple(int(part) for part in re.findall(r"\d+", version)[: len(minimum)])
    return len(numbers) == len(minimum) and numbers >= minimum


def _rows(graph: GraphClient, name: str) -> list[dict] | None:
    try:
        return graph.read(name)
    except _PROBE_ERRORS:
        return None


def probe(graph: GraphClient, *, refresh: bool = False) -> Capabilities:
    """Ask the server who it is and what it has. Cached on ``graph`` (``refresh`` asks again)."""
    cached = getattr(graph, "_capabilities", None)
    if cached is not None and not refresh:
        return cached
    info = graph.driver.get_server_info()
    product, version, edition = "unknown", "unknown", "unknown"
    if rows := _rows(graph, "graph/components"):
        product = rows[0]["name"]
        version = ", ".join(rows[0]["versions"] or [])
        edition = rows[0]["edition"]
    names = set((_rows(graph, "graph/vector_procedures") or [{"names": []}])[0]["names"] or [])
    # ArcadeDB refuses the vector index DDL ("Only standard, RANGE and TEXT index types").
    arcadedb = "arcadedb" in info.agent.lower()
    ddl = not arcadedb and _rows(graph, "graph/probe_vector_index_ddl") is not None
    cosine = _rows(graph, "graph/probe_cosine")
    plugins = {}
    for plugin in ("apoc", "gds"):
        if any(name.startswith(f"{plugin}.") for name in names):
            answer = _rows(graph, f"graph/{plugin}_version")
            plugins[plugin] = str(answer[0]["version"]) if answer else "unknown"
    capabilities = Capabilities(
        agent=info.agent,
        product=product,
        version=version,
        edition=edition,
        bolt_protocol=".".join(map(str, info.protocol_version)),
        vector_index_ddl=ddl,
        vector_query="db.index.vector.queryNodes" in names,
        vector_create_procedure="db.index.vector.createNodeIndex" in names,
        cosine_is_scaled=bool(cosine) and abs(cosine[0]["c"] - 0.5) < 1e-6,
        plugins=plugins,
    )
    graph._capabilities = capabilities  # the client carries its probe
    return capabilities


def share_probe(source: GraphClient, target: GraphClient) -> Capabilities:
    """Give ``target`` (another client of the same server) ``source``'s probe, so that
    ``target`` never probes in the middle of other work."""
    capabilities = probe(source)
    target._capabilities = capabilities
    return capabilities
