"""The embedded graph engines, started by ``graphrec db start`` as background processes.

- ``arcadedb`` (default): :class:`~graphrec.graph.engines.arcadedb.ArcadeDBServer`,
  from PyPI, needs nothing but pip.
- ``neo4j``: :class:`~graphrec.graph.engines.neo4j.Neo4jServer`, Neo4j Community
  from Maven Central, needs Java 17+ and Maven.

Both bind Bolt to 127.0.0.1 and keep a generated password in a 0600 file.
Only one engine runs on a data dir at a time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphrec.graph.engines.arcadedb import ArcadeDBServer
from graphrec.graph.engines.base import ENGINES, LAST_ENGINE_FILE, EmbeddedServer, ServerStatus
from graphrec.graph.engines.neo4j import Neo4jServer
from graphrec.graph.engines.processes import free_port, port_free
from graphrec.graph.errors import EmbeddedServerError

ENGINE_NAMES = tuple(ENGINES)


def embedded_server(settings: Any, engine: str | None = None) -> EmbeddedServer:
    """The embedded server of ``settings``' data dir.

    ``engine`` names it explicitly. Without it, the first of: the engine running
    on the data dir; ``GRAPHREC_EMBEDDED_ENGINE`` when set; the engine that last
    started on the data dir; ``arcadedb``.
    """
    if engine is None:
        engine = running_engine(settings)
    if engine is None and "embedded_engine" not in settings.model_fields_set:
        engine = last_engine(settings.data_dir)
    if engine is None:
        engine = settings.embedded_engine
    try:
        cls = ENGINES[engine]
    except KeyError:
        raise EmbeddedServerError(
            f"unknown engine {engine!r}: choose one of {', '.join(ENGINE_NAMES)}"
        ) from None
    return cls.from_settings(settings)


def last_engine(data_dir: Path) -> str | None:
    """The engine that last started on ``data_dir`` (None when none did)."""
    try:
        name = (Path(data_dir).expanduser() / LAST_ENGINE_FILE).read_text().strip()
    except OSError:
        return None
    return name if name in ENGINES else None


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
    "last_engine",
    "port_free",
    "running_engine",
]
