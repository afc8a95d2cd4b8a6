"""The embedded server every benchmark starts: either engine, in a temporary data dir, free ports."""

from __future__ import annotations

from pathlib import Path

from graphrec.graph.engines import (
    ENGINE_NAMES,
    ArcadeDBServer,
    EmbeddedServer,
    Neo4jServer,
    free_port,
)


def bench_server(
    data_dir: Path, engine: str = "arcadedb", heap: str | None = None
) -> EmbeddedServer:
    """A server of ``engine`` (``arcadedb`` or ``neo4j``) under ``data_dir``, not started."""
    if engine == "arcadedb":
        return ArcadeDBServer(data_dir, bolt_port=free_port(), http_port=free_port(), heap=heap)
    if engine == "neo4j":
        return Neo4jServer(data_dir, bolt_port=free_port(), heap=heap)
    raise ValueError(f"engine {engine!r}: expected one of {', '.join(ENGINE_NAMES)}")
