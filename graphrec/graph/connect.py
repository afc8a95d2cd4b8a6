"""Resolve where the graph is, from settings: a configured server, or the embedded one."""

from __future__ import annotations

import sys
from typing import Any

from graphrec.config import Settings
from graphrec.graph.async_client import AsyncGraphClient
from graphrec.graph.client import ConnectionTarget, GraphClient
from graphrec.graph.engines import embedded_server
from graphrec.graph.engines.base import Progress


def _to_stderr(message: str) -> None:
    print(f"graphrec: {message}", file=sys.stderr, flush=True)


def resolve_target(
    settings: Settings, *, start_embedded: bool = True, progress: Progress | None = _to_stderr
) -> ConnectionTarget:
    """Where to connect.

    ``GRAPHREC_NEO4J_URI`` wins when set (any Bolt server, ``neo4j://`` routing
    URIs included). Otherwise the embedded server under ``data_dir`` is used:
    the engine already running there, else ``GRAPHREC_EMBEDDED_ENGINE``, started
    first when ``start_embedded`` and not already running. ``progress`` hears
    about a first-use build (default: one line on stderr).
    """
    if settings.neo4j_uri is not None:
        password = settings.neo4j_password.get_secret_value() if settings.neo4j_password else None
        return ConnectionTarget(
            uri=settings.neo4j_uri,
            user=settings.neo4j_user,
            password=password,
            database=settings.neo4j_database,
        )
    server = embedded_server(settings)
    if start_embedded:
        return server.ensure_running(progress)
    return server.target()


def connect(settings: Settings, **driver_config: Any) -> GraphClient:
    """Open a :class:`GraphClient` on the configured graph (starting the embedded one if needed)."""
    return GraphClient.open(resolve_target(settings), **driver_config)


async def connect_async(settings: Settings, **driver_config: Any) -> AsyncGraphClient:
    """Open an :class:`AsyncGraphClient`. The embedded server must already be running or startable."""
    return await AsyncGraphClient.open(resolve_target(settings), **driver_config)
