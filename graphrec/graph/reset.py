"""Empty the graph, on any engine, without dropping the database.

Neo4j Community has one user database, so "a clean database" means a reset:
delete every node (and its relationships) in batches, drop every index and
constraint that graphrec's schema does not create (vector indexes, a user's
own), and apply the schema again. Tests and benchmarks use this; so can a user
(`graphrec db reset`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from neo4j.exceptions import ClientError, DatabaseError

from graphrec.graph import cypher
from graphrec.graph.client import GraphClient

#: Nodes deleted per transaction (with their relationships).
RESET_BATCH = 10_000
_SCHEMA_NAME = re.compile(r"CREATE\s+(?:CONSTRAINT|INDEX)\s+(\w+)", re.IGNORECASE)


@dataclass(frozen=True)
class ResetStats:
    nodes_deleted: int
    indexes_dropped: list[str]
    constraints_dropped: list[str]


def schema_names() -> set[str]:
    """Names of the constraints and indexes ``cypher/schema/`` creates."""
    names = set()
    for name in cypher.names("schema"):
        names.update(_SCHEMA_NAME.findall(cypher.load(name)))
    return names


def _listed(graph: GraphClient, statement: str) -> list[dict]:
    """Rows of a SHOW statement; none on a server that does not support it."""
    try:
        return graph.read(statement)
    except (ClientError, DatabaseError):
        return []


def reset_graph(graph: GraphClient, *, batch_size: int = RESET_BATCH) -> ResetStats:
    """Delete everything in ``graph``'s database and re-apply graphrec's schema.

    Idempotent: a reset that stopped halfway is finished by the next one.
    Token-lookup indexes (Neo4j's label and type scans) and the schema's own
    constraints stay.
    """
    deleted = 0
    while True:
        rows = graph.write_rows("graph/delete_batch", limit=batch_size)
        count = rows[0]["deleted"] if rows else 0
        deleted += count
        if count == 0:
            break
    keep = schema_names()
    dropped_constraints = []
    for row in _listed(graph, "graph/show_constraints"):
        if row["name"] not in keep:
            graph.write("graph/drop_constraint", name=row["name"])
            dropped_constraints.append(row["name"])
    dropped_indexes = []
    for row in _listed(graph, "graph/show_indexes"):
        if row.get("type") == "LOOKUP" or row.get("owningConstraint") or row["name"] in keep:
            continue
        graph.write("graph/drop_index", name=row["name"])
        dropped_indexes.append(row["name"])
    graph.apply_schema()
    return ResetStats(deleted, dropped_indexes, dropped_constraints)
