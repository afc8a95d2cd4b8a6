"""The embedded graph engines, started by ``graphrec db start`` as background processes.

- ``arcadedb`` (default): :class:`~graphrec.graph.engines.arcadedb.ArcadeDBServer`,
  from PyPI, needs nothing but pip.
- ``neo4j``: :class:`~graphrec.graph.engines.neo4j.Neo4jServer`, Neo4j Community
  from Maven Central, needs Java 17+ and Maven.

Both bind Bolt to 127.0.0.1 and keep a generated password in a 0600 file.
Only one engine runs on a data dir at a time.
"""

from __future__ import annotations

from typing import Any

from graphrec.graph.engines.arcadedb import ArcadeDBServer
from graphrec.graph.engines.base import ENGINES, EmbeddedServer, ServerStatus
from graphrec.graph.engines.neo4j import Neo4jServer
from graphrec.graph.engines.processes import free_port, port_free
from graphrec.graph.errors import EmbeddedServerError

ENGINE_NAMES = tuple(ENGINES)


def embedded_server(settings: Any, engine: str | None = None) -> EmbeddedServer:
    """The embedded server of ``settings``' data dir.

    ``engine`` names it explicitly. Without it: the engine already running on the
    data dir, if one is, else ``settings.embedded_engine`` (GRAPHREC_EMBEDDED_ENGINE).
    """
    if engine is None:
        running = running_engine(settings)
        engine = running or settings.embedded_engine
    try:
        cls = ENGINES[engine]
    except KeyError:
        raise EmbeddedServerError(
            f"unknown engine {engine!r}: choose one of {', '.join(ENGINE_NAMES)}"
        ) from None
    return cls.from_settings(settings)


def running_engine(settings: Any) -> str | None:
    """The engine whose server runs on ``settings.data_dir``, or None."""
    for name, cls in ENGINES.items():
        if cls(settings.data_dir).status().running:
            return name
    return None


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
