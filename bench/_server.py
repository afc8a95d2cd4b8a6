"""The embedded server every benchmark starts: either engine, in a temporary data dir, free ports."""

from __future__ import annotations

import os
from pathlib import Path

from graphrec.graph.client import ConnectionTarget, GraphClient
from graphrec.graph.engines import (
    ENGINE_NAMES,
    ArcadeDBServer,
    EmbeddedServer,
    Neo4jServer,
    free_port,
)
from graphrec.graph.reset import reset_graph


def fresh_target(server: EmbeddedServer) -> ConnectionTarget:
    """The server's one database, emptied with graphrec's engine-neutral reset (the schema
    re-applied): what each benchmark phase starts from, on either engine."""
    target = server.target()
    with GraphClient.open(target) as graph:
        reset_graph(graph)
    return target


def bench_server(
    data_dir: Path,
    engine: str = "arcadedb",
    heap: str | None = None,
    *,
    plugins: tuple[str, ...] = (),
    build_dir: Path | None = None,
) -> EmbeddedServer:
    """A server of ``engine`` (``arcadedb`` or ``neo4j``) under ``data_dir``, not started.

    Neo4j only: ``plugins`` (``"gds"``, ``"apoc"``) and the launcher's ``build_dir`` (default:
    ``$GRAPHREC_EMBEDDED_NEO4J_BUILD_DIR``, else a build under ``data_dir``).
    """
    if engine == "arcadedb":
        if plugins:
            raise ValueError("plugins load into the neo4j engine only")
        return ArcadeDBServer(data_dir, bolt_port=free_port(), http_port=free_port(), heap=heap)
    if engine == "neo4j":
        if build_dir is None and os.environ.get("GRAPHREC_EMBEDDED_NEO4J_BUILD_DIR"):
            build_dir = Path(os.environ["GRAPHREC_EMBEDDED_NEO4J_BUILD_DIR"])
        return Neo4jServer(
            data_dir, bolt_port=free_port(), heap=heap, plugins=plugins, build_dir=build_dir
        )
    raise ValueError(f"engine {engine!r}: expected one of {', '.join(ENGINE_NAMES)}")
