"""Resolve where the graph is, from settings: a configured server, or the embedded one."""

from __future__ import annotations

from typing import Any

from graphrec.config import Settings
from graphrec.graph.client import AsyncGraphClient, ConnectionTarget, GraphClient
from graphrec.graph.embedded import EmbeddedServer


def resolve_target(settings: Settings, *, start_embedded: bool = True) -> ConnectionTarget:
    """Where to connect.

    ``GRAPHREC_NEO4J_URI`` wins when set (any Bolt server, ``neo4j://`` routing
    URIs included). Otherwise the embedded server under ``data_dir`` is used,
    started first when ``start_embedded`` and not already running.
    """
    if settings.neo4j_uri is not None:
        password = settings.neo4j_password.get_secret_value() if settings.neo4j_password else None
        return ConnectionTarget(
            uri=settings.neo4j_uri,
            user=settings.neo4j_user,
            password=password,
            database=settings.neo4j_database,
        )
    server = EmbeddedServer.from_settings(settings)
    if start_embedded:
        return server.ensure_running()
    return server.target()


def connect(settings: Settings, **driver_config: Any) -> GraphClient:
    """Open a :class:`GraphClient` on the configured graph (starting the embedded one if needed)."""
    return GraphClient.open(resolve_target(settings), **driver_config)


async def connect_async(settings: Settings, **driver_config: Any) -> AsyncGraphClient:
    """Open an :class:`AsyncGraphClient`. The embedded server must already be running or startable."""
    return await AsyncGraphClient.open(resolve_target(settings), **driver_config)
