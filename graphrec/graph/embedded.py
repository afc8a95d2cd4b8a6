"""The embedded graph server, whichever engine: see :mod:`graphrec.graph.engines`.

Kept as the short import path for the names most code needs.
"""

from graphrec.graph.engines import (
    ENGINE_NAMES,
    ArcadeDBServer,
    EmbeddedServer,
    Neo4jServer,
    ServerStatus,
    embedded_server,
    free_port,
    port_free,
    running_engine,
)

__all__ = [
    "ENGINE_NAMES",
    "ArcadeDBServer",
    "EmbeddedServer",
    "Neo4jServer",
    "ServerStatus",
    "embedded_server",
    "free_port",
    "port_free",
    "running_engine",
]
